"""The display of the dimension walk-through (``cnnzoo summary --steps``): every layer's output
size with the course's formula, and its parameter count with the arithmetic."""

from __future__ import annotations

from typing import Any

from . import html as h

__all__ = ["steps_html"]


def steps_html(walk: Any) -> str:
    """``walk`` has ``title``, ``input_size``, ``steps`` (``Step``), ``total_params``, ``error``
    and ``method_note``."""
    from ..check.formula import shape_text

    size = "x".join(str(v) for v in walk.input_size)
    rows: list[list[Any]] = [[h.Cell("input", strong=True), "", h.Cell(size, mono=True), "", ""]]
    for s in walk.steps:
        how = s.size or ("same as its input" if s.output is not None else "")
        rows.append(
            [
                h.Cell(s.layer, mono=True),
                s.type,
                h.Cell(shape_text(s.output) if s.output is not None else "-", mono=True),
                h.Cell(how, mono=True),
                h.Cell(s.params_text or ("0" if s.type else ""), mono=True),
            ]
        )
    parts = [
        h.heading(f"{walk.title}, input {size} (batch 1)"),
        h.table(["layer", "type", "output", "output size", "parameters"], rows),
        h.paragraph(f"total parameters: {walk.total_params:,}"),
    ]
    if walk.error is not None:
        parts.append(h.paragraph(f"the forward pass fails: {walk.error}", colors=h.BAD))
    if walk.method_note:
        parts.append(h.paragraph(walk.method_note, colors=h.NOTE))
    return h.block(*parts)
