"""``cnnzoo train``: train a model on a dataset and write the run (checkpoints, history, plots).

On a terminal a tqdm bar per epoch shows the running loss and accuracy; elsewhere (a log file, a
pipe, CI) one line per epoch is printed. Ctrl-C saves ``last.pth`` and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._args import (
    DATA_HELP,
    add_weights_arguments,
    device_name,
    finite_float,
    finite_range,
    positive_int,
    seed_int,
)

# The library's names, written out so that ``cnnzoo train --help`` does not import torch
# (tests/test_training_options.py checks they are cnnzoo.training's).
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
AUGMENT_NAMES = ("none", "affine", "crop-flip")

__all__ = ["add_train_arguments", "run_train"]


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "name",
        metavar="NAME",
        nargs="?",
        help="a registered model (see cnnzoo list), or model= in --config",
    )
    p.add_argument("--data", metavar="DATA", help=DATA_HELP + " (or data= in --config)")
    p.add_argument(
        "--config",
        metavar="TOML",
        help="take the options from an experiment file (a run's config.toml repeats it); "
        "options given here override it",
    )
    p.add_argument("--epochs", type=positive_int, help="total epochs (default 10)")
    p.add_argument(
        "--batch-size", type=positive_int, help="images per step, all processes (default 64)"
    )
    p.add_argument(
        "--lr", type=finite_range(0, low_open=True), help="base learning rate (default 0.01)"
    )
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="default sgd")
    p.add_argument("--momentum", type=finite_range(0, 1), help="SGD momentum (default 0.9)")
    p.add_argument(
        "--nesterov", action=argparse.BooleanOptionalAction, default=None, help="Nesterov SGD"
    )
    p.add_argument("--weight-decay", type=finite_range(0), help="L2 penalty (default 0)")
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help="learning-rate schedule, stepped per batch (default constant)",
    )
    p.add_argument(
        "--warmup-epochs", type=finite_float, help="linear warm-up from 1%% of --lr (default 0)"
    )
    p.add_argument(
        "--step-epochs", type=positive_int, help="step schedule: period (default a third)"
    )
    p.add_argument("--gamma", type=finite_float, help="step schedule: factor (default 0.1)")
    p.add_argument(
        "--label-smoothing", type=finite_float, help="cross-entropy label smoothing (default 0)"
    )
    p.add_argument("--grad-clip", type=finite_float, help="clip the gradient norm to this")
    p.add_argument(
        "--val-split",
        type=finite_range(0, 1),
        help="fraction of the training images held out for validation, which chooses best.pth "
        "(default 0.2); a test split is reported every epoch but never chooses",
    )
    p.add_argument(
        "--seed", type=seed_int, help="seeds weights, split, order, augmentation (default 0)"
    )
    p.add_argument(
        "--augment",
        nargs="?",
        const="affine",
        choices=AUGMENT_NAMES,
        help="none (default), affine (small rotations/scalings/shifts; --augment alone) or "
        "crop-flip (CIFAR: 4-pixel padded random crop, horizontal flip)",
    )
    p.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mixed precision on CUDA (bf16, or fp16 with a gradient scaler)",
    )
    p.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="memory format (default: where measured faster, convolutions on the CPU)",
    )
    p.add_argument(
        "--device", type=device_name, help="auto (default: cuda, mps, cpu), cpu, cuda, mps"
    )
    p.add_argument("--out", metavar="DIR", help="output directory (default runs/NAME-<timestamp>)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a run's last.pth")
    p.add_argument("--onnx", action="store_true", help="also export best.pth to best.onnx")
    p.add_argument("--download", action="store_true", help="let torchvision fetch a named dataset")
    p.add_argument("--strict", action="store_true", help="fail on a malformed image or csv row")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    add_weights_arguments(p, "fine-tune: start from the model's default published weights")
    p.add_argument(
        "--freeze-backbone",
        action="store_true",
        help="with --pretrained/--weights: train the new head only (backbone and its BatchNorm "
        "statistics stay as published)",
    )
    p.add_argument(
        "--image-size",
        type=positive_int,
        metavar="S",
        help="with --pretrained/--weights: resize images to SxS (default the weights' 224)",
    )


class _Progress:
    """A tqdm bar per epoch on a terminal; one line per epoch otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar: Any = None

    def __call__(self, ev: Any) -> None:
        if ev.kind == "begin":
            info = ev.info
            val = f", {info['val_images']} validation" if info["val_images"] else ""
            test = f", {info['test_images']} test (reported only)" if info["test_images"] else ""
            procs = f", {info['world_size']} processes" if info["world_size"] > 1 else ""
            sys.stdout.write(
                f"training {info['model']} on {info['device']}{procs}: {info['train_images']} "
                f"images{val}{test}, {len(info['classes'])} classes; writing to {info['out']}\n"
                f"options: {_choices(info)}\n"
            )
            if info.get("skipped"):
                sys.stderr.write(
                    f"warning: skipped {info['skipped']} unreadable item(s), for example: "
                    + "; ".join(info["problems"][:3])
                    + " (use --strict to fail instead)\n"
                )
            for note in info.get("notes", []):
                sys.stdout.write(f"note: {note}\n")
            if info["start_epoch"]:
                sys.stdout.write(f"resuming after epoch {info['start_epoch']}\n")
            sys.stdout.flush()
        elif ev.kind == "epoch_start" and self.tty:
            from tqdm import tqdm

            self.bar = tqdm(
                total=ev.steps, desc=f"epoch {ev.epoch}/{ev.epochs}", unit="step", leave=True
            )
        elif ev.kind == "step" and self.bar is not None:
            self.bar.update(ev.step - self.bar.n)
            self.bar.set_postfix(loss=f"{ev.loss:.4f}", acc=f"{ev.acc:.4f}", refresh=False)
        elif ev.kind == "epoch":
            line = _epoch_line(ev.record, ev.epochs)
            if self.bar is not None:
                self.bar.set_postfix_str(line.split(": ", 1)[1])
                self.bar.close()
                self.bar = None
            else:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _choices(info: dict[str, Any]) -> str:
    c = info["choices"]
    parts = [f"{c['optimizer']} lr {c['lr']:g}"]
    if c["optimizer"] == "sgd":
        parts[0] += f" momentum {c['momentum']:g}" + (" nesterov" if c["nesterov"] else "")
    if c["weight_decay"]:
        parts.append(f"weight decay {c['weight_decay']:g}")
    warm = f" after {c['warmup_epochs']:g} warm-up epoch(s)" if c["warmup_epochs"] else ""
    parts.append(f"{c['schedule']} schedule{warm}")
    if c["label_smoothing"]:
        parts.append(f"label smoothing {c['label_smoothing']:g}")
    if c["grad_clip"] is not None:
        parts.append(f"grad clip {c['grad_clip']:g}")
    parts.append(f"augment {c['augment']}")
    parts.append(f"{info['precision']}" + (" (amp)" if info["precision"] != "float32" else ""))
    parts.append("channels_last" if info["channels_last"] else "contiguous (NCHW)")
    return ", ".join(parts)


def _epoch_line(r: dict[str, Any], epochs: int) -> str:
    text = f"epoch {r['epoch']}/{epochs}: loss {r['train_loss']:.4f} acc {r['train_acc']:.4f}"
    if r.get("val_acc") is not None:
        text += f"  val_loss {r['val_loss']:.4f} val_acc {r['val_acc']:.4f}"
    if r.get("test_acc") is not None:
        text += f"  test_acc {r['test_acc']:.4f}"
    speed = f", {r['images_per_s']:,.0f} img/s" if r.get("images_per_s") else ""
    return text + f"  ({r['seconds']:.1f} s{speed})"


def run_train(args: argparse.Namespace) -> int:
    from ..training import TrainingInterrupted, train

    progress = _Progress()
    try:
        result = train(
            args.name,
            args.data,
            config=args.config,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            momentum=args.momentum,
            nesterov=args.nesterov,
            weight_decay=args.weight_decay,
            schedule=args.schedule,
            warmup_epochs=args.warmup_epochs,
            step_epochs=args.step_epochs,
            gamma=args.gamma,
            label_smoothing=args.label_smoothing,
            grad_clip=args.grad_clip,
            val_split=args.val_split,
            seed=args.seed,
            augment=args.augment,
            amp=args.amp,
            channels_last=args.channels_last,
            device=args.device,
            out=args.out,
            resume=args.resume,
            onnx=args.onnx,
            strict=args.strict,
            download=args.download,
            plots=not args.no_plots,
            progress=progress,
            pretrained=args.pretrained,
            weights=args.weights,
            freeze_backbone=args.freeze_backbone,
            image_size=args.image_size,
        )
    except TrainingInterrupted as exc:
        progress.close()
        if exc.checkpoint is not None:
            sys.stderr.write(
                f"cnnzoo train: interrupted; {exc.epoch} epoch(s) completed are saved in "
                f"{exc.checkpoint}; continue with --resume {exc.checkpoint}\n"
            )
        return 130
    finally:
        progress.close()
    if result.rank != 0:
        return 0
    best = result.history[result.best_epoch - 1] if result.best_epoch else result.final
    what = "val_acc" if best.get("val_acc") is not None else "train_acc"
    test = f" (test_acc {best['test_acc']:.4f})" if best.get("test_acc") is not None else ""
    sys.stdout.write(
        f"best epoch {result.best_epoch}: {what} {best[what]:.4f}{test} -> {result.best}\n"
        f"last epoch {result.final['epoch']} -> {result.last}\n"
    )
    if result.onnx is not None:
        sys.stdout.write(f"onnx -> {result.onnx}\n")
    sys.stdout.write(f"outputs in {result.out}\n")
    return 0
