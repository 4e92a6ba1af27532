"""Markdown building blocks: escaping a table cell and a GitHub-style table.

Jupyter renders Markdown output with raw HTML allowed, so text from outside is escaped for both:
``<``, ``>`` and ``&`` as entities, and Markdown's own characters (``|``, ``*``, ``_``, backticks,
brackets) with a backslash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["escape_md", "table_md"]

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape_md(value: Any) -> str:
    """``str(value)`` as literal Markdown text on one line (safe inside a table cell)."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())


def table_md(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, align: Sequence[str] | None = None
) -> str:
    """A Markdown table; every value is escaped with :func:`escape_md`."""
    aligns = list(align) if align is not None else ["left"] * len(headers)
    rule = ["---:" if a == "right" else "---" for a in aligns]
    lines = [
        "| " + " | ".join(escape_md(h) for h in headers) + " |",
        "|" + "|".join(rule) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(escape_md(v) for v in row) + " |")
    return "\n".join(lines)
