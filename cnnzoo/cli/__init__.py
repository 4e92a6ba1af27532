"""The ``cnnzoo`` command. The only part of cnnzoo that prints.

Each command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``;
only the module of the command being run is imported, so ``cnnzoo --help`` and ``cnnzoo list``
do not pay for what ``export`` or ``train`` import.

Exit codes: 0 success, 1 failure (one line on stderr, no traceback), 2 usage error, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

#: command -> (module under cnnzoo.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("models", "list the registered models with their input, size and cost"),
    "info": ("models", "show a model's card: source, input, classes, labels, size, cost"),
    "summary": ("summary", "torchinfo's layer table of a model (table, markdown, json, csv)"),
    "check": ("check", "check your own network against the lecture, or its tables"),
    "export": ("export", "export a model to ONNX, checked with onnxruntime; open it in Netron"),
}
COMMANDS["predict"] = ("predict", "label images with a trained checkpoint: top-k probabilities")
COMMANDS["explain"] = ("explain", "saliency map and a layer's feature maps of an image, as PNGs")
COMMANDS["train"] = ("train", "train a model on a dataset: checkpoints, history, plots")
COMMANDS["evaluate"] = ("evaluate", "accuracy, per-class precision/recall, confusion matrix")
COMMANDS["runs"] = ("runs", "training runs side by side: what differs, how they did, one figure")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's usage block plus one line, exit 2 (the usage-error code).
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser, with full arguments only for ``command`` (all others as names)."""
    from .._version import __version__

    parser = _Parser(
        prog="cnnzoo",
        description="The classic CNNs of deep-learning courses, exactly as the course draws them.",
    )
    version = f"cnnzoo {__version__}"
    parser.add_argument("--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--version", action="version", version=version)
        if name == command:
            mod = importlib.import_module(f"{__name__}.{module}")
            getattr(mod, f"add_{name}_arguments")(p)
            p.set_defaults(_run=getattr(mod, f"run_{name}"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        sys.stderr.write("cnnzoo: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get("CNNZOO_DEBUG"):
            raise
        sys.stderr.write(f"cnnzoo {args.command}: error: {one_line(exc)}\n")
        return 1


def one_line(exc: BaseException) -> str:
    """An exception as one readable line (no traceback)."""
    from ..errors import CnnzooError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (CnnzooError, OSError)):
        return text
    return f"{type(exc).__name__}: {text} (set CNNZOO_DEBUG=1 for the traceback)"


if __name__ == "__main__":
    raise SystemExit(main())
