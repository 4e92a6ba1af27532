"""``cnnzoo.train``: assemble the parts, then run the epochs.

The epoch loop (``run_epochs``) is the labs' loop: for each epoch, cut the
batches, train one epoch, evaluate the validation (and test) images, record, keep the best,
save. Everything else is a part beside it: options and schedules, data and batches, the device,
the run's checkpoints, history and plots.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..checkpoint import Checkpoint, atomic_write, read_checkpoint
from ..display.progress import resolve_progress
from ..divergence import NonFiniteLoss, diverged, use_given_lr
from ..errors import CheckpointError, InvalidArgumentError
from ..preprocess import Preprocess, preprocess_for
from ..rundir import check_epochs_left, check_run_dir, claim_run_dir
from .batches import Normalizer, epoch_batches
from .device import Dist, Precision, channels_last_helps, init_distributed, make_precision
from .history import score, write_history
from .loop import evaluate_split, train_one_epoch
from .options import (
    DEFAULTS,
    check_options,
    config_toml,
    make_optimizer,
    normalise_augment,
    read_config,
    resolve_step_epochs,
)
from .results import TrainEvent, TrainingInterrupted, TrainResult
from .schedules import make_scheduler, schedule_plan
from .splits import Split, Splits
from .state import RunState, check_out, resolve_out, save_snapshot

__all__ = ["train"]


def train(
    name: str | None = None,
    data: Any = None,
    *,
    config: str | PathLike[str] | dict[str, Any] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    optimizer: str | None = None,
    momentum: float | None = None,
    nesterov: bool | None = None,
    weight_decay: float | None = None,
    schedule: str | None = None,
    warmup_epochs: float | None = None,
    step_epochs: int | None = None,
    gamma: float | None = None,
    label_smoothing: float | None = None,
    grad_clip: float | None = None,
    val_split: float | None = None,
    seed: int | None = None,
    augment: str | bool | None = None,
    amp: bool | None = None,
    device: str | torch.device | None = None,
    out: str | PathLike[str] | None = None,
    resume: str | PathLike[str] | None = None,
    onnx: bool = False,
    strict: bool = False,
    download: bool = False,
    plots: bool = True,
    channels_last: bool | None = None,
    progress: Callable[[TrainEvent], None] | bool | None = None,
    pretrained: bool | None = None,
    weights: str | None = None,
    freeze_backbone: bool | None = None,
    image_size: int | None = None,
) -> TrainResult:
    """Train registered model ``name`` on ``data`` and write the run to ``out``.

    Args:
        name: a registered model name or alias (or ``model`` in ``config``).
        data: a data spec (``"mnist:DIR"``, ``"folder:DIR"``, ``"fer2013:CSV"``, ...) or a loaded
            ``DataSplits`` whose images are at the model's preprocessing size (or ``data`` in
            ``config``).
        config: an experiment file (TOML) or dict of these options; the arguments given here
            override it. Every run writes its resolved options to ``config.toml``.
        epochs: total epochs (a resumed run continues up to this number). Default 10.
        batch_size: images per optimizer step, over all processes together. Default 64.
        lr: the base learning rate. Default 0.01.
        optimizer: ``"sgd"`` (default, with ``momentum``), ``"adam"`` or ``"adamw"``.
        momentum: SGD momentum. Default 0.9.
        nesterov: Nesterov momentum for SGD. Default off.
        weight_decay: L2 penalty. Default 0.
        schedule: ``"constant"`` (default), ``"step"``, ``"cosine"`` or ``"onecycle"``, stepped
            per batch (see [`schedules`][cnnzoo.training.schedules]).
        warmup_epochs: epochs of linear warm-up from 1% of ``lr``. Default 0.
        step_epochs: the step schedule's period in epochs (default a third of the run).
        gamma: the step schedule's factor. Default 0.1.
        label_smoothing: cross-entropy label smoothing. Default 0.
        grad_clip: clip the gradient norm to this. Default off.
        val_split: the fraction of the training images held out for validation (chosen with
            ``seed``), on which ``best.pth`` is chosen. Default 0.2; 0: no validation (then the
            last training accuracy chooses). A test split is evaluated every epoch and
            reported, but never chooses.
        seed: seeds the initial weights, the split, every epoch's order and augmentation.
        augment: ``"none"`` (default), ``"affine"`` (small rotations, scalings and shifts: for
            digits and faces) or ``"crop-flip"`` (CIFAR's 4-pixel-padded random crop and
            horizontal flip); on whole batches, seeded. ``True`` means ``"affine"``.
        amp: mixed precision on CUDA (bfloat16 where supported, else float16 with a gradient
            scaler); refused on other devices.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"mps"``.
        out: the output directory; default ``runs/NAME-<timestamp>/`` (the checkpoint's own
            directory when resuming).
        resume: a ``last.pth`` to continue from; options not given are taken from it.
        onnx: also export ``best.pth`` to ``best.onnx`` through ``cnnzoo.export_onnx``.
        strict: fail on a malformed item instead of skipping it (data specs only).
        download: let torchvision download a named dataset that is missing.
        plots: write the PNG figures (``loss.png``, ``accuracy.png``, ``confusion_matrix.png``,
            ``samples.png``).
        channels_last: the memory format of the batches and weights; default: where it was
            measured faster (convolutional models on the CPU).
        progress: called with a [`TrainEvent`][cnnzoo.training.TrainEvent] at the start, on
            every step, at every epoch's end and at the end (rank 0 only); ``True`` shows a
            ``tqdm.auto`` bar per epoch (a widget in a notebook with ipywidgets, text otherwise).
        pretrained: fine-tune the default published weights: backbone loaded, a new head for
            the data's classes, images brought to the backbone's size, channels and
            normalisation (see [`cnnzoo.pretrained.finetune`][cnnzoo.pretrained.finetune]).
        weights: fine-tune the published weights set of this name instead.
        freeze_backbone: train the head only; the backbone's parameters and BatchNorm
            statistics stay bit-identical to the published weights.
        image_size: the side images are resized to when fine-tuning (default the weights'
            crop, 224).

    Returns:
        A [`TrainResult`][cnnzoo.training.TrainResult].

    Raises:
        InvalidArgumentError: a bad option or an unusable output directory (checked before
            anything is written).
        DataError: unreadable data, or labels outside the class list.
        CheckpointError: ``resume`` is unreadable or belongs to another model.
        TrainingInterrupted: on Ctrl-C, after saving ``last.pth`` (a ``KeyboardInterrupt``).
    """
    from ..registry import model_info

    given = dict(locals())
    file_cfg = read_config(config) if isinstance(config, (str, PathLike)) else dict(config or {})
    name = name if name is not None else file_cfg.get("model")
    data = data if data is not None else file_cfg.get("data")
    if name is None or data is None:
        missing = "the model name" if name is None else "the data (--data)"
        raise InvalidArgumentError(f"train needs {missing}, on the command line or in --config")
    card = model_info(name)
    resume_path = Path(resume) if resume is not None else None
    ckpt = _read_resume(resume_path, card.name)
    saved = dict(ckpt.extra.get("config", {})) if ckpt is not None else {}
    cfg: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        value = given.get(key)
        cfg[key] = value if value is not None else file_cfg.get(key, saved.get(key, default))
    cfg["augment"] = normalise_augment(cfg["augment"])
    check_options(cfg)
    resolve_step_epochs(cfg)
    device = device if device is not None else file_cfg.get("device", "auto")
    if channels_last is None:
        channels_last = file_cfg.get("channels_last")
    tune = _fine_tuning(card.name, ckpt, file_cfg, pretrained, weights, freeze_backbone, image_size)

    # Everything that can be checked is checked before the first file is written.
    out_path = resolve_out(out, card.name, resume_path)
    check_out(out_path, resume_path)
    check_run_dir(out_path, resume_path)  # the user's files, a dangling link
    preprocess = (
        Preprocess.from_dict(ckpt.extra["preprocess"])
        if ckpt is not None and "preprocess" in ckpt.extra
        else tune.preprocess()
        if tune is not None
        else preprocess_for(card.name)
    )
    sets = Splits.load(data, preprocess, cfg, ckpt, resume_path, download=download, strict=strict)
    if tune is not None:
        sets.info["notes"] += tune.notes(len(sets.classes))
    dist, dev = init_distributed(device)
    lock = None
    try:
        # The run owns its directory from here on (rank 0 writes every file).
        lock = claim_run_dir(out_path, resume_path) if dist.rank == 0 else None
        run = _Run.build(
            card.name, cfg, sets, preprocess, dist, dev, out_path, ckpt, resume_path,
            channels_last=channels_last, progress=resolve_progress(progress),
            device_arg=str(device), tune=tune,
        )  # fmt: skip
        run_epochs(run)
        return run.finish(plots=plots, onnx=onnx)
    finally:
        if lock is not None:
            lock.release()
        dist.close()


def _fine_tuning(
    name: str,
    ckpt: Checkpoint | None,
    file_cfg: dict[str, Any],
    pretrained: bool | None,
    weights: str | None,
    freeze: bool | None,
    image_size: int | None,
) -> Any:
    """Fine-tuning published weights (cnnzoo.pretrained.finetune); a resumed run repeats its
    plan."""
    from ..pretrained import finetune

    if ckpt is not None and ckpt.extra.get("finetune"):
        return finetune.FineTune.from_record(ckpt.extra["finetune"])

    def pick(value: Any, key: str, default: Any) -> Any:
        return value if value is not None else file_cfg.get(key, default)

    return finetune.plan(
        name,
        pretrained=bool(pick(pretrained, "pretrained", False)),
        weights=pick(weights, "weights", None),
        freeze_backbone=bool(pick(freeze, "freeze_backbone", False)),
        image_size=pick(image_size, "image_size", None),
    )


def _read_resume(path: Path | None, model_name: str) -> Checkpoint | None:
    if path is None:
        return None
    ckpt = read_checkpoint(path)
    if ckpt.model is not None and ckpt.model != model_name:
        raise CheckpointError(
            f"{str(path)!r} was trained as {ckpt.model!r}, not {model_name!r}; "
            f"resume it with: cnnzoo train {ckpt.model} --resume {path}"
        )
    if "epoch" not in ckpt.extra or "optimizer" not in ckpt.extra:
        raise CheckpointError(
            f"{str(path)!r} is not a checkpoint written by cnnzoo train (no epoch and "
            "optimizer state); resume from a run's last.pth"
        )
    return ckpt


@dataclass
class _Run:
    """The parts of one run, assembled: model, optimizer, schedule, data, state, outputs."""

    model_name: str
    model_kwargs: dict[str, Any]
    cfg: dict[str, Any]
    config: dict[str, Any]
    sets: Splits
    dist: Dist
    device: torch.device
    model: nn.Module
    ddp_model: nn.Module
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    precision: Precision
    norm: Normalizer
    state: RunState
    out: Path
    resume_path: Path | None
    common: dict[str, Any]
    steps: int
    progress: Callable[[TrainEvent], None] | None
    saved_epoch: int | None = None
    boundary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        model_name: str,
        cfg: dict[str, Any],
        sets: Splits,
        preprocess: Preprocess,
        dist: Dist,
        device: torch.device,
        out: Path,
        ckpt: Checkpoint | None,
        resume_path: Path | None,
        *,
        channels_last: bool | None,
        progress: Callable[[TrainEvent], None] | None,
        device_arg: str,
        tune: Any = None,
    ) -> _Run:
        from ..registry import create, model_info

        out = Path(dist.broadcast(str(out)))  # rank 0's default timestamp names the run
        precision = make_precision(cfg["amp"], device)
        model_kwargs: dict[str, Any] = {"num_classes": len(sets.classes)}
        if preprocess.channels != int(model_info(model_name).input_size[0]):
            model_kwargs["in_chans"] = preprocess.channels
        torch.manual_seed(cfg["seed"])
        model: nn.Module = (
            create(model_name, **model_kwargs)
            if tune is None
            else tune.build(create, model_kwargs, load=ckpt is None)
        ).to(device)
        use_cl = channels_last_helps(device, model) if channels_last is None else channels_last
        if use_cl:
            model.to(memory_format=torch.channels_last)
        # A frozen backbone stays out of the optimizer.
        optimizer = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
        steps = -(-len(sets.train[1]) // cfg["batch_size"])
        plan = schedule_plan(cfg, steps)
        if ckpt is not None:
            saved_plan = ckpt.extra.get("schedule_plan")
            plain = {"schedule": "constant", "warmup_epochs": 0}
            both_plain = all(
                p is not None and all(p[k] == v for k, v in plain.items())
                for p in (saved_plan, plan)
            )
            if saved_plan is not None and saved_plan != plan and not both_plain:
                over = f" over {saved_plan['epochs']} epochs" if saved_plan["epochs"] else ""
                raise InvalidArgumentError(
                    f"{str(resume_path)!r} follows a {saved_plan['schedule']} schedule{over} of "
                    f"{saved_plan['steps_per_epoch']} steps an epoch (warm-up "
                    f"{saved_plan['warmup_epochs']:g} epochs); resume it with the same --epochs, "
                    "--batch-size and schedule options, or start a new run"
                )
        if ckpt is not None:  # after the plan's own refusal, which says more
            assert resume_path is not None
            check_epochs_left(cfg["epochs"], int(ckpt.extra["epoch"]), resume_path, out)
        scheduler = make_scheduler(optimizer, cfg, steps)
        state = RunState(model, optimizer, scheduler, precision.scaler, device)
        if ckpt is not None:
            assert resume_path is not None
            state.restore(ckpt, resume_path)
            if cfg["lr"] != (ckpt.extra.get("config") or {}).get("lr", cfg["lr"]):
                # a --lr given on resume (after a diverged run) replaces the saved rates
                use_given_lr(optimizer, scheduler, cfg["lr"], cfg["weight_decay"])
        else:
            # Ranks share the initial weights (seeded above); dropout draws differ per rank.
            torch.manual_seed(cfg["seed"] + dist.rank)
        ddp_model: nn.Module = model
        if dist.active:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ddp_model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
        if device.type != "cpu":
            sets.train = (sets.train[0].to(device), sets.train[1].to(device))
        n_val = sets.record["validation_images"]
        config = {
            "model": model_name,
            "data": sets.source,
            **cfg,
            "device": str(device),
            "world_size": dist.world,
            "channels_last": use_cl,
            "precision": precision.name,
            "validation": (
                f"{n_val} images held out of the training split ({cfg['val_split']:g}, seed "
                f"{cfg['seed']})"
                if n_val
                else None
            ),
            "test": None if sets.test is None else f"{len(sets.test[1])} images (reported only)",
        }
        common = {
            "labels": sets.classes,
            "preprocess": preprocess.to_dict(),
            "config": config,
            "splits": sets.record,
            "schedule_plan": plan,
            **({"finetune": tune.record()} if tune is not None else {}),
        }
        if dist.rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            data = None if sets.source == "in-memory" else sets.source
            repeat = {**config, "device": device_arg, "channels_last": channels_last}
            if tune is not None:  # the fine-tuning options, so config.toml repeats the run
                record = tune.record()
                repeat.update(weights=record["weights"], image_size=record["image_size"],
                              freeze_backbone=record["freeze_backbone"])  # fmt: skip
            _write_config(out, {**repeat, "data": data})
        run = cls(
            model_name, model_kwargs, cfg, config, sets, dist, device, model, ddp_model,
            torch.nn.CrossEntropyLoss(reduction="sum", label_smoothing=cfg["label_smoothing"]),
            optimizer, scheduler, precision, Normalizer(preprocess, device, use_cl), state, out,
            resume_path, common, steps, progress,
        )  # fmt: skip
        run.carry_best()
        return run

    # -- the parts the loop calls ---------------------------------------------------------------

    def emit(self, kind: str, epoch: int = 0, **fields: Any) -> None:
        if self.progress is not None and self.dist.rank == 0:
            epochs = self.cfg["epochs"]
            self.progress(TrainEvent(kind, epoch=epoch, epochs=epochs, steps=self.steps, **fields))

    def batches(self, epoch: int) -> Any:
        return epoch_batches(
            *self.sets.train,
            seed=self.cfg["seed"],
            epoch=epoch,
            batch_size=self.cfg["batch_size"],
            norm=self.norm,
            augment=self.cfg["augment"],
            rank=self.dist.rank,
            world=self.dist.world,
        )

    def on_step(self, epoch: int) -> Callable[[int, torch.Tensor, torch.Tensor, int], None]:
        every = 1 if self.device.type == "cpu" else 20  # a float() of a CUDA tensor syncs

        def report(step: int, loss_sum: torch.Tensor, correct: torch.Tensor, seen: int) -> None:
            if self.progress is not None and (step % every == 0 or step == self.steps):
                self.emit("step", epoch, step=step, loss=float(loss_sum) / max(seen, 1),
                          acc=int(correct) / max(seen, 1))  # fmt: skip

        return report

    def measure(self, split: Split | None) -> tuple[float | None, float | None]:
        """Loss and accuracy of the model on a split, over all ranks."""
        if split is None:
            return None, None
        loss, correct, count, _ = evaluate_split(
            self.model, *split, self.norm, len(self.sets.classes), precision=self.precision,
            rank=self.dist.rank, world=self.dist.world,
        )  # fmt: skip
        total_loss, total_correct, n = self.dist.all_sum([loss, float(correct), float(count)])
        return total_loss / n, total_correct / n

    def record(self, epoch: int, lr: float, trained: tuple[float, int, int], t0: float) -> dict:
        seconds = time.perf_counter() - t0
        loss, correct, seen = self.dist.all_sum([float(v) for v in trained])
        val_loss, val_acc = self.measure(self.sets.val)
        test_loss, test_acc = self.measure(self.sets.test)
        return {
            "epoch": epoch,
            "lr": lr,
            "train_loss": loss / seen,
            "train_acc": correct / seen,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "seconds": time.perf_counter() - t0,
            "images_per_s": len(self.sets.train[1]) / seconds if seconds > 0 else None,
        }

    def save(self, improved: bool) -> None:
        """``last.pth`` (and ``best.pth`` when the epoch improved), history files (rank 0)."""
        self.boundary = self.state.snapshot()
        if self.dist.rank != 0:
            return
        if improved:  # the same record as last.pth of that epoch, so it resumes too
            self._write(self.boundary, self.out / "best.pth")
        self._write(self.boundary, self.out / "last.pth")
        write_history(self.out, self.boundary["history"])
        self.saved_epoch = self.boundary["epoch"]

    def save_interrupted(self) -> None:
        if self.dist.rank == 0 and self.saved_epoch != self.boundary["epoch"]:
            self._write(self.boundary, self.out / "last.pth")
            write_history(self.out, self.boundary["history"])

    def _write(self, snap: dict[str, Any], path: Path) -> None:
        save_snapshot(path, snap, model_name=self.model_name, model_kwargs=self.model_kwargs,
                      common=self.common)  # fmt: skip

    def carry_best(self) -> None:
        """The boundary to fall back on, and the best epoch so far when resumed elsewhere."""
        self.boundary = self.state.snapshot()
        best, resume = self.out / "best.pth", self.resume_path
        if resume is not None and self.out == resume.parent:
            self.saved_epoch = self.boundary["epoch"]
        if (
            self.dist.rank == 0
            and resume is not None
            and self.state.best_weights is not None
            and not best.exists()
        ):
            source = resume.parent / "best.pth"
            atomic_write(best, lambda tmp: shutil.copyfile(source, tmp))

    def finish(self, *, plots: bool, onnx: bool) -> TrainResult:
        from .finish import finish

        return finish(self, plots=plots, onnx=onnx)


def _write_config(out: Path, config: dict[str, Any]) -> None:
    text = config_toml(config)
    atomic_write(out / "config.toml", lambda tmp: tmp.write_text(text))


# --8<-- [start:fit]
def run_epochs(run: _Run) -> None:
    """The epoch loop: batches, one epoch of training, evaluation, record, best, save."""
    state, cfg = run.state, run.cfg
    run.emit("begin", state.epoch, info=run_info(run))
    try:
        for epoch in range(state.epoch + 1, cfg["epochs"] + 1):
            run.emit("epoch_start", epoch)
            t0 = time.perf_counter()
            lr = run.optimizer.param_groups[0]["lr"]  # the rate of this epoch's first batch
            trained = train_one_epoch(
                run.ddp_model, run.criterion, run.optimizer, run.scheduler, run.batches(epoch),
                precision=run.precision, grad_clip=cfg["grad_clip"], world=run.dist.world,
                on_step=run.on_step(epoch),
            )  # fmt: skip
            record = run.record(epoch, lr, trained, t0)
            if record["val_loss"] is not None and not math.isfinite(record["val_loss"]):
                raise NonFiniteLoss(None, record["val_loss"], epoch)
            improved = state.record(record, score(record))  # validation only, never test
            run.save(improved)
            run.emit("epoch", epoch, record=record)
    except KeyboardInterrupt as exc:
        run.save_interrupted()
        last = run.out / "last.pth" if run.dist.rank == 0 else None
        raise TrainingInterrupted(last, run.boundary["epoch"]) from exc
    except NonFiniteLoss as exc:
        # Stop loudly; last.pth (and best.pth) keep the last finite epoch.
        run.save_interrupted()
        raise diverged(
            epoch=exc.epoch or int(run.boundary["epoch"]) + 1,
            epochs=cfg["epochs"],
            batch=exc.batch,
            steps=-(-len(run.sets.train[1]) // cfg["batch_size"]),
            value=exc.value,
            lr=float(cfg["lr"]),
            completed=int(run.boundary["epoch"]),
            checkpoint=run.out / "last.pth" if run.dist.rank == 0 else None,
        ) from None


# --8<-- [end:fit]


#: The options the ``begin`` event reports (the CLI prints them).
CHOICES = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule", "warmup_epochs",
           "label_smoothing", "grad_clip", "augment", "batch_size", "epochs")  # fmt: skip


def run_info(run: _Run) -> dict[str, Any]:
    """The facts of the ``begin`` event: what runs where, with which choices."""
    c = run.config
    return {
        "model": run.model_name,
        "device": str(run.device),
        "train_images": len(run.sets.train[1]),
        "val_images": 0 if run.sets.val is None else len(run.sets.val[1]),
        "test_images": 0 if run.sets.test is None else len(run.sets.test[1]),
        "validation": "validation" if run.sets.val is not None else None,
        "classes": run.sets.classes,
        "world_size": run.dist.world,
        "out": str(run.out),
        "start_epoch": run.state.epoch,
        "channels_last": c["channels_last"],
        "precision": c["precision"],
        "choices": {k: c[k] for k in CHOICES},
        **run.sets.info,
    }
