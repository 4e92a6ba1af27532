"""ONNX export: every model round-trips, the file says what it is, and a wrong file is refused.

Exports take seconds each (torch's dynamo exporter), so the fast suite exports the small
models and one checkpoint; the big ones (VGG, AlexNet, GoogLeNet, ResNet) are ``slow``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import cnnzoo
from cnnzoo.checkpoint import save_checkpoint
from cnnzoo.errors import (
    CheckpointError,
    ExportError,
    OptionalDependencyError,
    UnknownModelError,
    VerificationError,
)
from cnnzoo.export import (
    INPUT_NAME,
    METADATA_KEYS,
    OUTPUT_NAME,
    REL_TOLERANCE,
    _rescale_alive,
    export_onnx,
    serve_netron,
    verify_onnx,
)

from .conftest import is_big, run_cnnzoo

pytestmark = pytest.mark.onnx

ROOT = Path(__file__).resolve().parent.parent


def _slow(name: str) -> bool:
    # Above ~10 M parameters or ~1 G multiply-adds an export takes tens of seconds on a laptop.
    return is_big(name) or cnnzoo.model_info(name).mult_adds > 1_000_000_000


MODELS = [pytest.param(n, marks=pytest.mark.slow) if _slow(n) else n for n in cnnzoo.list_models()]


def test_the_fast_set_is_not_empty():
    # Without this, a registry change could leave the default run with no round trip at all.
    assert len([n for n in cnnzoo.list_models() if not _slow(n)]) >= 4


def _meta(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def _live_model(name: str) -> torch.nn.Module:
    model = cnnzoo.create(name).eval()
    _rescale_alive(model, cnnzoo.model_info(name).input_size)
    return model


#: Node names the guide promises (docs/guide/export.md), per model.
EXPECTED_NODES = {
    "lenet5": {"conv1", "pool2", "flatten", "fc3"},
    "inception_block": {"branch1.conv", "branch2.1.conv", "branch4.0", "cat"},
    "resnet18": {"conv1", "layer1.0.conv1", "layer1.0/add", "layer1.0.relu/2", "fc"},
    "googlenet": {"conv1.conv", "lrn1", "inception3a/cat", "inception3a.branch1.conv"},
    "vgg16": {"features.0", "features.30", "classifier.0", "classifier.6"},
}


@pytest.mark.parametrize("name", MODELS)
def test_round_trip(name: str, tmp_path: Path) -> None:
    card = cnnzoo.model_info(name)
    model = _live_model(name)
    path = tmp_path / f"{name}.onnx"
    report = export_onnx(model, path)

    assert path.is_file() and report.path == path and report.file_size == path.stat().st_size
    assert report.external_data is None  # VGG19 (about 575 MB) still fits in one file
    assert report.verified_batches == (1, 3)
    assert report.max_abs_diff <= report.tolerance
    # The weights were alive: the outputs differ between inputs, so the check meant something.
    assert report.output_spread > 1e-2
    onnx.checker.check_model(str(path), full_check=True)

    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == [INPUT_NAME]
    assert [o.name for o in proto.graph.output] == [OUTPUT_NAME]
    assert report.input_shape == ("batch", *card.input_size)
    assert report.output_shape[0] == "batch"
    assert _meta(path)["model"] == name

    # Node names are module names: every Conv/Gemm is named after the module of its weight.
    modules = dict(model.named_modules())
    names = [n.name for n in proto.graph.node]
    assert len(set(names)) == len(names)
    assert not [n for n in names if n.startswith("node_")]
    for node in proto.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            assert node.name in modules, f"{node.op_type} node {node.name!r} is not a module"
    if hasattr(model, "head_name"):
        assert model.head_name in names
    assert EXPECTED_NODES.get(name, set()) <= set(names), sorted(set(names))[:40]

    # An independent run on a batch size the export did not verify (the batch is dynamic).
    x = torch.randn(2, *card.input_size)
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT_NAME: x.numpy()})[0]
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= REL_TOLERANCE * np.abs(expected).max()


def test_rescaling_brings_a_dead_network_to_life() -> None:
    # AlexNet's paper init (N(0, 0.01)) leaves the logits at the final bias; lenet5 with its
    # weights shrunk the same way is a small stand-in that needs no big model.
    model = cnnzoo.create("lenet5").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.01)
    x = torch.randn(8, 1, 32, 32)

    def spread(m: torch.nn.Module) -> float:
        with torch.no_grad():
            y = m(x)
        return float((y - y[0]).abs().max() / y.abs().max())

    assert spread(model) < 1e-3  # dead: every input gives (almost) the same logits
    _rescale_alive(model, (1, 32, 32))
    assert spread(model) > 0.1
    outputs = {}
    hooks = [
        getattr(model, n).register_forward_hook(lambda m, i, o, n=n: outputs.__setitem__(n, o))
        for n in ("conv1", "conv2", "fc1", "fc3")
    ]
    with torch.no_grad():
        model(torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(0)))
    for h in hooks:
        h.remove()
    # Every layer now outputs unit standard deviation on the batch the rescaling used.
    for name, out in outputs.items():
        assert abs(float(out.std()) - 1.0) < 1e-3, name


def test_a_custom_module(tmp_path: Path) -> None:
    from cnnzoo.errors import InvalidArgumentError

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 5)
    )
    with pytest.raises(InvalidArgumentError, match="input_size"):
        export_onnx(model, tmp_path / "tiny.onnx")
    report = export_onnx(model, tmp_path / "tiny.onnx", input_size=(3, 6, 6))
    assert model.training  # the caller's model is left as it was (a copy is exported)
    meta = _meta(tmp_path / "tiny.onnx")
    assert meta["family"] == "custom" and meta["model"] == "Sequential"
    assert meta["weights"] == "given model" and "class_labels" not in meta
    assert report.output_shape == ("batch", 5)
    names = [n.name for n in onnx.load(str(tmp_path / "tiny.onnx")).graph.node]
    assert names == ["0", "1", "2", "3"]


def test_a_dead_model_is_also_verified_on_a_live_copy(tmp_path: Path) -> None:
    model = cnnzoo.create("lenet5").eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.01)  # as AlexNet's paper init: the logits are the final bias
    report = export_onnx(model, tmp_path / "dead.onnx")
    assert report.output_spread < 1e-3
    assert report.live_copy_diff is not None
    assert "rescaled copy" in str(report)
    assert [p.name for p in tmp_path.iterdir()] == ["dead.onnx"]  # the copy's file is gone
    # The file holds the given (dead) weights, not the copy's.
    assert verify_onnx(tmp_path / "dead.onnx", model, input_size=(1, 32, 32)).output_spread < 1e-3


def test_batchnorm_is_folded_and_checked(tmp_path: Path) -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, bias=False),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 4 * 4, 5),
    ).eval()
    bn = model[1]
    with torch.no_grad():  # as trained: a fresh BatchNorm is the identity, which folds trivially
        bn.running_mean.copy_(torch.linspace(-0.5, 0.5, 8))
        bn.running_var.copy_(torch.linspace(0.5, 2.0, 8))
        bn.weight.copy_(torch.linspace(0.5, 1.5, 8))
        bn.bias.copy_(torch.linspace(-0.2, 0.2, 8))
    _rescale_alive(model, (3, 6, 6))
    report = export_onnx(model, tmp_path / "bn.onnx", input_size=(3, 6, 6))
    assert report.max_abs_diff <= report.tolerance and report.output_spread > 1e-2
    nodes = onnx.load(str(tmp_path / "bn.onnx")).graph.node
    assert "BatchNormalization" not in [n.op_type for n in nodes]  # folded into the Conv
    conv = next(n for n in nodes if n.op_type == "Conv")
    assert conv.name == "0" and len(conv.input) == 3  # the fold gave the Conv a bias


# --- a checkpoint, its metadata, and a file that no longer matches its model ------------------

LABELS = [f"digit {i}" for i in range(10)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path, Path]:
    """lenet5 saved as a cnnzoo checkpoint (labels, preprocessing) and exported from it."""
    torch.manual_seed(1)
    root = tmp_path_factory.mktemp("trained")
    model = _live_model("lenet5")
    ckpt = save_checkpoint(
        root / "lenet5.pt",
        model,
        model_name="lenet5",
        model_kwargs={"num_classes": 10},
        labels=LABELS,
        preprocess={"size": [32, 32], "channels": 1, "mean": [0.25], "std": [0.5]},
        epoch=3,
    )
    path = root / "lenet5.onnx"
    export_onnx("lenet5", path, checkpoint=ckpt)
    return model, ckpt, path


def test_checkpoint_metadata_and_weights(trained) -> None:
    model, _, path = trained
    meta = _meta(path)
    assert meta["model"] == "lenet5" and meta["family"] == "lenet"
    assert meta["cnnzoo_version"] == cnnzoo.__version__
    assert json.loads(meta["class_labels"]) == LABELS  # the checkpoint's, not the card's
    assert json.loads(meta["mean"]) == [0.25] and json.loads(meta["std"]) == [0.5]
    assert json.loads(meta["input_size"]) == [1, 32, 32]
    assert meta["weights"] == "lenet5.pt"  # the file name only: no local path in the file
    # The file holds the checkpoint's weights: it verifies against the model saved.
    result = verify_onnx(path, model, input_size=(1, 32, 32))
    assert result.max_abs_diff <= result.tolerance


def test_no_local_paths_or_stack_traces(trained) -> None:
    _, _, path = trained
    data = path.read_bytes()
    for needle in (str(ROOT), sys.prefix, str(Path.home()), str(path.parent), "stack_trace"):
        assert needle.encode() not in data, f"{needle!r} is in the exported file"
    assert b'File "' not in data
    proto = onnx.load(str(path))
    names = [n.name for n in proto.graph.node]
    assert names[0] == "conv1" and names[-1] == "fc3"
    assert proto.graph.name == "lenet5"


def test_altered_forward_fails_verification(trained) -> None:
    model, _, path = trained
    verify_onnx(path, model, input_size=(1, 32, 32))  # the unaltered model passes
    forward = model.forward
    model.forward = lambda x: forward(x) * (1 + 10 * REL_TOLERANCE)  # type: ignore[method-assign]
    try:
        with pytest.raises(VerificationError, match=r"max \|ORT - torch\|.*tolerance"):
            verify_onnx(path, model, input_size=(1, 32, 32))
    finally:
        del model.forward
    # A change to one weight is caught too.
    with torch.no_grad():
        model.conv2.weight[0, 0, 0, 0] += 0.5
    try:
        with pytest.raises(VerificationError):
            verify_onnx(path, model, input_size=(1, 32, 32))
    finally:
        with torch.no_grad():
            model.conv2.weight[0, 0, 0, 0] -= 0.5


def test_mismatched_checkpoints(tmp_path: Path) -> None:
    three = tmp_path / "three.pt"
    torch.save(cnnzoo.create("lenet5", num_classes=3).state_dict(), three)
    with pytest.raises(CheckpointError, match=r"fc3\.weight \(file \[3, 84\], model \[10, 84\]"):
        export_onnx("lenet5", tmp_path / "x.onnx", checkpoint=three)
    other = tmp_path / "mlp.pt"
    torch.save(cnnzoo.create("mlp").state_dict(), other)
    with pytest.raises(CheckpointError, match=r"missing keys: conv1\.weight"):
        export_onnx("lenet5", tmp_path / "x.onnx", checkpoint=other)
    named = save_checkpoint(tmp_path / "named.pt", cnnzoo.create("mlp"), model_name="mlp")
    with pytest.raises(CheckpointError, match="holds a 'mlp' model"):
        export_onnx("lenet5", tmp_path / "x.onnx", checkpoint=named)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.pt", "named.pt", "three.pt"]


# --- atomic writes and errors -----------------------------------------------------------------


def test_failed_export_leaves_nothing_and_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    import cnnzoo.export as export

    def broken(*args, **kwargs):
        raise ExportError("simulated exporter failure")

    monkeypatch.setattr(export, "_torch_export", broken)
    with pytest.raises(ExportError, match="simulated"):
        export_onnx("lenet5", tmp_path / "new.onnx")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.onnx"
    old.write_bytes(b"previous file")
    with pytest.raises(ExportError):
        export_onnx("lenet5", old)
    assert old.read_bytes() == b"previous file"
    assert list(tmp_path.iterdir()) == [old]


def test_failed_verification_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    import cnnzoo.export as export

    real = export.verify_onnx

    def against_altered_model(path, model, **kwargs):
        with torch.no_grad():
            model.get_classifier().bias += 1.0  # the file no longer matches "its" model
        return real(path, model, **kwargs)

    monkeypatch.setattr(export, "verify_onnx", against_altered_model)
    old = tmp_path / "mlp.onnx"
    old.write_bytes(b"previous file")
    with pytest.raises(VerificationError, match=r"max \|ORT - torch\| = .* > tolerance"):
        export_onnx("mlp", old, dynamic_batch=False)
    assert old.read_bytes() == b"previous file"
    assert list(tmp_path.iterdir()) == [old]


def test_errors_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError, match="resnet81"):
        export_onnx("resnet81", tmp_path / "x.onnx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_onnx("lenet5", tmp_path / "missing" / "x.onnx")
    with pytest.raises(ExportError, match="opset 99"):
        export_onnx("lenet5", tmp_path / "x.onnx", opset=99)
    with pytest.raises(ExportError, match="is a directory"):
        export_onnx("lenet5", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            export_onnx("lenet5", locked / "x.onnx")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_opset_the_exporter_cannot_produce(tmp_path: Path) -> None:
    # torch's exporter starts at opset 18 and converts down; the converter has no Shape
    # adapter below 15, so opset 13 comes back as 18: refused, not handed over mislabelled.
    with pytest.raises(ExportError, match="cannot produce ONNX opset 13"):
        export_onnx("mlp", tmp_path / "x.onnx", opset=13, verify=False)
    assert list(tmp_path.iterdir()) == []


def test_input_size_sets_channels_and_metadata(tmp_path: Path) -> None:
    report = export_onnx("lenet5", tmp_path / "rgb.onnx", input_size=(3, 32, 32))
    assert report.input_shape == ("batch", 3, 32, 32)
    meta = _meta(tmp_path / "rgb.onnx")
    assert json.loads(meta["input_size"]) == [3, 32, 32]
    assert json.loads(meta["mean"]) == [0.1307] * 3  # the card's grey mean, per channel


def test_static_batch_and_explicit_opset(tmp_path: Path) -> None:
    report = export_onnx("mlp", tmp_path / "mlp.onnx", dynamic_batch=False, opset=21)
    assert report.opset == 21 and report.verified_batches == (1,)
    assert report.output_spread is None and "hardly" not in str(report)
    assert report.input_shape == (1, 1, 28, 28) and report.output_shape == (1, 10)
    proto = onnx.load(str(tmp_path / "mlp.onnx"))
    assert proto.opset_import[0].version == 21 or 21 in [o.version for o in proto.opset_import]


# --- the command ------------------------------------------------------------------------------


def test_cli_export_writes_card_metadata(tmp_path: Path, monkeypatch, capsys) -> None:
    from cnnzoo.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["export", "LeNet-5"]) == 0
    out = capsys.readouterr().out
    assert "verified with onnxruntime on batch 1, 3" in out
    assert 2 <= len(out.splitlines()) <= 6
    path = tmp_path / "lenet5.onnx"  # the canonical name, whatever alias was typed
    meta = _meta(path)
    card = cnnzoo.model_info("lenet5")
    assert set(meta) == set(METADATA_KEYS)  # lenet5's card knows every one of them
    assert meta["family"] == card.family and meta["source"] == str(card.source)
    assert json.loads(meta["class_labels"]) == list(card.class_labels)
    assert json.loads(meta["mean"]) == list(card.mean)
    assert json.loads(meta["std"]) == list(card.std)
    assert json.loads(meta["input_size"]) == list(card.input_size)
    assert meta["num_classes"] == "10"
    assert meta["weights"].startswith("random (seed 0")


def test_cli_unknown_model_in_a_fresh_interpreter(tmp_path: Path) -> None:
    res = run_cnnzoo(["export", "resnet81"], cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnzoo export: error: unknown model 'resnet81'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "lenet5", "-o", "nowhere/x.onnx"], "does not exist"),
        (["export", "lenet5", "--opset", "99"], "opset 99"),
        (["export", "lenet5", "--num-classes", "3", "--checkpoint", "ten.pt"], "fc3.weight"),
    ],
)
def test_cli_errors_are_one_line_exit_1(tmp_path, monkeypatch, capsys, args, message) -> None:
    from cnnzoo.cli import main

    monkeypatch.chdir(tmp_path)
    torch.save(cnnzoo.create("lenet5").state_dict(), tmp_path / "ten.pt")
    assert main(args) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnnzoo export: error:")
    assert message in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["ten.pt"]


def test_cli_usage_error_exit_2(capsys) -> None:
    from cnnzoo.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["export", "lenet5", "--input-size", "1", "32"])
    assert exc.value.code == 2


def test_cli_without_netron_says_how_to_install(tmp_path, monkeypatch, capsys) -> None:
    from cnnzoo.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "netron", None)  # makes `import netron` fail
    assert main(["export", "mlp", "--static-batch", "--no-verify", "--netron"]) == 1
    captured = capsys.readouterr()
    assert 'pip install "cnnzoo[netron]"' in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "not verified" in captured.out
    assert (tmp_path / "mlp.onnx").is_file()  # the file is written all the same


# --- Netron -----------------------------------------------------------------------------------


def test_netron_serves_on_loopback_and_stops(trained) -> None:
    pytest.importorskip("netron")
    _, _, path = trained
    server = serve_netron(path, port=0)
    try:
        assert server.address[0] == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url, timeout=10) as response:
            assert response.status == 200
            assert b"netron" in response.read().lower()
        assert server.alive
    finally:
        server.stop()
    deadline = time.monotonic() + 5
    while server.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.alive
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(server.url, timeout=2)


def test_netron_missing_is_a_clear_error(trained, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "netron", None)
    with pytest.raises(OptionalDependencyError, match=r'pip install "cnnzoo\[netron\]"'):
        serve_netron(trained[2])


# --- slow: external data and torchvision weights ---------------------------------------------


@pytest.mark.slow
def test_external_data_above_the_protobuf_limit(tmp_path: Path, monkeypatch) -> None:
    import cnnzoo.export as export

    monkeypatch.setattr(export, "_EXTERNAL_DATA_BYTES", 0)  # as if lenet5 were over 2 GB
    report = export_onnx("lenet5", tmp_path / "lenet5.onnx")
    assert report.external_data == "lenet5.onnx.data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lenet5.onnx", "lenet5.onnx.data"]
    assert report.file_size == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert (tmp_path / "lenet5.onnx").stat().st_size < 50_000  # the weights are outside
    assert report.max_abs_diff <= report.tolerance


@pytest.mark.slow
def test_torchvision_state_dict(tmp_path: Path) -> None:
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    tv = torchvision.models.resnet18(weights=None).eval()
    _rescale_alive(tv, (3, 224, 224))
    ckpt = tmp_path / "resnet18_tv.pth"
    torch.save(tv.state_dict(), ckpt)
    report = export_onnx("resnet18", tmp_path / "r.onnx", checkpoint=ckpt)
    assert report.weights == "resnet18_tv.pth" and report.output_spread > 1e-2
    names = {n.name for n in onnx.load(str(tmp_path / "r.onnx")).graph.node}
    assert {"conv1", "layer1.0.conv1", "layer1.0/add", "layer2.0.downsample.0", "fc"} <= names
    x = torch.randn(2, 3, 224, 224)
    session = ort.InferenceSession(str(tmp_path / "r.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = tv(x).numpy()
    got = session.run(None, {"input": x.numpy()})[0]
    assert np.abs(got - expected).max() <= REL_TOLERANCE * np.abs(expected).max()


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_cli_netron_stops_on_ctrl_c_exit_0(tmp_path: Path) -> None:
    import re
    import signal
    import subprocess

    pytest.importorskip("netron")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    args = ["export", "mlp", "--static-batch", "--no-verify", "--netron", "--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnzoo", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job ignores SIGINT; the child must take Ctrl-C as a user's would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        out = ""
        while "Netron is serving" not in out:
            line = proc.stdout.readline()
            assert line, f"exited early: {out}{proc.stderr.read()}"
            out += line
        url = re.search(r"http://127\.0\.0\.1:\d+", out).group(0)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped Netron" in rest
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(url, timeout=2)
