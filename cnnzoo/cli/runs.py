"""``cnnzoo runs``: training runs side by side (the options that differ, best validation
accuracy and epoch, test accuracy, time, speed) and one figure of their validation curves."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_runs_arguments", "run_runs"]


def add_runs_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths", metavar="RUN", nargs="+", help="run directories of cnnzoo train, or globs"
    )
    p.add_argument("--format", choices=("text", "markdown", "csv", "json"), default="text")
    p.add_argument(
        "--figure",
        metavar="PNG",
        default="runs.png",
        help="where to draw every run's validation accuracy and loss (default runs.png)",
    )
    p.add_argument("--no-figure", action="store_true", help="print the table only")


def run_runs(args: argparse.Namespace) -> int:
    import json

    from ..runs import compare_runs

    comparison = compare_runs(args.paths)
    if args.format == "json":
        text = json.dumps(comparison.to_dict(), indent=2)
    else:
        text = comparison.format(args.format)
    figure = None if args.no_figure else comparison.figure(args.figure)
    sys.stdout.write(text + "\n")
    if figure is not None:
        sys.stderr.write(f"figure -> {figure}\n")
    return 0
