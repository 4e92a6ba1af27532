"""Issue 15: runs own their directory, non-finite training fails loudly, terminations and
failures leave nothing behind and lose nothing, and every bad option is a usage error."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cnnzoo.checkpoint import read_checkpoint, save_checkpoint
from cnnzoo.cli import main
from cnnzoo.errors import InvalidArgumentError, RunDirBusyError
from cnnzoo.rundir import LOCK_NAME, claim_run_dir

from ._digits import write_digits_folder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_folder(tmp_path_factory.mktemp("digits"), n_per_class=12)


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


# --------------------------------------------------------------------------------------------
# a run owns its directory


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    out = tmp_path / "run"
    lock = claim_run_dir(out)
    assert (out / LOCK_NAME).is_file()
    with pytest.raises(RunDirBusyError, match=f"{out}.*in use by another training run"):
        claim_run_dir(out)
    lock.release()
    # Nothing was written: the directory the lock created is gone again.
    assert not out.exists()
    with claim_run_dir(out):
        (out / "history.csv").write_text("x\n")
    assert sorted(p.name for p in out.iterdir()) == ["history.csv"]


def test_a_lock_file_of_a_dead_process_is_not_in_the_way(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    # A run killed with SIGKILL leaves its lock file; the kernel released its flock.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (out / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": "h"}))
    with claim_run_dir(out) as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_two_runs_into_one_directory_at_once(digits: Path, tmp_path: Path) -> None:
    out = tmp_path / "x"
    common = ["-m", "cnnzoo", "train", "lenet5", "--data", f"folder:{digits}", "--out", str(out)]
    procs = [
        subprocess.Popen(
            [sys.executable, *common, "--epochs", str(n), "--no-plots"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        for n in (6, 2)
    ]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    winner = next(r for r in results if r[0] == 0)
    loser = next(r for r in results if r[0] == 1)
    lines = loser[2].strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0], loser[2]
    assert "in use by another training run" in lines[0] or "already holds" in lines[0]
    # The directory holds exactly the winner's run, consistently.
    epochs = len(json.loads((out / "history.json").read_text()))
    assert f"last epoch {epochs} ->" in winner[1]
    assert read_checkpoint(out / "last.pth").extra["epoch"] == epochs
    assert not (out / LOCK_NAME).exists()


def test_an_existing_folder_of_the_users_files_is_not_overwritten(
    digits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "history.csv").write_text("my notes\n")
    code, _, err = cli(["train", "lenet5", "--data", f"folder:{digits}", "--out", str(out),
                        "--epochs", "1"], capsys)  # fmt: skip
    assert code == 1 and "history.csv" in err and "choose another --out" in err
    assert (out / "history.csv").read_text() == "my notes\n"
    assert sorted(p.name for p in out.iterdir()) == ["history.csv"]


def test_a_dangling_symlink_out(
    digits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "runs"
    link.symlink_to(tmp_path / "gone")
    code, _, err = cli(["train", "lenet5", "--data", f"folder:{digits}", "--out", str(link)],
                       capsys)  # fmt: skip
    assert code == 1 and "symbolic link" in err and "Errno" not in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------------
# non-finite training


def test_a_diverging_run_stops_at_the_first_non_finite_loss(
    digits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code, _, err = cli(["train", "lenet5", "--data", f"folder:{digits}", "--out", str(out),
                        "--lr", "1e6", "--epochs", "3", "--no-plots"], capsys)  # fmt: skip
    assert code == 1, err
    (line,) = err.strip().splitlines()
    assert "training diverged: the loss is" in line and "smaller --lr" in line
    # the first batch whose loss is not finite, or the validation loss after the epoch's last
    assert "at epoch 1/3, batch" in line or "epoch 1/3, on the validation images" in line
    # last.pth holds the last finite state (here the start: no epoch completed), and resumes.
    saved = read_checkpoint(out / "last.pth")
    assert saved.extra["epoch"] == 0
    assert all(bool(torch.isfinite(t).all()) for t in saved.state_dict.values())
    json.loads((out / "history.json").read_text(), parse_constant=pytest.fail)
    code, _out_text, err = cli(["train", "lenet5", "--data", f"folder:{digits}", "--resume",
                               str(out / "last.pth"), "--lr", "0.01", "--epochs", "1",
                               "--no-plots"], capsys)  # fmt: skip
    assert code == 0, err


def test_history_json_never_holds_nan(tmp_path: Path) -> None:
    from cnnzoo.training.history import write_history as _write_history

    _write_history(tmp_path, [{"epoch": 1, "train_loss": math.nan, "val_loss": math.inf}])
    history = json.loads((tmp_path / "history.json").read_text(), parse_constant=pytest.fail)
    assert history[0]["train_loss"] is None and history[0]["val_loss"] is None


def test_export_of_non_finite_weights_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cnnzoo

    model = cnnzoo.create("lenet5")
    with torch.no_grad():
        model.conv1.weight[0, 0, 0, 0] = math.nan
    ckpt = save_checkpoint(tmp_path / "nan.pth", model, model_name="lenet5")
    code, _out, err = cli(["export", "lenet5", "--checkpoint", str(ckpt), "-o",
                          str(tmp_path / "x.onnx")], capsys)  # fmt: skip
    assert code == 1 and "NaN or infinite" in err and "conv1.weight" in err, err
    assert "tolerance" not in err and list(tmp_path.iterdir()) == [ckpt]


# --------------------------------------------------------------------------------------------
# usage errors exit 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lr", "inf"], "--lr: 'inf' is not a finite number"),
        (["--lr", "0"], "--lr: 0 is outside (0, inf)"),
        (["--weight-decay", "nan"], "--weight-decay: 'nan' is not a finite number"),
        (["--momentum", "1"], "--momentum: 1 is outside [0, 1)"),
        (["--val-split", "1.0"], "--val-split: 1 is outside [0, 1)"),
        (["--seed", str(2**64)], "--seed: 18446744073709551616 is outside 0..4294967295"),
        (["--device", "cpu:7"], "one cpu device"),
        (["--device", "cpu:abc"], "'abc' is not a whole number"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--epochs", "0"], "--epochs: 0 is not a positive number"),
    ],
)
def test_train_option_usage_errors(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(["train", "lenet5", "--data", "folder:nowhere", *args], capsys)
    assert code == 2 and says in err, err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["evaluate", "x.pth", "--data", "folder:d", "--batch-size", "0"], "not a positive"),
        (["evaluate", "x.pth", "--data", "folder:d", "--batch-size", "-5"], "not a positive"),
        (["evaluate", "x.pth", "--data", "folder:d", "--device", "cpu:1"], "one cpu device"),
        (["export", "lenet5", "--netron", "--port", "70000"], "70000 is not a port"),
    ],
)
def test_other_usage_errors(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(args, capsys)
    assert code == 2 and says in err, err


def test_the_library_refuses_non_finite_options_too(digits: Path, tmp_path: Path) -> None:
    from cnnzoo.training import evaluate, pick_device, train

    for bad in ({"lr": math.inf}, {"weight_decay": math.nan}, {"seed": 2**64}):
        with pytest.raises(InvalidArgumentError, match=next(iter(bad))):
            train("lenet5", f"folder:{digits}", out=tmp_path / "r", **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        evaluate(tmp_path / "x.pth", f"folder:{digits}", batch_size=0)
    with pytest.raises(InvalidArgumentError, match="one cpu device"):
        pick_device("cpu:7")
    assert not (tmp_path / "r").exists()


def test_resume_with_nothing_left_to_train_says_so(
    digits: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    base = ["train", "lenet5", "--data", f"folder:{digits}", "--no-plots"]
    assert cli([*base, "--out", str(out), "--epochs", "2"], capsys)[0] == 0
    before = (out / "last.pth").read_bytes()
    code, _, err = cli([*base, "--resume", str(out / "last.pth"), "--epochs", "1"], capsys)
    assert code == 1 and "already trained 2 epoch(s)" in err and "--epochs 7" in err
    assert (out / "last.pth").read_bytes() == before


# --------------------------------------------------------------------------------------------
# termination


@pytest.mark.slow
def test_sigterm_during_export_cleans_up_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # What an export killed with SIGKILL left behind, from a process that no longer runs.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = out / f".m.onnx.cnnzoo-{int(dead.stdout)}-abcd"
    stale.mkdir()
    (stale / "m.onnx").write_bytes(b"x" * 1000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnnzoo", "export", "resnet18", "-o", str(out / "m.onnx")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 120
    mine = f".m.onnx.cnnzoo-{proc.pid}-"
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.startswith(mine) for p in out.iterdir()):
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    assert not stale.exists()  # swept before this export began
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == [
        "cnnzoo export: terminated (SIGTERM); no file was left half-written"
    ]
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------------------------
# FER2013 with a no-break space


def test_fer2013_with_a_no_break_space_loads_in_strict_mode_too(tmp_path: Path) -> None:
    from cnnzoo.data import load_data
    from cnnzoo.preprocess import preprocess_for

    from ._digits import write_fer_csv

    path = tmp_path / "fer.csv"
    write_fer_csv(path, n=14)
    lines = path.read_text().splitlines()
    # a spreadsheet's no-break space between two values of the first row, a thin space in another
    lines[1] = lines[1].replace(" ", "\u00a0", 1)
    lines[2] = lines[2].replace(" ", "\u2009", 3)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for strict in (False, True):
        splits = load_data(f"fer2013:{path}", preprocess_for("fer_cnn"), strict=strict)
        assert splits.skipped == 0 and len(splits.train) + len(splits.test or []) == 14
    # a non-blank non-ASCII character is one bad row, named, not a crash
    lines[3] = lines[3].replace(" ", " \u00e9", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    splits = load_data(f"fer2013:{path}", preprocess_for("fer_cnn"))
    assert splits.skipped == 1 and "U+00E9" in splits.problems[0] and "line 4" in splits.problems[0]
