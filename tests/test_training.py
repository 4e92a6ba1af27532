"""``cnnzoo train`` / ``cnnzoo evaluate`` and the library functions behind them.

Real data, offline: sklearn's handwritten digits written as an ImageFolder tree and as MNIST idx
files (tests/_digits.py), on which LeNet-5 must reach 90% held-out accuracy; a generated 3-class
"emotion" folder for emotionNet end to end. Resume and Ctrl-C are checked against an
uninterrupted run with the same seed, and two processes under torch.distributed.run against one.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.checkpoint import read_checkpoint
from cnnzoo.data import DataSplits, ImageSet, load_data
from cnnzoo.errors import CheckpointError, DataError, InvalidArgumentError
from cnnzoo.preprocess import preprocess_for
from cnnzoo.training import TrainEvent, TrainingInterrupted, evaluate, pick_device, train

from ._digits import digits_arrays, write_digits_folder, write_digits_mnist, write_emotion_folder
from .conftest import run_cnnzoo

ROOT = Path(__file__).resolve().parent.parent
HISTORY_KEYS = ["train_loss", "train_acc", "val_loss", "val_acc"]
METRICS = [*HISTORY_KEYS, "test_loss", "test_acc"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # The test machine is shared: OpenMP threads spinning against other processes make these
    # small models up to 10x slower, so the in-process runs use one thread (as the CLI runs do).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digits")
    write_digits_folder(root / "folder", size=32)
    write_digits_mnist(root / "mnist")
    return root


def _small_digits(n: int = 480) -> DataSplits:
    """The first ``n`` digits at 32x32 in memory, no test split (so val_split applies)."""
    images, labels = digits_arrays(32)
    classes = [str(i) for i in range(10)]
    train_set = ImageSet(
        torch.from_numpy(images[:n]).unsqueeze(1).contiguous(),
        torch.from_numpy(labels[:n]),
        classes,
        "digits (in memory)",
    )
    return DataSplits(train=train_set, test=None, classes=classes, skipped=0)


SMALL = {"epochs": 3, "batch_size": 32, "lr": 0.05, "optimizer": "sgd", "seed": 3}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    """An uninterrupted 3-epoch run the resume and Ctrl-C tests must reproduce."""
    out = tmp_path_factory.mktemp("reference") / "run"
    return train("lenet5", _small_digits(), out=out, plots=False, **SMALL)


def _same_history(a: list[dict], b: list[dict], tol: float = 1e-6) -> None:
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        for key in HISTORY_KEYS:
            assert abs(ra[key] - rb[key]) <= tol, (ra["epoch"], key, ra[key], rb[key])


def _same_weights(a: Path, b: Path, tol: float = 0.0) -> None:
    sa, sb = read_checkpoint(a).state_dict, read_checkpoint(b).state_dict
    assert sa.keys() == sb.keys()
    for k in sa:
        diff = (sa[k].float() - sb[k].float()).abs().max().item()
        assert diff <= tol, (k, diff)


# ------------------------------------------------------------------------------------------
# real data: the accuracy bar


def test_lenet5_on_digits_folder_reaches_90_percent_and_writes_its_outputs(digits_dir, tmp_path):
    out = tmp_path / "run"
    events: list[TrainEvent] = []
    result = train(
        "lenet5",
        f"folder:{digits_dir / 'folder'}",
        epochs=4,
        batch_size=64,
        optimizer="adam",
        lr=0.003,
        out=out,
        progress=events.append,
    )
    # Validation: 20% held out of train/ (chooses best.pth); the folder's test/ split is
    # reported every epoch, never trained on and never used to choose.
    assert result.history[-1]["val_acc"] >= 0.90, result.history
    assert result.history[-1]["test_acc"] >= 0.90, result.history
    report = evaluate(result.best, f"folder:{digits_dir / 'folder'}")
    assert report.split == "test" and report.num_images == 359
    assert report.accuracy >= 0.90
    assert report.accuracy == pytest.approx(result.history[result.best_epoch - 1]["test_acc"])
    assert sum(map(sum, report.confusion)) == 359
    assert [sum(row) for row in report.confusion] == report.support
    val = evaluate(result.best, f"folder:{digits_dir / 'folder'}", split="validation")
    assert val.num_images == 288  # 20% of the 1,438 training images
    assert val.accuracy == pytest.approx(result.history[result.best_epoch - 1]["val_acc"])
    assert result.confusion == val.confusion  # best.pth on the same images

    # Every promised output exists and is what it says.
    names = {p.name for p in out.iterdir()}
    assert {
        "best.pth",
        "last.pth",
        "history.json",
        "history.csv",
        "loss.png",
        "accuracy.png",
        "confusion_matrix.png",
        "samples.png",
        "config.toml",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    from cnnzoo.checkpoint import usual_mode

    # Shared outputs, not atomic_write's private 0600 temporary files.
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == dict.fromkeys(
        names, usual_mode()
    )
    history = json.loads((out / "history.json").read_text())
    assert history == result.history and len(history) == 4
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert [float(r["val_acc"]) for r in rows] == pytest.approx([h["val_acc"] for h in history])
    from PIL import Image

    for png in ("loss.png", "accuracy.png", "confusion_matrix.png", "samples.png"):
        with Image.open(out / png) as im:
            im.verify()
            assert im.format == "PNG" and min(im.size) > 100

    last = read_checkpoint(out / "last.pth")
    assert last.model == "lenet5" and last.model_kwargs == {"num_classes": 10}
    assert last.extra["labels"] == [str(i) for i in range(10)]
    assert last.extra["preprocess"] == preprocess_for("lenet5").to_dict()
    assert last.extra["epoch"] == 4 and last.extra["history"] == history
    assert set(last.extra["metrics"]) == set(METRICS)
    assert last.extra["config"]["optimizer"] == "adam" and "torch" in last.extra["rng"]
    # cnnzoo.create reads it back.
    model = cnnzoo.create("lenet5", weights=out / "best.pth")
    assert model.num_classes == 10

    kinds = [e.kind for e in events]
    assert kinds[0] == "begin" and kinds[-1] == "end" and kinds.count("epoch") == 4
    steps = [e for e in events if e.kind == "step" and e.epoch == 1]
    assert steps[-1].step == steps[-1].steps == 18  # ceil(1150 / 64)


def test_lenet5_on_digits_mnist_files_reaches_90_percent(digits_dir, tmp_path):
    # MNIST idx files at 28x28, resized to LeNet-5's 32x32 by the data loader.
    spec = f"mnist:{digits_dir / 'mnist'}"
    result = train(
        "lenet5", spec, epochs=4, batch_size=64, optimizer="adam", lr=0.003,
        out=tmp_path / "run", plots=False,
    )  # fmt: skip
    report = evaluate(result.best, spec)
    assert report.split == "test" and report.accuracy >= 0.90, str(report)


# ------------------------------------------------------------------------------------------
# resume and Ctrl-C


def test_resume_gives_the_uninterrupted_history(reference, tmp_path):
    out = tmp_path / "run"
    first = train("lenet5", _small_digits(), out=out, plots=False, **{**SMALL, "epochs": 1})
    assert len(first.history) == 1
    # Options not given come from the checkpoint (seed, lr, optimizer, batch size).
    resumed = train("lenet5", _small_digits(), epochs=3, resume=out / "last.pth", plots=False)
    assert resumed.out == out
    _same_history(resumed.history, reference.history)
    _same_weights(out / "last.pth", reference.last)
    _same_weights(out / "best.pth", reference.best)
    assert json.loads((out / "history.json").read_text()) == resumed.history

    # best.pth resumes too (from its epoch), into another directory; last.pth's best comes along.
    best = read_checkpoint(out / "best.pth")
    assert {"optimizer", "rng", "config", "history"} <= set(best.extra)
    again = train("lenet5", _small_digits(), resume=out / "best.pth", out=tmp_path / "again",
                  plots=False)  # fmt: skip
    _same_history(again.history, reference.history)
    other = tmp_path / "other"
    train("lenet5", _small_digits(), resume=out / "last.pth", out=other, plots=False)
    _same_weights(other / "best.pth", reference.best)


@pytest.mark.parametrize(("stop_epoch", "stop_step"), [(2, 4), (1, 2)])
def test_ctrl_c_saves_last_and_resuming_matches(reference, tmp_path, stop_epoch, stop_step):
    out = tmp_path / "run"

    def interrupt(event: TrainEvent) -> None:
        if event.kind == "step" and (event.epoch, event.step) == (stop_epoch, stop_step):
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as info:
        train("lenet5", _small_digits(), out=out, plots=False, progress=interrupt, **SMALL)
    assert isinstance(info.value, KeyboardInterrupt)
    # last.pth holds the last *completed* epoch (0: the initial state).
    assert info.value.epoch == stop_epoch - 1
    assert info.value.checkpoint == out / "last.pth"
    saved = read_checkpoint(out / "last.pth")
    assert saved.extra["epoch"] == stop_epoch - 1
    assert len(saved.extra["history"]) == stop_epoch - 1
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]

    resumed = train("lenet5", _small_digits(), resume=out / "last.pth", plots=False)
    _same_history(resumed.history, reference.history)
    _same_weights(out / "last.pth", reference.last)


def test_augmentation_is_seeded_and_changes_the_batches(tmp_path):
    def run(name: str, augment: bool) -> list[dict]:
        return train("lenet5", _small_digits(200), epochs=1, batch_size=50, seed=5,
                     augment=augment, out=tmp_path / name, plots=False).history  # fmt: skip

    a, b, plain = run("a", True), run("b", True), run("plain", False)
    _same_history(a, b, tol=0.0)
    assert a[0]["train_loss"] != plain[0]["train_loss"]


def test_cli_reports_an_interrupt_with_exit_130(monkeypatch, capsys, tmp_path):
    import cnnzoo.training as training
    from cnnzoo.cli import main

    def interrupted(*args, **kwargs):
        raise TrainingInterrupted(tmp_path / "last.pth", 2)

    monkeypatch.setattr(training, "train", interrupted)
    assert main(["train", "lenet5", "--data", "folder:x"]) == 130
    err = capsys.readouterr().err
    assert "2 epoch(s)" in err and f"--resume {tmp_path / 'last.pth'}" in err


@pytest.mark.slow
def test_sigint_to_the_cli_saves_last_and_exits_130(digits_dir, tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "cnnzoo", "train", "lenet5", "--data",
           f"folder:{digits_dir / 'folder'}", "--epochs", "500", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # wait for the first completed epoch
            line = proc.stdout.readline()
            if line.startswith("epoch 1/500") or not line:
                break
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    saved = read_checkpoint(out / "last.pth")
    assert 1 <= saved.extra["epoch"] < 500
    assert len(json.loads((out / "history.json").read_text())) == saved.extra["epoch"]


def test_a_terminal_gets_a_progress_bar_per_epoch(monkeypatch, capsys):
    from cnnzoo.cli.train import _Progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    progress = _Progress()
    record = {"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "val_loss": 0.4, "val_acc": 0.85,
              "seconds": 1.0, "images_per_s": 1000.0}  # fmt: skip
    progress(TrainEvent("epoch_start", epoch=1, epochs=2, steps=3))
    for step in (1, 2, 3):
        progress(TrainEvent("step", epoch=1, epochs=2, step=step, steps=3, loss=0.5, acc=0.8))
    progress(TrainEvent("epoch", epoch=1, epochs=2, steps=3, record=record))
    captured = capsys.readouterr()
    assert "epoch 1/2" in captured.err and "3/3" in captured.err and "val_acc" in captured.err
    assert "epoch 1/2:" not in captured.out  # the bar replaces the line


# ------------------------------------------------------------------------------------------
# emotionNet end to end through the CLI


@pytest.fixture(scope="module")
def emotion_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_emotion_folder(tmp_path_factory.mktemp("emotion"), n_per_class=16)


def test_emotionnet_train_and_evaluate_through_the_cli(emotion_dir, tmp_path, capsys):
    # The CLI in this process (a subprocess would pay torch's import again); the slow test
    # below runs it as a user does.
    from cnnzoo.cli import main

    out = tmp_path / "run"
    code = main(
        ["train", "emotionnet", "--data", f"folder:{emotion_dir}", "--epochs", "2",
         "--batch-size", "8", "--optimizer", "adam", "--lr", "0.001", "--out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # Not a terminal: one line per epoch, no progress bar.
    epoch_lines = [ln for ln in captured.out.splitlines() if ln.startswith("epoch ")]
    assert [ln.split(":")[0] for ln in epoch_lines] == ["epoch 1/2", "epoch 2/2"]
    assert "\r" not in captured.out + captured.err
    ck = read_checkpoint(out / "best.pth")
    assert ck.model == "emotionnet" and ck.extra["labels"] == ["happy", "neutral", "sad"]
    assert ck.extra["preprocess"]["size"] == [48, 48] and ck.extra["preprocess"]["channels"] == 3

    spec = f"folder:{emotion_dir}"
    assert main(["evaluate", str(out / "best.pth"), "--data", spec, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["labels"] == ["happy", "neutral", "sad"] and report["split"] == "test"
    assert len(report["confusion"]) == 3 and report["num_images"] == sum(report["support"])
    history = json.loads((out / "history.json").read_text())
    best = read_checkpoint(out / "best.pth").extra["epoch"]
    assert report["accuracy"] == pytest.approx(history[best - 1]["test_acc"])

    assert main(["evaluate", str(out / "best.pth"), "--data", spec]) == 0
    text = capsys.readouterr().out
    assert "precision" in text and "confusion matrix" in text and "happy" in text

    # predict and explain read the labels and preprocessing the training run stored.
    face = next((emotion_dir / "test" / "sad").glob("*.png"))
    assert main(["predict", str(out / "best.pth"), str(face), "--format", "json"]) == 0
    assert {"happy", "neutral", "sad"} & set(capsys.readouterr().out.replace('"', " ").split())
    pictures = tmp_path / "explain"
    pictures.mkdir()
    assert main(["explain", str(out / "best.pth"), str(face), "--out", str(pictures)]) == 0
    assert sorted(p.suffix for p in pictures.iterdir()) == [".png", ".png"]


@pytest.mark.slow
def test_emotionnet_resume_and_onnx_through_the_cli(emotion_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    if not hasattr(cnnzoo, "export_onnx"):
        pytest.skip("cnnzoo has no export_onnx in this checkout")
    out = tmp_path / "run"
    args = ["train", "emotionnet", "--data", f"folder:{emotion_dir}", "--batch-size", "8",
            "--optimizer", "adam", "--lr", "0.001"]  # fmt: skip
    assert run_cnnzoo([*args, "--epochs", "1", "--out", str(out)], env=_env()).returncode == 0
    proc = run_cnnzoo(
        [*args, "--epochs", "2", "--resume", str(out / "last.pth"), "--onnx"], env=_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert "resuming after epoch 1" in proc.stdout
    assert read_checkpoint(out / "last.pth").extra["epoch"] == 2
    full = tmp_path / "full"
    assert run_cnnzoo([*args, "--epochs", "2", "--out", str(full)], env=_env()).returncode == 0
    a = json.loads((out / "history.json").read_text())
    b = json.loads((full / "history.json").read_text())
    _same_history(a, b)

    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(out / "best.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(2, 3, 48, 48)
    model = cnnzoo.create("emotionnet", weights=out / "best.pth").eval()
    with torch.no_grad():
        expected = model(x).numpy()
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert np.allclose(got, expected, atol=1e-4)


# ------------------------------------------------------------------------------------------
# several processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    root = write_digits_folder(tmp_path / "digits", size=32, n_per_class=40)
    spec = f"folder:{root}"
    opts = ["--epochs", "2", "--batch-size", "32", "--lr", "0.05", "--seed", "1", "--no-plots"]
    out2 = tmp_path / "ddp"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
         "-m", "cnnzoo", "train", "lenet5", "--data", spec, "--device", "cpu",
         "--out", str(out2), *opts],
        capture_output=True, text=True, timeout=600, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.count("training lenet5") == 1  # only rank 0 reports
    assert "2 processes" in proc.stdout
    ck = read_checkpoint(out2 / "last.pth")
    assert ck.extra["config"]["world_size"] == 2

    one = train(
        "lenet5", spec, epochs=2, batch_size=32, lr=0.05, seed=1, device="cpu",
        out=tmp_path / "one", plots=False,
    )  # fmt: skip
    ddp_history = json.loads((out2 / "history.json").read_text())
    _same_history(ddp_history, one.history, tol=1e-4)
    _same_weights(out2 / "last.pth", one.last, tol=1e-4)


# ------------------------------------------------------------------------------------------
# devices and bad inputs


def test_auto_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda")
    with pytest.raises(InvalidArgumentError, match="unknown device"):
        pick_device("tpu")


def test_a_device_this_machine_lacks_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidArgumentError, match="no CUDA"):
        pick_device("cuda")


def test_labels_beyond_the_classes_are_a_clear_error(tmp_path):
    data = _small_digits(100)
    data.train.labels[7] = 12
    with pytest.raises(DataError, match="label 12"):
        train("lenet5", data, epochs=1, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_an_unwritable_out_is_refused_before_anything_is_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(InvalidArgumentError, match="not a writable directory"):
        train("lenet5", _small_digits(100), epochs=1, out=blocker / "run")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        train("lenet5", _small_digits(100), epochs=1, out=blocker)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(InvalidArgumentError, match="not a writable directory"):
            train("lenet5", _small_digits(100), epochs=1, out=locked / "run")
        assert list(locked.iterdir()) == []


def test_a_finished_run_is_not_overwritten_and_a_foreign_resume_is_refused(reference, tmp_path):
    with pytest.raises(InvalidArgumentError, match="already holds a training run"):
        train("lenet5", _small_digits(), epochs=1, out=reference.out)
    with pytest.raises(CheckpointError, match="lenet5"):
        train("emotionnet", _small_digits(), resume=reference.last, out=tmp_path / "x")
    torch.save(cnnzoo.create("lenet5").state_dict(), tmp_path / "bare.pth")
    with pytest.raises(CheckpointError, match=r"last\.pth"):
        train("lenet5", _small_digits(), resume=tmp_path / "bare.pth", out=tmp_path / "y")


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"optimizer": "rmsprop"}, "unknown optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"val_split": 1.0}, "val_split"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_bad_options_are_clear_errors(tmp_path, option, match):
    with pytest.raises(InvalidArgumentError, match=match):
        train("lenet5", _small_digits(100), out=tmp_path / "run", **option)
    assert not (tmp_path / "run").exists()


def test_evaluate_rebuilds_the_held_out_split_and_reads_bare_state_dicts(reference, tmp_path):
    report = evaluate(reference.best, _small_digits())
    assert report.split == "validation" and report.num_images == 96  # 20% of 480
    best = reference.history[reference.best_epoch - 1]
    assert report.accuracy == pytest.approx(best["val_acc"])
    assert report.loss == pytest.approx(best["val_loss"], abs=1e-5)
    bare = tmp_path / "bare.pth"
    torch.save(read_checkpoint(reference.best).state_dict, bare)
    with pytest.raises(CheckpointError, match="model name"):
        evaluate(bare, _small_digits())
    again = evaluate(bare, _small_digits(), model="lenet5", split="train")
    assert again.split == "train" and again.num_images == 480


def test_evaluate_refuses_classes_the_checkpoint_does_not_know(reference, emotion_dir):
    pre = preprocess_for("lenet5")
    data = load_data(f"folder:{emotion_dir}", pre)  # happy/neutral/sad, not digits
    with pytest.raises(DataError, match="does not know"):
        evaluate(reference.best, data)
