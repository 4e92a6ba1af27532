"""The display of ``cnnzoo.compare_runs`` (``cnnzoo runs``): one row per run, the options that
differ between them, the best run's row green."""

from __future__ import annotations

from typing import Any

from . import html as h
from .markdown import table_md

__all__ = ["runs_html", "runs_markdown"]


def _best(comparison: Any) -> int | None:
    scored = [
        (r.best_val_acc, -i) for i, r in enumerate(comparison.runs) if r.best_val_acc is not None
    ]
    return -max(scored)[1] if len(scored) > 1 else None


def runs_html(comparison: Any) -> str:
    headers, rows = comparison.rows()
    numeric = 2 + len(comparison.differing)
    align = ["right" if i >= numeric else "left" for i in range(len(headers))]
    best = _best(comparison)
    cells = []
    for i, row in enumerate(rows):
        colors = h.GOOD if i == best else None
        cells.append(
            [
                h.Cell(v, colors=colors, mono=j >= numeric, align=align[j], strong=j == 0)
                for j, v in enumerate(row)
            ]
        )
    head: list[Any] = [
        h.Cell(v, colors=h.NOTE if 2 <= j < numeric else None, align=align[j])
        for j, v in enumerate(headers)
    ]
    differing = ", ".join(comparison.differing) or "none: the runs have the same options"
    parts = [
        h.heading(f"{len(rows)} training run{'s' * (len(rows) != 1)}"),
        h.paragraph(f"options that differ: {differing}"),
        h.table(head, cells, align=align),
    ]
    if best is not None:
        parts.append(
            h.paragraph(
                f"best validation accuracy: {rows[best][0]} (green); the test accuracy of the "
                "same epoch is reported, it chose nothing"
            )
        )
    return h.block(*parts)


def runs_markdown(comparison: Any) -> str:
    headers, rows = comparison.rows()
    numeric = 2 + len(comparison.differing)
    return table_md(
        headers, rows, align=["right" if i >= numeric else "left" for i in range(len(headers))]
    )
