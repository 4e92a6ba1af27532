"""The HTML building blocks: escaping, tables, sections and badges, with inline styles.

Everything returned is a fragment for a notebook output cell: one ``<div>``, no script, no
``<style>`` element (its rules would restyle the whole notebook page), no external resource.
Colours are chosen to read on a light and a dark theme (they set both foreground and background).
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "BAD",
    "GOOD",
    "MUTED",
    "NOTE",
    "Cell",
    "badge",
    "block",
    "code",
    "definitions",
    "escape",
    "heading",
    "paragraph",
    "table",
]

#: (foreground, background) of a verdict.
GOOD = ("#0a5d1e", "#dcf5e3")
BAD = ("#8a1010", "#fde2e2")
NOTE = ("#6b4c00", "#fff2cc")
MUTED = ("#444444", "#eeeeee")

_FONT = "font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 13px;"
_TABLE = "border-collapse: collapse; margin: 4px 0 8px 0;"
_TH = (
    "border-bottom: 2px solid #888; padding: 3px 8px; text-align: left; "
    "background: #f4f4f4; color: #111;"
)
_TD = "border-bottom: 1px solid #ddd; padding: 2px 8px; vertical-align: top;"
_MONO = "font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;"


def escape(value: Any) -> str:
    """``str(value)`` made safe inside HTML text and attribute values (quotes included)."""
    return _html.escape("" if value is None else str(value), quote=True)


class Cell:
    """A table cell with a style: a colour (``GOOD``, ``BAD``...), monospace, right alignment.

    ``text`` is escaped; ``html`` (already safe markup, built from escaped parts) is not.
    """

    __slots__ = ("align", "colors", "html", "mono", "strong", "title")

    def __init__(
        self,
        text: Any = None,
        *,
        html: str | None = None,
        colors: tuple[str, str] | None = None,
        mono: bool = False,
        align: str | None = None,
        strong: bool = False,
        title: str | None = None,
    ) -> None:
        self.html = html if html is not None else escape(text)
        self.colors = colors
        self.mono = mono
        self.align = align
        self.strong = strong
        self.title = title

    def render(self, tag: str, default_align: str) -> str:
        style = _TD if tag == "td" else _TH
        align = self.align or default_align
        if align != "left":
            style += f" text-align: {align};"
        if self.mono:
            style += " " + _MONO
        if self.colors:
            style += f" color: {self.colors[0]}; background: {self.colors[1]};"
        if self.strong:
            style += " font-weight: 600;"
        title = f' title="{escape(self.title)}"' if self.title else ""
        return f'<{tag} style="{style}"{title}>{self.html}</{tag}>'


def _cell(value: Any) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    align: Sequence[str] | None = None,
    caption: str | None = None,
) -> str:
    """A table; each value is plain text (escaped) or a :class:`Cell`.

    ``align`` gives ``"left"`` or ``"right"`` per column (numbers read best right-aligned).
    """
    aligns = list(align) if align is not None else ["left"] * len(headers)
    head = "".join(_cell(h).render("th", a) for h, a in zip(headers, aligns, strict=True))
    body = []
    for row in rows:
        cells = "".join(_cell(v).render("td", a) for v, a in zip(row, aligns, strict=True))
        body.append(f"<tr>{cells}</tr>")
    cap = (
        f'<caption style="caption-side: top; text-align: left; padding: 2px 0; color: #555;">'
        f"{escape(caption)}</caption>"
        if caption
        else ""
    )
    return (
        f'<table style="{_TABLE}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def definitions(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of ``name: value`` (values plain text or :class:`Cell`)."""
    rows = []
    for name, value in pairs:
        key = Cell(name).render("th", "left").replace("background: #f4f4f4;", "")
        key = key.replace("border-bottom: 2px solid #888;", "border-bottom: 1px solid #ddd;")
        rows.append(f"<tr>{key}{_cell(value).render('td', 'left')}</tr>")
    return f'<table style="{_TABLE}"><tbody>{"".join(rows)}</tbody></table>'


def badge(text: Any, colors: tuple[str, str]) -> str:
    """A short coloured label (``PASS``, ``3 differences``)."""
    return (
        f'<span style="color: {colors[0]}; background: {colors[1]}; padding: 1px 6px; '
        f'border-radius: 3px; font-weight: 600;">{escape(text)}</span>'
    )


def heading(text: Any, *extra_html: str) -> str:
    """The object's title line; ``extra_html`` (badges) follow it."""
    tail = " ".join(extra_html)
    return (
        f'<div style="font-size: 15px; font-weight: 600; margin: 10px 0 4px 0;">{escape(text)}'
        f"{' ' + tail if tail else ''}</div>"
    )


def paragraph(text: Any, *, colors: tuple[str, str] | None = None, mono: bool = False) -> str:
    style = "margin: 2px 0 6px 0;"
    if colors:
        style += f" color: {colors[0]}; background: {colors[1]}; padding: 3px 6px;"
    if mono:
        style += " " + _MONO + " white-space: pre-wrap;"
    return f'<div style="{style}">{escape(text)}</div>'


def code(text: Any) -> str:
    """Inline monospace text (escaped)."""
    return f'<code style="{_MONO}">{escape(text)}</code>'


def block(*parts: str) -> str:
    """The outer ``<div>`` of one display: the parts, already HTML, one after the other."""
    return f'<div class="cnnzoo-display" style="{_FONT} line-height: 1.35;">{"".join(parts)}</div>'
