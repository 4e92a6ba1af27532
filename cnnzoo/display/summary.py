"""The display of a :class:`~cnnzoo.summarize.Summary`: torchinfo's rows as an HTML table.

The cells are the ones ``Summary.to_markdown`` gives (one function renders a cell for both), the
layer names indented by depth, so the notebook table reconciles line by line with the terminal's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import html as h

if TYPE_CHECKING:
    from ..summarize import Summary

__all__ = ["summary_html"]

_NUMERIC = ("num_params", "params_percent", "mult_adds")


def summary_html(s: Summary) -> str:
    from ..summarize import _MARKDOWN_HEADERS as _HEADERS
    from ..summarize import _markdown_cell, _x, human

    cols = [c for c in s.columns if c in _HEADERS]
    headers = ["Layer", "Type", *(_HEADERS[c] for c in cols)]
    align = ["left", "left", *("right" if c in _NUMERIC else "left" for c in cols)]
    total = s.totals.params
    rows = []
    for r in s.rows:
        pad = "&nbsp;" * (3 * r.depth)
        name = h.Cell(html=pad + (h.escape(r.name) if r.name else "(model)"), mono=True)
        cells: list[object] = [name, r.type]
        for c in cols:
            cells.append(
                h.Cell(
                    _markdown_cell(r, c, total),
                    mono=c in ("input_size", "output_size", "kernel_size"),
                )
            )
        rows.append(cells)
    t = s.totals
    return h.block(
        h.heading(f"{s.model} — input {_x(s.input_size)}, depth {s.depth}"),
        h.table(headers, rows, align=align),
        h.definitions(
            [
                ("total params", f"{t.params:,}"),
                ("trainable", f"{t.trainable_params:,}"),
                ("non-trainable", f"{t.non_trainable_params:,}"),
                ("mult-adds", f"{t.mult_adds:,} ({human(t.mult_adds)})"),
                (
                    "memory",
                    f"input {t.input_bytes / 1e6:.2f} MB, forward/backward "
                    f"{t.forward_backward_bytes / 1e6:.2f} MB, params {t.params_bytes / 1e6:.2f} "
                    f"MB, total {t.total_bytes / 1e6:.2f} MB",
                ),
            ]
        ),
    )
