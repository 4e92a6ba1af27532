"""The data files cnnzoo ships that are generated from its code, and the command that writes them.

Look-ups that must not import torch (``cnnzoo list``, ``cnnzoo info``) read files made from the
live code: each entry of :data:`GENERATED` names a file under ``cnnzoo/`` and the function that
returns its text. One command regenerates them all::

    python -m cnnzoo._stats --write      # after adding a model or changing a card
    python -m cnnzoo._stats --check      # exit 1 naming every file that is out of date

and ``tests/test_generated.py`` renders each file again and fails on any difference. A new
generated file needs one line here (and its pattern in ``[tool.setuptools.package-data]``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["GENERATED", "render", "stale", "write_all"]

#: path under the ``cnnzoo`` package -> ``"module:function"`` that returns the file's text.
GENERATED: dict[str, str] = {
    "measured/cards.json": "cnnzoo._cards:render",
    "measured/weights.json": "cnnzoo.pretrained.catalog:render_shipped",
}

_PACKAGE = Path(__file__).resolve().parent


def render(path: str) -> str:
    """The text that ``path`` (a key of :data:`GENERATED`) must hold."""
    module, _, function = GENERATED[path].partition(":")
    return str(getattr(importlib.import_module(module), function)())


def stale(root: Path = _PACKAGE) -> list[str]:
    """The generated files under ``root`` whose text differs from what the code renders now."""
    out = []
    for path in GENERATED:
        target = root / path
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != render(path):
            out.append(path)
    return out


def write_all(root: Path = _PACKAGE) -> list[Path]:
    """Render every generated file and write it (atomically) under ``root``."""
    from .checkpoint import atomic_write

    written = []
    for path in GENERATED:
        text = render(path)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(atomic_write(target, lambda tmp, t=text: tmp.write_text(t, "utf-8")))
    return written


def main(argv: list[str], root: Path = _PACKAGE) -> int:
    """The command: ``--write`` regenerates every file under ``root``, ``--check`` exits 1
    naming the stale ones."""
    import sys

    if argv == ["--write"]:
        for target in write_all(root):
            sys.stdout.write(f"wrote {target}\n")
        return 0
    if argv == ["--check"]:
        out_of_date = stale(root)
        for path in out_of_date:
            sys.stderr.write(f"cnnzoo/{path} is out of date: run python -m cnnzoo._stats --write\n")
        return 1 if out_of_date else 0
    sys.stderr.write("usage: python -m cnnzoo._stats --write | --check\n")
    return 2


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
