"""predict and explain: top-k softmax with the checkpoint's labels and preprocessing, saliency
maps and feature maps, the PNG files, and every way a user can get them wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import cnnzoo
from cnnzoo import checkpoint as ckpt_module
from cnnzoo.checkpoint import save_checkpoint
from cnnzoo.cli import main
from cnnzoo.errors import CheckpointError, InvalidArgumentError
from cnnzoo.inspect import (
    default_layer,
    explain,
    feature_grid,
    load_trained,
    predict,
    saliency_map,
)
from cnnzoo.preprocess import preprocess_for

from .conftest import run_cnnzoo

LABELS = ["top", "bottom", "left"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pattern(kind: int, rng: np.random.Generator, side: int = 32) -> np.ndarray:
    """A grey image whose bright half (top, bottom or left) is its class."""
    img = rng.integers(0, 60, size=(side, side)).astype(np.uint8)
    half = side // 2
    if kind == 0:
        img[:half] += 180
    elif kind == 1:
        img[half:] += 180
    else:
        img[:, :half] += 180
    return img


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inspect")


@pytest.fixture(scope="module")
def images(workdir: Path) -> dict[int, Path]:
    """One held-out PNG per class (its stem says the class)."""
    rng = np.random.default_rng(1)
    out = {}
    for kind, name in enumerate(LABELS):
        path = workdir / f"{name}.png"
        Image.fromarray(_pattern(kind, rng)).save(path)
        out[kind] = path
    return out


@pytest.fixture(scope="module")
def trained(workdir: Path) -> Path:
    """lenet5 with 3 classes, trained a few steps on the synthetic halves, saved as
    ``cnnzoo train`` saves it (labels and preprocessing inside)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    kinds = np.arange(96) % 3
    raw = torch.from_numpy(np.stack([_pattern(int(k), rng) for k in kinds]))[:, None]
    pre = preprocess_for("lenet5")
    x, y = pre.normalize(raw), torch.from_numpy(kinds).long()
    model = cnnzoo.create("lenet5", num_classes=3)
    # Plain SGD written out: building a torch.optim optimizer imports torch._dynamo (seconds).
    # One thread: on a shared 2-core machine two threads run this ten times slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(20):
            model.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.05 * p.grad
    finally:
        torch.set_num_threads(threads)
    path = workdir / "best.pth"
    save_checkpoint(
        path,
        model,
        model_name="lenet5",
        model_kwargs={"num_classes": 3},
        labels=LABELS,
        preprocess=pre.to_dict(),
        epoch=1,
    )
    return path


@pytest.fixture(scope="module")
def bare(workdir: Path, trained: Path) -> Path:
    """The same weights as a bare state_dict (no model name, labels or preprocessing)."""
    path = workdir / "bare.pth"
    torch.save(ckpt_module.read_checkpoint(trained).state_dict, path)
    return path


@pytest.fixture(scope="module")
def emotion(workdir: Path) -> Path:
    """An untrained 3-channel emotionnet checkpoint with its own label names."""
    model = cnnzoo.create("emotionnet", num_classes=3)
    path = workdir / "emotion.pth"
    save_checkpoint(
        path,
        model,
        model_name="emotionnet",
        model_kwargs={"num_classes": 3},
        labels=["joy", "calm", "gloom"],
        preprocess=preprocess_for("emotionnet").to_dict(),
    )
    return path


# --------------------------------------------------------------------------------------------
# predict


def test_trained_model_predicts_each_held_out_class(trained, images) -> None:
    results = predict(trained, [images[0], images[1], images[2]])
    assert [r.label for r in results] == LABELS
    assert [r.path for r in results] == [str(images[k]) for k in range(3)]


def test_probabilities_sum_to_one_and_topk_is_sorted(trained, images) -> None:
    (r,) = predict(trained, [images[2]], topk=3)
    assert len(r.probabilities) == 3
    assert sum(r.probabilities) == pytest.approx(1.0, abs=1e-6)
    probs = [p for _, p in r.topk]
    assert probs == sorted(probs, reverse=True)
    assert sorted(label for label, _ in r.topk) == sorted(LABELS)
    assert [r.probabilities[i] for i in r.indices] == probs
    assert r.label == r.topk[0][0] and r.probability == probs[0]


def test_predict_equals_a_manual_forward_on_the_prepared_image(trained, images) -> None:
    model = cnnzoo.create("lenet5", weights=trained).eval()
    pre = preprocess_for("lenet5")
    # The lab's path, written out: PIL -> grey -> 32x32 -> [0, 1] -> MNIST normalisation.
    with Image.open(images[1]) as img:
        arr = np.asarray(img.convert("L").resize((32, 32)), dtype=np.float32) / 255.0
    x = (torch.from_numpy(arr)[None, None] - pre.mean[0]) / pre.std[0]
    with torch.no_grad():
        expected = torch.softmax(model(x), dim=1)[0]
    (r,) = predict(trained, [images[1]], topk=2)
    assert torch.allclose(torch.tensor(r.probabilities), expected, atol=1e-6)
    assert list(r.indices) == expected.topk(2).indices.tolist()


def test_labels_come_from_the_checkpoint(emotion, images) -> None:
    (r,) = predict(emotion, [images[0]], topk=3)
    assert {label for label, _ in r.topk} == {"joy", "calm", "gloom"}
    # A grey PNG goes to emotionnet as 3 channels at 48x48, as the checkpoint says.
    _, labels, pre = load_trained(emotion)
    assert labels == ["joy", "calm", "gloom"] and pre.channels == 3 and pre.size == (48, 48)


def test_many_images_are_batched_with_the_same_answers(trained, images, monkeypatch) -> None:
    import cnnzoo.inspect as inspect_module

    paths = [images[k % 3] for k in range(7)]
    one_batch = predict(trained, paths, topk=3)
    monkeypatch.setattr(inspect_module, "_BATCH", 2)
    batched = predict(trained, paths, topk=3)
    for a, b in zip(one_batch, batched, strict=True):
        assert a.indices == b.indices
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)


def test_bare_state_dict_with_model_falls_back_to_card_and_counts_classes(
    bare, trained, images
) -> None:
    model, labels, pre = load_trained(bare, model="lenet5")
    # num_classes is read from the head's shape; the card names no labels for 3 classes.
    assert model.num_classes == 3 and not model.training
    assert labels == ["class 0", "class 1", "class 2"]
    assert pre == preprocess_for("lenet5")
    from_bare = predict(bare, [images[0]], topk=3, model="lenet5")[0]
    from_ckpt = predict(trained, [images[0]], topk=3)[0]
    assert from_bare.probabilities == pytest.approx(from_ckpt.probabilities)
    assert from_bare.label == "class 0"


def test_bare_state_dict_of_a_default_model_gets_the_card_labels(workdir, images) -> None:
    path = workdir / "emotion_bare.pth"
    torch.save(cnnzoo.create("emotionnet").state_dict(), path)
    _, labels, _ = load_trained(path, model="si100facenet")  # an alias works too
    assert labels == list(cnnzoo.model_info("emotionnet").class_labels)


# --------------------------------------------------------------------------------------------
# explain


def test_saliency_of_a_linear_model_is_its_weight_row() -> None:
    # d(W x + b)_c / dx = W[c], so the map is |W[c]| (max over channels) over its maximum.
    torch.manual_seed(3)
    net = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 5, 3)).eval()
    x = torch.randn(2, 4, 5)
    c = int(net(x[None]).argmax())
    expected = net[1].weight[c].detach().abs().view(2, 4, 5).amax(0)
    got = saliency_map(net, x)
    assert torch.allclose(got, expected / expected.max())
    assert got.max() == 1.0 and got.min() >= 0.0


def test_explain_saliency_equals_manual_autograd(trained, images, tmp_path) -> None:
    result = explain(trained, images[0], out_dir=tmp_path)
    model = cnnzoo.create("lenet5", weights=trained).eval()
    x = preprocess_for("lenet5").load_image(images[0])[None].requires_grad_(True)
    logits = model(x)
    logits[0, logits[0].argmax()].backward()
    manual = x.grad[0].abs().amax(0)
    assert result.saliency.shape == (32, 32)
    assert torch.allclose(result.saliency, manual / manual.max(), atol=1e-6)
    assert result.label == "top" == LABELS[result.index]
    assert result.probability == pytest.approx(torch.softmax(logits[0], 0).max().item())


def test_feature_maps_are_the_hooked_layers_output(trained, images, tmp_path) -> None:
    result = explain(trained, images[2], layer="conv1", out_dir=tmp_path)
    model = cnnzoo.create("lenet5", weights=trained).eval()
    x = preprocess_for("lenet5").load_image(images[2])[None]
    with torch.no_grad():
        expected = model.conv1(x)[0]
    assert result.layer == "conv1"
    assert result.features.shape == expected.shape == (6, 28, 28)
    assert torch.allclose(result.features, expected, atol=1e-6)


@pytest.fixture
def inplace_net(tmp_path: Path):
    """A registered plain nn.Module whose conv is followed by an in-place ReLU (as in VGG)."""
    from cnnzoo.registry import _unregister

    @cnnzoo.register_model(family="test", input_size=(1, 8, 8), num_classes=2)
    def inspect_inplace_net(*, num_classes: int = 2) -> nn.Module:
        """A conv, an in-place ReLU, global pooling and a linear head."""
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4, num_classes),
        )

    try:
        torch.manual_seed(5)
        model = cnnzoo.create("inspect_inplace_net")
        path = tmp_path / "inplace.pth"
        torch.save(model.state_dict(), path)
        Image.fromarray(np.random.default_rng(2).integers(0, 255, (8, 8), np.uint8)).save(
            tmp_path / "noise.png"
        )
        yield model, path, tmp_path / "noise.png"
    finally:
        _unregister("inspect_inplace_net")


def test_feature_maps_are_taken_before_an_in_place_relu(inplace_net, tmp_path) -> None:
    model, path, image = inplace_net
    out = tmp_path / "out"
    out.mkdir()
    result = explain(path, image, model="inspect_inplace_net", out_dir=out)
    x = preprocess_for("inspect_inplace_net").load_image(image)[None]
    with torch.no_grad():
        conv = model[0](x)[0]
    assert result.layer == "0"
    assert (conv < 0).any()  # so an in-place ReLU would have changed it
    assert torch.allclose(result.features, conv, atol=1e-6)
    # A plain nn.Module without num_classes: the card's count and placeholder labels.
    assert result.label in {"class 0", "class 1"}
    assert sorted(p.name for p in out.iterdir()) == ["noise_features_0.png", "noise_saliency.png"]


def test_default_layer_is_the_last_convolution() -> None:
    assert default_layer(cnnzoo.create("lenet5")) == "conv2"
    # The FER report's question 5 draws its fourth (last) conv layer's 32 filters.
    assert default_layer(cnnzoo.create("fer_cnn")) == "conv3.conv"
    with pytest.raises(InvalidArgumentError, match="no convolution"):
        default_layer(cnnzoo.create("mlp"))


def test_feature_grid_tiles_channels_row_by_row_each_scaled() -> None:
    features = torch.arange(5 * 2 * 3, dtype=torch.float32).view(5, 2, 3)
    features[4] = 7.0  # a constant channel is drawn as zeros, not NaN
    grid = feature_grid(features)
    assert grid.shape == (2 * 3 - 1, 3 * 4 - 1)  # 2 rows of 3 tiles, 1-pixel gaps
    expected = torch.tensor([[0, 1, 2], [3, 4, 5]], dtype=torch.float32) / 5
    assert torch.allclose(grid[0:2, 4:7], expected)  # channel 1: row 0, column 1
    assert torch.equal(grid[3:5, 4:7], torch.zeros(2, 3))  # channel 4: row 1, column 1
    assert grid[2].isnan().all() and grid[:, 3].isnan().all()
    assert grid[3:, 8:].isnan().all()  # the unused sixth tile stays empty
    assert feature_grid(torch.randn(100, 2, 2)).shape == (8 * 3 - 1, 8 * 3 - 1)  # 64 at most


def test_pngs_are_written_and_nothing_else(emotion, images, tmp_path) -> None:
    result = explain(emotion, images[1], layer="act2", out_dir=tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["bottom_features_act2.png", "bottom_saliency.png"]
    assert [p.name for p in result.files] == ["bottom_saliency.png", "bottom_features_act2.png"]
    for path in result.files:
        assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
        with Image.open(path) as img:
            img.verify()
            assert img.format == "PNG"
    with Image.open(tmp_path / "bottom_saliency.png") as img:
        assert img.size[0] > img.size[1]  # image and map side by side
    assert result.features.shape == (128, 11, 11)
    assert result.label in {"joy", "calm", "gloom"}


def test_explain_writes_to_the_current_directory_by_default(
    trained, images, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = explain(trained, images[0], layer="pool1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "top_features_pool1.png",
        "top_saliency.png",
    ]
    assert all(p.is_file() for p in result.files)


def test_save_false_writes_nothing(trained, images, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = explain(trained, images[0], save=False)
    assert result.files == () and list(tmp_path.iterdir()) == []


def test_a_model_without_convolutions_gets_its_saliency_map_only(workdir, images, tmp_path) -> None:
    path = workdir / "mlp.pth"
    model = cnnzoo.create("mlp")
    pre = preprocess_for("mlp")
    labels = list("0123456789")
    save_checkpoint(path, model, model_name="mlp", labels=labels, preprocess=pre.to_dict())
    result = explain(path, images[0], out_dir=tmp_path)
    assert result.layer is None and result.features is None
    assert [p.name for p in tmp_path.iterdir()] == ["top_saliency.png"]
    assert result.saliency.shape == (28, 28) and result.saliency.max() == 1.0
    with pytest.raises(InvalidArgumentError, match=r"outputs \(1, 512\), not feature maps"):
        explain(path, images[0], layer="linear_relu_stack.0", out_dir=tmp_path)


# --------------------------------------------------------------------------------------------
# errors, through the API


def test_missing_and_unreadable_images_are_named(trained, images, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        predict(trained, [images[0], tmp_path / "nope.png"])
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not a png")
    with pytest.raises(InvalidArgumentError, match=r"bad\.png"):
        predict(trained, [bad])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidArgumentError, match=r"bad\.png"):
        explain(trained, bad, out_dir=out)
    with pytest.raises(InvalidArgumentError, match="no images"):
        predict(trained, [])
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("k", [0, 4, -1])
def test_topk_out_of_range(trained, images, k) -> None:
    with pytest.raises(InvalidArgumentError, match=str(k)) as info:
        predict(trained, [images[0]], topk=k)
    if k > 3:
        assert "3 classes" in str(info.value)


def test_unknown_layer_suggests_close_names_and_writes_nothing(trained, images, tmp_path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"did you mean 'conv2'") as info:
        explain(trained, images[0], layer="conv_2", out_dir=tmp_path)
    assert "cnnzoo summary lenet5" in str(info.value)
    with pytest.raises(InvalidArgumentError, match="not feature maps"):
        explain(trained, images[0], layer="fc1", out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_errors(trained, bare, images, tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        predict(tmp_path / "missing.pth", [images[0]])
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(trained.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="damaged"):
        predict(damaged, [images[0]])
    with pytest.raises(CheckpointError, match="--model NAME"):
        predict(bare, [images[0]])
    with pytest.raises(CheckpointError, match="holds a 'lenet5' model"):
        predict(trained, [images[0]], model="emotionnet")
    with pytest.raises(CheckpointError, match="does not fit emotionnet"):
        predict(bare, [images[0]], model="emotionnet")


def test_inconsistent_checkpoint_records_are_checkpoint_errors(images, tmp_path) -> None:
    model = cnnzoo.create("lenet5", num_classes=3)
    few = tmp_path / "few_labels.pth"
    save_checkpoint(few, model, model_name="lenet5", model_kwargs={"num_classes": 3}, labels=["a"])
    with pytest.raises(CheckpointError, match="1 labels for a model with 3 classes"):
        predict(few, [images[0]])
    broken = tmp_path / "broken_preprocess.pth"
    save_checkpoint(
        broken, model, model_name="lenet5", model_kwargs={"num_classes": 3}, preprocess={}
    )
    with pytest.raises(CheckpointError, match="size, channels, mean and std"):
        predict(broken, [images[0]])


def test_model_name_matching_the_checkpoint_is_accepted_in_any_spelling(trained) -> None:
    model, labels, _ = load_trained(trained, model="LeNet-5")
    assert model.model_name == "lenet5" and labels == LABELS


def test_output_directory_errors_leave_nothing(trained, images, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        explain(trained, images[0], out_dir=tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    if os.geteuid() == 0:
        return  # root writes into read-only directories
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            explain(trained, images[0], out_dir=locked)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_failing_second_write_restores_the_earlier_files(
    trained, images, tmp_path, monkeypatch
) -> None:
    import cnnzoo._files as files_module

    first = explain(trained, images[0], out_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in first.files}
    for p in first.files:  # different earlier content, so a restore is told from a rewrite
        p.write_bytes(b"earlier " + p.name.encode())
    before = {p.name: p.read_bytes() for p in first.files}
    calls = []
    real = files_module.os.replace

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(files_module.os, "replace", flaky)
    with pytest.raises(OSError, match="No space"):
        explain(trained, images[0], out_dir=tmp_path)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_output_name_taken_by_a_directory_changes_nothing(trained, images, tmp_path) -> None:
    first = explain(trained, images[0], out_dir=tmp_path)
    saliency, features = first.files
    earlier = saliency.read_bytes()
    features.unlink()
    features.mkdir()
    with pytest.raises(InvalidArgumentError, match="a directory of that name"):
        explain(trained, images[0], out_dir=tmp_path)
    assert saliency.read_bytes() == earlier and features.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([saliency.name, features.name])


# --------------------------------------------------------------------------------------------
# the command line


def test_cli_predict_table_in_a_fresh_process(trained, images) -> None:
    proc = run_cnnzoo(["predict", str(trained), str(images[0]), str(images[1])])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["image", "label", "probability"]
    assert lines[2].split()[:2] == [str(images[0]), "top"]
    assert lines[3].split()[:2] == [str(images[1]), "bottom"]
    assert 1 / 3 < float(lines[2].split()[2]) <= 1.0


def test_cli_predict_json_and_topk(trained, images, capsys) -> None:
    assert main(["predict", str(trained), str(images[2]), "--topk", "3", "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["image"] == str(images[2])
    preds = entry["predictions"]
    assert preds[0]["label"] == "left" and len(preds) == 3
    assert sum(p["probability"] for p in preds) == pytest.approx(1.0, abs=1e-6)
    assert main(["predict", str(trained), str(images[2]), "--topk", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["image", "rank", "label", "probability"]
    assert table[2].split()[:3] == [str(images[2]), "1", "left"]
    assert table[3].split()[0] == "2"


def test_cli_explain_prints_the_files(trained, images, tmp_path, capsys) -> None:
    code = main(["explain", str(trained), str(images[1]), "--out", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith(f"{images[1]}: bottom (")
    assert out[1:] == [
        f"wrote {tmp_path / 'bottom_saliency.png'}",
        f"wrote {tmp_path / 'bottom_features_conv2.png'}",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bottom_features_conv2.png",
        "bottom_saliency.png",
    ]


def test_cli_bare_state_dict_with_model(bare, images, capsys) -> None:
    assert main(["predict", str(bare), str(images[0]), "--model", "lenet5"]) == 0
    assert "class 0" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing image", "does not exist"),
        ("unreadable image", "cannot read image"),
        ("bad topk", "topk 4 is more than the model's 3 classes"),
        ("missing checkpoint", "does not exist"),
        ("damaged checkpoint", "damaged"),
        ("bare without --model", "pass --model NAME"),
        ("unknown layer", "did you mean 'conv2', 'conv1'?"),
        ("missing --out", "does not exist"),
    ],
)
def test_cli_errors_are_one_line_and_exit_1(
    case, expected, trained, bare, images, tmp_path, capsys
) -> None:
    img, ck = str(images[0]), str(trained)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"GIF89a but not really")
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(b"PK\x03\x04 truncated")
    argv = {
        "missing image": ["predict", ck, str(tmp_path / "gone.png")],
        "unreadable image": ["explain", ck, str(bad), "--out", str(tmp_path)],
        "bad topk": ["predict", ck, img, "--topk", "4"],
        "missing checkpoint": ["predict", str(tmp_path / "gone.pth"), img],
        "damaged checkpoint": ["explain", str(damaged), img, "--out", str(tmp_path)],
        "bare without --model": ["predict", str(bare), img],
        "unknown layer": ["explain", ck, img, "--layer", "conv", "--out", str(tmp_path)],
        "missing --out": ["explain", ck, img, "--out", str(tmp_path / "gone")],
    }[case]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cnnzoo {argv[0]}: error: ")
    assert expected in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png", "damaged.pth"]


def test_cli_usage_errors_exit_2(trained, images) -> None:
    with pytest.raises(SystemExit) as info:
        main(["predict", str(trained), str(images[0]), "--topk", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["predict", str(trained)])  # no image
    assert info.value.code == 2


def test_top_level_names_are_lazy_exports() -> None:
    assert cnnzoo.predict is predict and cnnzoo.explain is explain
    assert {"predict", "explain"} <= set(cnnzoo.__all__)
