"""``cnnzoo check``: a student's network against the lecture, or the documents' tables
reconciled with the models, row by row.

Exit 0 when everything matches (every difference from a document is a recorded erratum), 1 when
anything differs or cannot be checked (each named on stderr), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import json
import sys
from typing import Any

__all__ = ["add_check_arguments", "run_check"]


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="a table (see --list), a table file (.toml) or a model: every table about it; "
        "with --model or --weights, the reference to check against",
    )
    p.add_argument("--all", action="store_true", help="check every shipped table")
    p.add_argument("--list", action="store_true", help="list the shipped tables and exit")
    p.add_argument(
        "--model",
        metavar="FILE.py:Class",
        help="your own network: path/to/classify.py:emotionNet or package.module:Class; "
        "a glob ('submissions/*/classify.py:emotionNet') checks each file",
    )
    p.add_argument(
        "--model-args",
        metavar="JSON",
        help="constructor arguments, e.g. '{\"printtoggle\": false}'",
    )
    p.add_argument(
        "--weights",
        metavar="PATH",
        help="a weights file (torch.save(net.state_dict()) or a cnnzoo checkpoint), checked by "
        "parameter shapes; with --model, loaded into it",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds a student's file gets to import and run (60)",
    )
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.set_defaults(_check_parser=p)


def _usage(args: argparse.Namespace, message: str) -> None:
    args._check_parser.error(message)  # argparse's usage error: the usage, one line, exit 2


def run_check(args: argparse.Namespace) -> int:
    from ..spec import list_specs, load_spec

    if args.list:
        for sid in list_specs():
            spec = load_spec(sid)
            what = spec.model or ", ".join(spec.model_names())
            sys.stdout.write(f"{sid:<20} {what:<16} {spec.source.document}: {spec.title}\n")
        return 0
    student = args.model is not None or args.weights is not None
    if student:
        if args.all or len(args.names) != 1:
            _usage(args, "--model and --weights need exactly one NAME to check against")
        return _run_student(args)
    if args.model_args is not None:
        _usage(args, "--model-args goes with --model")
    if args.format == "csv":
        _usage(args, "--format csv is the gradebook of --model; use text or json")
    if args.all == bool(args.names):
        _usage(args, "give table or model names, or --all (not both)")
    from ..check import check

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


def _targets(args: argparse.Namespace) -> list[str]:
    """The --model value, its file part expanded when it is a glob."""
    if args.model is None:
        return []
    where, sep, cls = args.model.rpartition(":")
    if sep and any(c in where for c in "*?["):
        files = sorted(glob.glob(where, recursive=True))
        if not files:
            _usage(args, f"--model {args.model!r}: no file matches {where!r}")
        return [f"{f}:{cls}" for f in files]
    return [args.model]


def _run_student(args: argparse.Namespace) -> int:
    from ..check import check
    from ..errors import CnnzooError

    model_args: dict[str, Any] | None = None
    if args.model_args is not None:
        try:
            model_args = json.loads(args.model_args)
        except json.JSONDecodeError as exc:
            _usage(args, f"--model-args is not JSON: {exc}")
        if not isinstance(model_args, dict):
            _usage(args, "--model-args must be a JSON object, e.g. '{\"printtoggle\": false}'")
    if args.timeout <= 0:
        _usage(args, f"--timeout must be positive, got {args.timeout:g}")
    targets: list[str | None] = [*_targets(args)] or [None]
    glob_given = args.model is not None and targets != [args.model]
    results: list[tuple[str, Any, str | None]] = []
    for target in targets:
        label = target or args.weights
        try:
            report = check(
                args.names[0],
                model=target,
                weights=args.weights,
                model_args=model_args,
                timeout=args.timeout,
            )
        except CnnzooError as exc:
            if not glob_given and args.format == "text":
                raise  # one clear line from the CLI's error handler, exit 1
            results.append((label, None, str(exc)))
            continue
        results.append((label, report, None))
    ok = all(r is not None and r.ok for _, r, _ in results)
    if args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["file", "ok", "first_difference"])
        for label, report, error in results:
            first = error if report is None else (report.first_difference or "")
            w.writerow([_file(label), "true" if report is not None and report.ok else "false",
                        first])  # fmt: skip
        sys.stdout.write(buf.getvalue())
    elif args.format == "json":
        docs = []
        for label, report, error in results:
            doc = report.to_dict() if report is not None else _error_doc(error)
            docs.append({"file": _file(label), "report": doc} if glob_given else doc)
        out = (
            {"format": "cnnzoo.gradebook/1", "ok": ok, "submissions": docs}
            if glob_given
            else docs[0]
        )
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        parts = []
        for label, report, error in results:
            parts.append(
                str(report) if report is not None else f"{label}\n\nresult: CANNOT CHECK: {error}"
            )
        if glob_given:
            good = sum(1 for _, r, _ in results if r is not None and r.ok)
            parts.append(
                f"{len(results)} files checked: {good} match, {len(results) - good} do not"
            )
        sys.stdout.write("\n\n".join(parts) + "\n")
    for label, report, error in results:
        if report is None:
            sys.stderr.write(f"cnnzoo check: {error}\n")
        elif not report.ok:
            sys.stderr.write(f"cnnzoo check: {_file(label)}: {report.first_difference}\n")
    return 0 if ok else 1


def _file(label: str | None) -> str:
    if label is None:
        return ""
    where, sep, _ = label.rpartition(":")
    return where if sep and where.endswith(".py") else label


def _error_doc(error: str | None) -> dict[str, Any]:
    return {
        "format": "cnnzoo.check/1",
        "ok": False,
        "differences": [
            {
                "layer": "(model)",
                "field": "import",
                "expected": "a network",
                "got": None,
                "cause": error,
                "consequence": False,
            }
        ],
        "notes": [],
        "student": None,
        "tables": [],
        "failures": [],
    }
