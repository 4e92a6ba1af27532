"""``create(name, weights=PATH)``: good files load, bad ones fail with a clear message."""

from __future__ import annotations

import os

import pytest
import torch

import cnnzoo
from cnnzoo.checkpoint import read_checkpoint, save_checkpoint
from cnnzoo.errors import CheckpointError


def test_state_dict_round_trip(tmp_path):
    model = cnnzoo.create("lenet5").eval()
    path = tmp_path / "lenet.pth"
    torch.save(model.state_dict(), path)
    loaded = cnnzoo.create("lenet5", weights=path).eval()
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_cnnzoo_checkpoint_brings_its_kwargs(tmp_path):
    model = cnnzoo.create("emotionnet", num_classes=7).eval()
    path = save_checkpoint(tmp_path / "face_expression.pth", model, model_name="emotionnet",
                           model_kwargs={"num_classes": 7}, labels=["a"] * 7, epoch=3)  # fmt: skip
    loaded = cnnzoo.create("emotionnet", weights=path)
    assert loaded.num_classes == 7
    ckpt = read_checkpoint(path)
    assert ckpt.extra["epoch"] == 3 and ckpt.model == "emotionnet"
    with pytest.raises(CheckpointError, match="holds a 'emotionnet' model, not 'lenet5'"):
        cnnzoo.create("lenet5", weights=path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        cnnzoo.create("lenet5", weights=tmp_path / "nope.pth")
    with pytest.raises(CheckpointError, match="is a directory"):
        cnnzoo.create("lenet5", weights=tmp_path)


def test_damaged_file(tmp_path):
    path = tmp_path / "bad.pth"
    torch.save(cnnzoo.create("lenet5").state_dict(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="damaged or not a PyTorch file"):
        cnnzoo.create("lenet5", weights=path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="damaged"):
        cnnzoo.create("lenet5", weights=text)


def test_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match="holds a list, not a state_dict"):
        cnnzoo.create("lenet5", weights=path)


def test_other_architecture_names_keys(tmp_path):
    path = tmp_path / "mlp.pth"
    torch.save(cnnzoo.create("mlp").state_dict(), path)
    with pytest.raises(CheckpointError) as err:
        cnnzoo.create("lenet5", weights=path)
    msg = str(err.value)
    assert "missing keys: conv1.weight" in msg
    assert "unexpected keys: linear_relu_stack.0.weight" in msg
    assert "another architecture" in msg


def test_other_num_classes_names_shapes(tmp_path):
    path = tmp_path / "lenet7.pth"
    torch.save(cnnzoo.create("lenet5", num_classes=7).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"fc3.weight \(file \[7, 84\], model \[10, 84\]\)"):
        cnnzoo.create("lenet5", weights=path)
    assert cnnzoo.create("lenet5", weights=path, num_classes=7).num_classes == 7


def test_atomic_write_gives_the_usual_mode_and_keeps_an_old_files_mode(tmp_path):
    from cnnzoo.checkpoint import atomic_write

    umask = os.umask(0o022)
    try:
        new = atomic_write(tmp_path / "new.bin", lambda tmp: tmp.write_bytes(b"x"))
        assert new.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
        old = tmp_path / "old.bin"
        old.write_bytes(b"old")
        old.chmod(0o640)
        atomic_write(old, lambda tmp: tmp.write_bytes(b"new"))
        assert old.read_bytes() == b"new" and old.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_atomic_write_failure_leaves_nothing_and_the_old_file_untouched(tmp_path):
    from cnnzoo.checkpoint import atomic_write

    old = tmp_path / "w.pth"
    old.write_bytes(b"old")

    def boom(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(old, boom)
    assert old.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.pth"]
