"""``cnnzoo summary NAME``: torchinfo's table of a model, built for shapes only."""

from __future__ import annotations

import argparse
import sys

from ..summarize import COLUMNS, DEFAULT_COLUMNS, FORMATS, parse_columns
from ._args import positive_int

__all__ = ["add_summary_arguments", "run_summary"]


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the depth must be 0 or more, got {value}")
    return value


def _columns(text: str) -> tuple[str, ...]:
    from ..errors import InvalidArgumentError

    try:
        return parse_columns(text)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_summary_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="model name or alias (see `cnnzoo list`)")
    p.add_argument(
        "--input-size",
        nargs=3,
        type=positive_int,
        metavar=("C", "H", "W"),
        help="one sample's shape (default: the model's own input)",
    )
    p.add_argument("--batch-size", type=positive_int, default=1, metavar="N", help="default 1")
    p.add_argument("--depth", type=_depth, default=3, metavar="D", help="nesting shown (3)")
    p.add_argument("--num-classes", type=positive_int, metavar="K", help="build with K classes")
    p.add_argument("--in-chans", type=positive_int, metavar="C", help="build for C input channels")
    p.add_argument(
        "--columns",
        type=_columns,
        default=DEFAULT_COLUMNS,
        metavar="A,B,...",
        help=f"torchinfo columns, any of {','.join(COLUMNS)} (default {','.join(DEFAULT_COLUMNS)})",
    )
    p.add_argument("--format", choices=FORMATS, default="table")


def run_summary(args: argparse.Namespace) -> int:
    from ..summarize import summary

    kwargs = {}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    if args.in_chans is not None:
        kwargs["in_chans"] = args.in_chans
    result = summary(
        args.name,
        args.input_size,
        batch_size=args.batch_size,
        depth=args.depth,
        columns=args.columns,
        **kwargs,
    )
    sys.stdout.write(result.render(args.format) + "\n")
    return 0
