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
    p.add_argument(
        "name", nargs="?", help="model name or alias (see `cnnzoo list`); with --model, optional"
    )
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
    p.add_argument(
        "--steps",
        action="store_true",
        help="the dimension exercise: each layer's output-size and parameter arithmetic",
    )
    p.add_argument(
        "--model",
        metavar="FILE.py:Class",
        help="with --steps: your own network (read in a child process); input from NAME's card "
        "or --input-size",
    )
    p.add_argument("--model-args", metavar="JSON", help="constructor arguments for --model")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="for --model (60)")
    p.set_defaults(_summary_parser=p)


def run_summary(args: argparse.Namespace) -> int:
    from ..summarize import summary

    if args.steps or args.model is not None:
        return _run_steps(args)
    if args.name is None:
        args._summary_parser.error("give a model NAME (see `cnnzoo list`)")

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


def _run_steps(args: argparse.Namespace) -> int:
    import json

    from ..check.steps import render_steps, steps
    from ..check.structure import Structure, read_structure
    from ..registry import model_info, resolve_name

    usage = args._summary_parser.error
    if not args.steps:
        usage("--model goes with --steps")
    if args.format not in ("table", "json"):
        usage("--steps prints a table or json")
    if args.name is None and args.model is None:
        usage("give a model NAME or --model FILE.py:Class")
    input_size = tuple(args.input_size) if args.input_size else None
    if args.model is None:
        from .._stats import build_for_shapes

        kwargs = {}
        if args.num_classes is not None:
            kwargs["num_classes"] = args.num_classes
        if args.in_chans is not None:
            kwargs["in_chans"] = args.in_chans
        name = resolve_name(args.name)
        model = build_for_shapes(name, **kwargs)
        if input_size is None:
            input_size = tuple(model.default_input_size)
        structure = read_structure(model, input_size)
        title = name
    else:
        from ..check.student import run_student

        if input_size is None:
            if args.name is None:
                usage("give --input-size C H W for --model (or a model NAME whose input it takes)")
            input_size = tuple(model_info(args.name).input_size)
        model_args = None
        if args.model_args is not None:
            try:
                model_args = json.loads(args.model_args)
            except json.JSONDecodeError as exc:
                usage(f"--model-args is not JSON: {exc}")
            if not isinstance(model_args, dict):
                usage("--model-args must be a JSON object")
        data, _ = run_student(
            args.model, input_size=input_size, model_args=model_args, timeout=args.timeout
        )
        structure = Structure.from_dict(data)
        title = args.model
    if args.format == "json":
        doc = {
            "format": "cnnzoo.steps/1",
            "model": title,
            "input_size": list(input_size),
            "steps": [s.to_dict() for s in steps(structure)],
            "total_params": structure.total_params,
            "error": structure.crash.error if structure.crash else None,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(render_steps(structure, title) + "\n")
    return 1 if structure.crash is not None else 0
