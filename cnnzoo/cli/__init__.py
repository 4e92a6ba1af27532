"""The ``cnnzoo`` command. The only part of cnnzoo that prints.

Each command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``;
only the module of the command being run is imported, so ``cnnzoo --help`` and ``cnnzoo list``
do not pay for what ``export`` or ``train`` import.

Exit codes: 0 success, 1 failure (one line on stderr, no traceback), 2 usage error, 130 Ctrl-C,
143 SIGTERM. A SIGTERM is handled as Ctrl-C is (temporary files are removed, a training run saves
``last.pth``), then the command exits 143 with one line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that every ``finally`` and cleanup runs."""


#: Set when a SIGTERM arrived during the current command.
_terminated = False


def _on_sigterm(signum: int, frame: object) -> None:
    global _terminated
    _terminated = True
    raise Terminated()


def _install_sigterm() -> object:
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread: leave the default
        return None


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
    global _terminated
    _terminated = False
    previous = _install_sigterm()
    try:
        code = int(args._run(args))
    except KeyboardInterrupt:
        what = "terminated (SIGTERM)" if _terminated else "interrupted"
        sys.stderr.write(f"cnnzoo {args.command}: {what}; no file was left half-written\n")
        code = 130
    except Exception as exc:
        if os.environ.get("CNNZOO_DEBUG"):
            raise
        sys.stderr.write(f"cnnzoo {args.command}: error: {one_line(exc)}\n")
        code = 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
    # A command that handles the interrupt itself (train saves last.pth) returns 130.
    return 143 if code == 130 and _terminated else code


def one_line(exc: BaseException) -> str:
    """An exception as one readable line (no traceback)."""
    from ..errors import CnnzooError

    if isinstance(exc, OSError) and not isinstance(exc, CnnzooError) and exc.strerror:
        # "[Errno 28] No space left on device: 'x'" -> "'x': no space left on device"
        what = exc.strerror[0].lower() + exc.strerror[1:]
        name = f"{str(exc.filename)!r}: " if exc.filename is not None else ""
        return f"{name}{what}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (CnnzooError, OSError)):
        return text
    return f"{type(exc).__name__}: {text} (set CNNZOO_DEBUG=1 for the traceback)"


if __name__ == "__main__":
    raise SystemExit(main())
