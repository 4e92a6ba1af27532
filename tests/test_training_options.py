"""Issue 12's training strategies: schedules, label smoothing, clipping, optimizers, the CIFAR
augmentation, mixed precision's refusal on the CPU, honest model selection, experiment files,
and ``cnnzoo runs``. Real digits (sklearn) throughout; small epochs."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
import torch

from cnnzoo.checkpoint import read_checkpoint
from cnnzoo.data import DataSplits, ImageSet
from cnnzoo.errors import CheckpointError, DataError, InvalidArgumentError
from cnnzoo.preprocess import preprocess_for
from cnnzoo.training import TrainEvent, TrainingInterrupted, evaluate, read_config, train
from cnnzoo.training.batches import Normalizer, augment_crop_flip, epoch_generator
from cnnzoo.training.schedules import WARMUP_START, make_scheduler

from ._digits import digits_arrays, write_digits_folder

KEYS = ["train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _digits(n: int = 400, test: tuple[int, int] | None = None) -> DataSplits:
    images, labels = digits_arrays(32)
    classes = [str(i) for i in range(10)]

    def part(a: int, b: int) -> ImageSet:
        return ImageSet(
            torch.from_numpy(images[a:b]).unsqueeze(1).contiguous(),
            torch.from_numpy(labels[a:b]),
            classes,
            "digits (in memory)",
        )

    return DataSplits(
        train=part(0, n), test=None if test is None else part(*test), classes=classes, skipped=0
    )


def _same(a: list[dict], b: list[dict], tol: float = 1e-6, keys=KEYS) -> None:
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b]
    for ra, rb in zip(a, b, strict=True):
        for k in keys:
            if ra[k] is None or rb[k] is None:
                assert ra[k] is rb[k], (ra["epoch"], k)
            else:
                assert abs(ra[k] - rb[k]) <= tol, (ra["epoch"], k, ra[k], rb[k])


# ------------------------------------------------------------------------------------------
# schedules against their formulas


def _curve(schedule: str, epochs: int, steps: int, warmup: float = 0, **extra) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    cfg = {"schedule": schedule, "epochs": epochs, "lr": 0.1, "warmup_epochs": warmup,
           "step_epochs": extra.get("step_epochs"), "gamma": extra.get("gamma", 0.1)}  # fmt: skip
    sched = make_scheduler(opt, cfg, steps)
    lrs = []
    for _ in range(epochs * steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def _warm(t: int, w: int) -> float:
    return 0.1 * (WARMUP_START + (1 - WARMUP_START) * t / w)


@pytest.mark.parametrize("warmup", [0, 2])
def test_each_schedule_follows_its_formula_per_batch(warmup):
    E, S = 6, 5
    W = warmup * S
    T = E * S
    want = {
        "constant": [0.1] * T,
        "cosine": [0.1 * (1 + math.cos(math.pi * (t - W) / (T - W))) / 2 for t in range(T)],
        "step": [0.1 * 0.5 ** ((t - W) // (2 * S)) for t in range(T)],
    }
    for name, curve in want.items():
        if W:
            curve = [_warm(t, W) if t < W else v for t, v in enumerate(curve)]
        got = _curve(name, E, S, warmup, step_epochs=2, gamma=0.5)
        assert got == pytest.approx(curve, rel=1e-9, abs=1e-12), name
    # onecycle: up to lr over the warm-up (30% without one), cosine down to lr / 25 / 1e4.
    one = _curve("onecycle", E, S, warmup)
    peak = W - 1 if W else round(0.3 * T) - 1
    assert one[0] == pytest.approx(0.1 / 25)
    assert max(one) == pytest.approx(0.1) and one.index(max(one)) == peak
    assert one[-1] < 0.1 / 25 / 100 and all(
        a >= b for a, b in zip(one[peak:-1], one[peak + 1 :], strict=True)
    )


def test_history_records_the_lr_of_every_epoch(tmp_path):
    run = train("lenet5", _digits(160), epochs=4, batch_size=32, lr=0.05, schedule="cosine",
                warmup_epochs=1, out=tmp_path / "run", plots=False)  # fmt: skip
    steps = 4  # 128 training images (20% of 160 held out) at 32 per step
    T, W = 4 * steps, steps
    # The lr of each epoch's first batch: the warm-up's start, then the cosine after it.
    want = [0.05 * WARMUP_START] + [
        0.05 * (1 + math.cos(math.pi * (e * steps - W) / (T - W))) / 2 for e in (1, 2, 3)
    ]
    assert [r["lr"] for r in run.history] == pytest.approx(want)
    saved = json.loads((run.out / "history.json").read_text())
    assert [r["lr"] for r in saved] == [r["lr"] for r in run.history]
    assert "scheduler" in read_checkpoint(run.last).extra


# ------------------------------------------------------------------------------------------
# resume in the middle of a schedule


STRATEGY = {"epochs": 3, "batch_size": 32, "lr": 0.05, "seed": 2, "schedule": "cosine",
            "warmup_epochs": 1, "label_smoothing": 0.1, "grad_clip": 1.0, "nesterov": True,
            "augment": "crop-flip"}  # fmt: skip


def test_resume_mid_schedule_gives_the_uninterrupted_history(tmp_path):
    data = _digits(200)
    full = train("lenet5", data, out=tmp_path / "full", plots=False, **STRATEGY)

    def stop(event: TrainEvent) -> None:
        if event.kind == "step" and (event.epoch, event.step) == (2, 3):
            raise KeyboardInterrupt

    out = tmp_path / "stopped"
    with pytest.raises(TrainingInterrupted):
        train("lenet5", data, out=out, plots=False, progress=stop, **STRATEGY)
    assert read_checkpoint(out / "last.pth").extra["epoch"] == 1
    resumed = train("lenet5", data, resume=out / "last.pth", plots=False)
    _same(resumed.history, full.history, tol=0.0)
    a, b = read_checkpoint(out / "last.pth"), read_checkpoint(full.last)
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    # The schedule was planned over 3 epochs: resuming it over 5 is refused.
    with pytest.raises(InvalidArgumentError, match="cosine schedule over 3 epochs"):
        train("lenet5", data, resume=out / "last.pth", epochs=5, plots=False)
    with pytest.raises(InvalidArgumentError, match="same --epochs, --batch-size and schedule"):
        train("lenet5", data, resume=out / "last.pth", schedule="constant", plots=False)


# ------------------------------------------------------------------------------------------
# the CIFAR augmentation


def test_crop_flip_is_seeded_exact_and_changes_the_batch():
    pre = preprocess_for("resnet20")
    norm = Normalizer(pre, torch.device("cpu"), channels_last=False)
    raw = torch.randint(1, 256, (16, 3, 32, 32), dtype=torch.uint8)
    x = norm(raw)
    a = augment_crop_flip(x, epoch_generator(0, 1, 1), norm)
    b = augment_crop_flip(x, epoch_generator(0, 1, 1), norm)
    c = augment_crop_flip(x, epoch_generator(0, 2, 1), norm)
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, x)
    assert a.shape == x.shape
    # Every image is a 32x32 window of the image padded by 4 black pixels, flipped or not.
    black = norm(torch.zeros(1, 3, 1, 1, dtype=torch.uint8))[0, :, 0, 0]
    padded = black.view(1, 3, 1, 1).expand(16, 3, 40, 40).clone()
    padded[:, :, 4:36, 4:36] = x
    flips = 0
    for i in range(16):
        windows = [
            (padded[i, :, r : r + 32, s : s + 32], f)
            for r in range(9)
            for s in range(9)
            for f in (False, True)
        ]
        hits = [f for w, f in windows if torch.equal(w.flip(2) if f else w, a[i])]
        assert hits, i
        flips += hits[0]
    assert 0 < flips < 16


def test_crop_flip_runs_are_seeded_and_differ_from_plain(tmp_path):
    def run(name: str, augment: str) -> list[dict]:
        return train("lenet5", _digits(160), epochs=1, batch_size=40, seed=5, augment=augment,
                     out=tmp_path / name, plots=False).history  # fmt: skip

    a, b, plain = run("a", "crop-flip"), run("b", "crop-flip"), run("plain", "none")
    _same(a, b, tol=0.0)
    assert a[0]["train_loss"] != plain[0]["train_loss"]


# ------------------------------------------------------------------------------------------
# honest model selection


def test_best_pth_never_depends_on_the_test_split(tmp_path):
    opts = {"epochs": 4, "batch_size": 32, "lr": 0.05, "seed": 1, "plots": False}
    one = train("lenet5", _digits(240, test=(240, 400)), out=tmp_path / "a", **opts)
    two = train("lenet5", _digits(240, test=(400, 430)), out=tmp_path / "b", **opts)
    assert one.best_epoch == two.best_epoch
    _same(one.history, two.history, tol=0.0, keys=["train_loss", "val_loss", "val_acc", "lr"])
    assert [r["test_acc"] for r in one.history] != [r["test_acc"] for r in two.history]
    wa, wb = read_checkpoint(one.best).state_dict, read_checkpoint(two.best).state_dict
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    # The history says which split each curve is.
    config = read_checkpoint(one.best).extra["config"]
    assert config["validation"].startswith("48 images held out of the training split")
    assert config["test"] == "160 images (reported only)"


def test_evaluate_scores_exactly_the_held_out_images_or_refuses(tmp_path):
    data = _digits(240, test=(240, 300))
    run = train("lenet5", data, epochs=1, batch_size=32, out=tmp_path / "r", plots=False)
    val = evaluate(run.best, data, split="validation")
    assert val.num_images == 48 and val.accuracy == pytest.approx(run.history[0]["val_acc"])
    assert evaluate(run.best, data, split="train").num_images == 192  # what it trained on
    assert evaluate(run.best, data).split == "test"
    other = _digits(300)  # not the data the run held its validation images out of
    with pytest.raises(DataError, match="not the one"):
        evaluate(run.best, other, split="validation")
    old = tmp_path / "old.pth"  # a checkpoint that does not record its splits
    ck = torch.load(run.best, weights_only=True)
    del ck["splits"]
    torch.save(ck, old)
    with pytest.raises(CheckpointError, match="does not record which images"):
        evaluate(old, data, split="validation")
    none = train("lenet5", data, epochs=1, val_split=0.0, out=tmp_path / "n", plots=False)
    with pytest.raises(DataError, match="held out no validation images"):
        evaluate(none.best, data, split="validation")


# ------------------------------------------------------------------------------------------
# options


def test_bad_strategy_options_are_clear_errors(tmp_path):
    cases = [
        ({"schedule": "linear"}, "unknown schedule"),
        ({"warmup_epochs": 10, "epochs": 10}, "warmup_epochs"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"grad_clip": 0.0}, "grad_clip"),
        ({"optimizer": "adam", "nesterov": True}, "nesterov"),
        ({"augment": "mixup"}, "crop-flip"),
        ({"lr": float("inf")}, "finite"),
    ]
    for option, match in cases:
        with pytest.raises(InvalidArgumentError, match=match):
            train("lenet5", _digits(64), out=tmp_path / "run", **option)
    assert not (tmp_path / "run").exists()


def test_the_cli_offers_the_library_choices():
    from cnnzoo.cli import train as cli_train
    from cnnzoo.training import OPTIMIZERS, SCHEDULES
    from cnnzoo.training.batches import AUGMENTATIONS

    assert cli_train.OPTIMIZERS == OPTIMIZERS and cli_train.SCHEDULES == SCHEDULES
    assert tuple(AUGMENTATIONS) == cli_train.AUGMENT_NAMES


def test_amp_on_the_cpu_is_bfloat16_with_avx512_and_refused_without(tmp_path, capsys, monkeypatch):
    from cnnzoo.cli import main
    from cnnzoo.training import device as dev

    if dev.cpu_has_fast_bfloat16():  # this machine: a real run under bfloat16 autocast
        opts = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 0.003, "plots": False}
        runs = {
            amp: train(
                "lenet5", _digits(400), amp=amp, device="cpu", out=tmp_path / str(amp), **opts
            )
            for amp in (False, True)
        }
        assert read_checkpoint(runs[True].last).extra["config"]["precision"] == "bfloat16"
        # It learns as float32 does (0.887 and 0.900 here after 3 epochs), not identically.
        assert runs[True].history[-1]["val_acc"] > 0.8
        assert abs(runs[True].history[-1]["val_acc"] - runs[False].history[-1]["val_acc"]) < 0.05
        assert runs[True].history[-1]["train_loss"] != runs[False].history[-1]["train_loss"]
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    with pytest.raises(InvalidArgumentError, match="no AVX-512"):
        train("lenet5", _digits(64), amp=True, device="cpu", out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    root = write_digits_folder(tmp_path / "d", size=32, n_per_class=6)
    code = main(["train", "lenet5", "--data", f"folder:{root}", "--amp", "--device", "cpu",
                 "--out", str(tmp_path / "cli")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "leave --amp off" in err[0]
    assert not (tmp_path / "cli").exists()
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    assert dev.make_precision(True, torch.device("cpu")).dtype == torch.bfloat16


def test_amp_on_cuda_picks_bfloat16_else_float16_with_a_scaler(monkeypatch):
    import warnings

    from cnnzoo.training.device import make_precision

    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    bf16 = make_precision(True, cuda)
    assert bf16.dtype == torch.bfloat16 and bf16.scaler is None and bf16.name == "bfloat16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GradScaler warns when this machine has no CUDA
        fp16 = make_precision(True, cuda)
    assert fp16.dtype == torch.float16 and fp16.scaler is not None
    assert make_precision(False, cuda).name == "float32"


def test_label_smoothing_and_clipping_change_training(tmp_path):
    base = {"epochs": 1, "batch_size": 32, "lr": 0.1, "seed": 4, "plots": False}
    plain = train("lenet5", _digits(128), out=tmp_path / "p", **base).history[0]
    smooth = train("lenet5", _digits(128), out=tmp_path / "s", label_smoothing=0.2,
                   **base).history[0]  # fmt: skip
    clipped = train("lenet5", _digits(128), out=tmp_path / "c", grad_clip=0.01, **base).history[0]
    assert smooth["train_loss"] != plain["train_loss"]
    assert clipped["val_loss"] != plain["val_loss"]


# ------------------------------------------------------------------------------------------
# experiments as files, and runs side by side


@pytest.fixture(scope="module")
def digit_runs(tmp_path_factory):
    """Two real runs on the digits from the CLI: the constant default and cosine + smoothing."""
    from cnnzoo.cli import main

    root = tmp_path_factory.mktemp("runs")
    data = write_digits_folder(root / "digits", size=32, n_per_class=30)
    exp = root / "exp.toml"
    exp.write_text(
        f'model = "lenet5"\ndata = "folder:{data}"\nepochs = 2\nbatch_size = 32\n'
        'optimizer = "adam"\nlr = 0.003\nseed = 7\n'
    )
    assert main(["train", "--config", str(exp), "--out", str(root / "constant")]) == 0
    assert main(["train", "--config", str(exp), "--schedule", "cosine", "--label-smoothing",
                 "0.1", "--out", str(root / "cosine")]) == 0  # fmt: skip
    return root


def test_config_round_trip_repeats_the_run(digit_runs, capsys):
    from cnnzoo.cli import main

    first = digit_runs / "cosine"
    cfg = read_config(first / "config.toml")
    assert cfg["model"] == "lenet5" and cfg["schedule"] == "cosine" and cfg["epochs"] == 2
    assert cfg["label_smoothing"] == 0.1 and cfg["lr"] == 0.003 and cfg["device"] == "auto"
    again = digit_runs / "again"
    assert main(["train", "--config", str(first / "config.toml"), "--out", str(again)]) == 0
    out = capsys.readouterr().out
    assert "options: adam lr 0.003, cosine schedule, label smoothing 0.1" in out
    a = json.loads((first / "history.json").read_text())
    b = json.loads((again / "history.json").read_text())
    _same(a, b, tol=0.0)
    assert (again / "config.toml").read_text() == (first / "config.toml").read_text()


def test_a_bad_config_file_is_one_clear_line(tmp_path, capsys):
    from cnnzoo.cli import main

    bad = tmp_path / "exp.toml"
    bad.write_text('model = "lenet5"\nepoch = 3\n')
    assert main(["train", "--config", str(bad)]) == 1
    assert "unknown key 'epoch' (did you mean 'epochs'?)" in capsys.readouterr().err


def test_cnnzoo_runs_puts_real_runs_side_by_side(digit_runs, capsys, tmp_path):
    import cnnzoo
    from cnnzoo.cli import main

    figure = tmp_path / "runs.png"
    pattern = str(digit_runs / "c*")
    assert main(["runs", pattern, "--format", "csv", "--figure", str(figure)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["run"] for r in rows] == ["constant", "cosine"]
    assert [r["schedule"] for r in rows] == ["constant", "cosine"]
    assert [r["label_smoothing"] for r in rows] == ["0.0", "0.1"]
    assert "lr" not in rows[0] and "epochs" not in rows[0]  # the same in both: not shown
    data = cnnzoo.compare_runs([digit_runs / "constant", digit_runs / "cosine"])
    assert data.differing == ["schedule", "label_smoothing"]
    for summary, row in zip(data.runs, rows, strict=True):
        history = json.loads((summary.path / "history.json").read_text())
        best = max(history, key=lambda r: (r["val_acc"], -r["val_loss"]))
        assert (
            summary.best_epoch
            == best["epoch"]
            == read_checkpoint(summary.path / "best.pth").extra["epoch"]
        )
        assert row["best val_acc"] == f"{best['val_acc']:.4f}"
        assert row["test_acc"] == f"{best['test_acc']:.4f}"
    from PIL import Image

    with Image.open(figure) as im:
        assert im.format == "PNG" and im.size[0] > 600
    assert main(["runs", str(digit_runs / "constant"), str(digit_runs / "cosine"),
                 "--format", "markdown", "--no-figure"]) == 0  # fmt: skip
    md = capsys.readouterr().out.splitlines()
    assert md[0].startswith("| run | model | schedule | label_smoothing |") and len(md) == 4
    assert main(["runs", str(tmp_path / "nothing-*")]) == 1
    assert "no run directory matches" in capsys.readouterr().err
