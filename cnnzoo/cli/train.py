"""``cnnzoo train``: train a model on a dataset and write the run (checkpoints, history, plots).

On a terminal a tqdm bar per epoch shows the running loss and accuracy; elsewhere (a log file, a
pipe, CI) one line per epoch is printed. Ctrl-C saves ``last.pth`` and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._args import DATA_HELP, add_weights_arguments, positive_int

__all__ = ["add_train_arguments", "run_train"]


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME", help="a registered model (see cnnzoo list)")
    p.add_argument(
        "--data",
        required=True,
        metavar="DATA",
        help=DATA_HELP,
    )
    p.add_argument("--epochs", type=positive_int, help="total epochs (default 10)")
    p.add_argument(
        "--batch-size", type=positive_int, help="images per step, all processes (default 64)"
    )
    p.add_argument("--lr", type=float, help="learning rate (default 0.01)")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), help="default sgd")
    p.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=float, help="L2 penalty (default 0)")
    p.add_argument(
        "--val-split",
        type=float,
        help="fraction held out for validation when the data has no test split (default 0.2)",
    )
    p.add_argument("--seed", type=int, help="seeds weights, split, order, augmentation (default 0)")
    p.add_argument("--augment", action="store_true", default=None, help="random small affine maps")
    p.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, mps")
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
            val = f", {info['val_images']} {info['validation']}" if info["validation"] else ""
            procs = f", {info['world_size']} processes" if info["world_size"] > 1 else ""
            sys.stdout.write(
                f"training {info['model']} on {info['device']}{procs}: {info['train_images']} "
                f"images{val}, {len(info['classes'])} classes; writing to {info['out']}\n"
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


def _epoch_line(r: dict[str, Any], epochs: int) -> str:
    text = f"epoch {r['epoch']}/{epochs}: loss {r['train_loss']:.4f} acc {r['train_acc']:.4f}"
    if r.get("val_acc") is not None:
        text += f"  val_loss {r['val_loss']:.4f} val_acc {r['val_acc']:.4f}"
    speed = f", {r['images_per_s']:,.0f} img/s" if r.get("images_per_s") else ""
    return text + f"  ({r['seconds']:.1f} s{speed})"


def run_train(args: argparse.Namespace) -> int:
    from ..training import TrainingInterrupted, train

    progress = _Progress()
    try:
        result = train(
            args.name,
            args.data,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            val_split=args.val_split,
            seed=args.seed,
            augment=args.augment,
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
    sys.stdout.write(
        f"best epoch {result.best_epoch}: {what} {best[what]:.4f} -> {result.best}\n"
        f"last epoch {result.final['epoch']} -> {result.last}\n"
    )
    if result.onnx is not None:
        sys.stdout.write(f"onnx -> {result.onnx}\n")
    sys.stdout.write(f"outputs in {result.out}\n")
    return 0
