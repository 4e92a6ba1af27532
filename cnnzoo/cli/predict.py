"""``cnnzoo predict CKPT IMAGE...``: label and softmax probability per image."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import InvalidArgumentError
from ._args import add_weights_arguments, positive_int

__all__ = ["add_predict_arguments", "run_predict", "weights_source"]


def add_predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoint",
        metavar="CKPT|NAME",
        help="checkpoint (best.pth of cnnzoo train), or a model name with --pretrained/--weights",
    )
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    p.add_argument("--topk", type=positive_int, default=1, metavar="K", help="labels per image (1)")
    p.add_argument("--model", metavar="NAME", help="model name, needed for a bare state_dict file")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    add_weights_arguments(p, "label ImageNet's 1000 categories")


def run_predict(args: argparse.Namespace) -> int:
    from ..inspect import predict
    from ._table import render_table

    source = weights_source(args)
    results = predict(source.pop("checkpoint"), args.images, topk=args.topk, **source)
    if args.format == "json":
        sys.stdout.write(json.dumps([r.to_dict() for r in results], indent=2) + "\n")
        return 0
    if args.topk == 1:
        rows = [(r.path, r.label, f"{r.probability:.4f}") for r in results]
        sys.stdout.write(render_table(("image", "label", "probability"), rows, right=(2,)) + "\n")
        return 0
    rows = [
        (r.path if rank == 1 else "", rank, label, f"{prob:.4f}")
        for r in results
        for rank, (label, prob) in enumerate(r.topk, start=1)
    ]
    headers = ("image", "rank", "label", "probability")
    sys.stdout.write(render_table(headers, rows, right=(1, 3)) + "\n")
    return 0


def weights_source(args: argparse.Namespace) -> dict[str, Any]:
    """``checkpoint``, ``model`` and ``weights`` for ``predict``/``explain``: with
    ``--pretrained`` or ``--weights`` the first argument is the model's name."""
    if not args.pretrained and args.weights is None:
        return {"checkpoint": args.checkpoint, "model": args.model}
    from ..pretrained import is_weights_name

    name = args.checkpoint
    if args.model is not None:
        raise InvalidArgumentError(
            "with --pretrained or --weights the first argument is the model name; drop --model"
        )
    if args.weights is not None and not is_weights_name(name, args.weights):
        if args.pretrained:
            raise InvalidArgumentError("give --pretrained or --weights PATH, not both")
        return {"checkpoint": args.weights, "model": name}
    return {"checkpoint": None, "model": name, "weights": args.weights or "DEFAULT"}
