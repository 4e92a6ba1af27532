"""Run in a fresh interpreter by tests/test_lookups.py: every look-up's answers, as JSON.

``python tests/_lookups_probe.py shipped`` answers as ``cnnzoo list`` does (the model modules
not imported, so from the shipped cards); ``live`` imports ``cnnzoo.models`` first, so the same
calls read the registry. The questions come as JSON on stdin: ``spellings`` (names to resolve),
``patterns`` (``list_models`` arguments) and ``cli`` (argument lists for ``cnnzoo``). The answer
also says which heavy modules ended up imported.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import asdict

HEAVY = ("torch", "torchvision", "torchinfo", "onnx", "numpy", "cnnzoo.models")


def _attempt(fn, *args, **kwargs):
    try:
        return {"ok": fn(*args, **kwargs)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def _cli(argv: list[str]) -> dict[str, object]:
    from cnnzoo.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # --help, --version and usage errors exit
            rc = exc.code
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main() -> None:
    mode = sys.argv[1]
    questions = json.load(sys.stdin)
    if mode == "live":
        import cnnzoo.models
    import cnnzoo
    from cnnzoo import registry

    names = cnnzoo.list_models()
    answers = {
        "names": names,
        "families": cnnzoo.list_families(),
        "resolve": {s: _attempt(registry.resolve_name, s) for s in questions["spellings"]},
        "info": {s: _attempt(lambda s: asdict(cnnzoo.model_info(s)), s) for s in names},
        "input_size": {s: list(registry.entry_input_size(s)) for s in names},
        "list": [_attempt(cnnzoo.list_models, *a, **k) for a, k in questions["patterns"]],
        "cli": [_cli(argv) for argv in questions["cli"]],
    }
    answers["imported"] = [m for m in HEAVY if m in sys.modules]
    sys.stdout.write(json.dumps(answers, default=list))


if __name__ == "__main__":
    main()
