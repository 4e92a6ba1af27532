"""``cnnzoo evaluate``: a checkpoint's accuracy, per-class precision and recall, and confusion
matrix on a dataset's test split, or exactly the validation images its training run held out."""

from __future__ import annotations

import argparse
import json
import sys

from ._args import DATA_HELP, add_weights_arguments, device_name, positive_int

__all__ = ["add_evaluate_arguments", "run_evaluate"]


def add_evaluate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoint",
        metavar="CKPT|NAME",
        help="a best.pth or last.pth of cnnzoo train, or a model name with --pretrained/--weights",
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="DATA",
        help=DATA_HELP,
    )
    p.add_argument(
        "--split",
        choices=("auto", "test", "validation", "train"),
        default="auto",
        help="auto: the test split, else the validation images; validation: exactly the images "
        "the run held out of the training split (or a refusal); train: the images it trained on",
    )
    p.add_argument("--model", help="the model name, for a bare state_dict only")
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--device", type=device_name, default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--download", action="store_true", help="let torchvision fetch a named dataset")
    p.add_argument("--strict", action="store_true", help="fail on a malformed image or csv row")
    add_weights_arguments(p, "evaluate ImageNet-labelled data (folder class names = categories)")


def run_evaluate(args: argparse.Namespace) -> int:
    from ..training import evaluate
    from .predict import weights_source

    source = weights_source(args)
    report = evaluate(
        source.pop("checkpoint"),
        args.data,
        **source,
        split=args.split,
        batch_size=args.batch_size,
        device=args.device,
        download=args.download,
        strict=args.strict,
    )
    text = json.dumps(report.to_dict(), indent=2) if args.format == "json" else str(report)
    sys.stdout.write(text + "\n")
    return 0
