"""``cnnzoo check``: the course documents' tables reconciled with the models, row by row.

Exit 0 when every difference from a document is a recorded erratum, 1 when any is not (each
named on stderr), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_check_arguments", "run_check"]


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="a table (see --list), a table file (.toml) or a model: every table about it",
    )
    p.add_argument("--all", action="store_true", help="check every shipped table")
    p.add_argument("--list", action="store_true", help="list the shipped tables and exit")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(_check_parser=p)


def run_check(args: argparse.Namespace) -> int:
    from ..spec import list_specs, load_spec

    if args.list:
        for sid in list_specs():
            spec = load_spec(sid)
            what = spec.model or ", ".join(spec.model_names())
            sys.stdout.write(f"{sid:<20} {what:<16} {spec.source.document}: {spec.title}\n")
        return 0
    if args.all == bool(args.names):
        # argparse's usage error: the usage, one line, exit 2.
        args._check_parser.error("give table or model names, or --all (not both)")
    from ..reconcile import check

    report = check(*args.names)
    text = report.to_json() if args.format == "json" else str(report)
    sys.stdout.write(text + "\n")
    if report.ok:
        return 0
    failures = report.failures
    sys.stderr.write(
        f"cnnzoo check: {len(failures)} unexplained difference{'s' * (len(failures) > 1)}: "
        + "; ".join(failures)
        + "\n"
    )
    return 1
