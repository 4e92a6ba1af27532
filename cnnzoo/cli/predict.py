"""``cnnzoo predict CKPT IMAGE...``: label and softmax probability per image."""

from __future__ import annotations

import argparse
import json
import sys

from ._args import positive_int

__all__ = ["add_predict_arguments", "run_predict"]


def add_predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", metavar="CKPT", help="checkpoint (best.pth of cnnzoo train)")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    p.add_argument("--topk", type=positive_int, default=1, metavar="K", help="labels per image (1)")
    p.add_argument("--model", metavar="NAME", help="model name, needed for a bare state_dict file")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def run_predict(args: argparse.Namespace) -> int:
    from ..inspect import predict
    from ._table import render_table

    results = predict(args.checkpoint, args.images, topk=args.topk, model=args.model)
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
