"""The display of a :class:`~cnnzoo.check.CheckReport`: the student's network and each document
table, with coloured verdicts, the errata and their causes, and the first difference marked.

The cell texts are the ones ``cnnzoo check`` prints (the same helpers make them), so the
notebook's table and the terminal's say the same thing.
"""

from __future__ import annotations

from typing import Any

from . import html as h

__all__ = ["check_html", "student_html", "table_html"]

_ROW_COLOURS = {"match": h.GOOD, "erratum": h.NOTE, "mismatch": h.BAD, "absent": h.MUTED}
_LAYER_COLOURS = {
    "match": h.GOOD,
    "order": h.GOOD,
    "differs": h.BAD,
    "missing": h.BAD,
    "extra": h.BAD,
    "note": h.NOTE,
    "not reached": h.MUTED,
}
FIRST = "◀ first difference"


def check_html(report: Any) -> str:
    parts = []
    if report.student is not None:
        parts.append(student_html(report.student))
    parts += [table_html(t) for t in report.tables]
    if len(report.tables) > 1:
        bad = [t.id for t in report.tables if not t.ok]
        parts.append(
            h.paragraph(
                f"{len(report.tables)} tables checked: all reconciled"
                if not bad
                else f"{len(report.tables)} tables checked: {len(bad)} with unexplained "
                f"differences ({', '.join(bad)})",
                colors=h.BAD if bad else h.GOOD,
            )
        )
    return h.block(*parts)


def student_html(r: Any) -> str:
    from ..check.formula import shape_text
    from ..check.report import _VERDICTS

    size = "x".join(str(v) for v in r.input_size)
    classes = f", {r.num_classes} classes" if r.num_classes is not None else ""
    if r.error is not None:
        verdict = h.badge("CANNOT CHECK", h.BAD)
    elif r.ok:
        verdict = h.badge("OK", h.GOOD)
    else:
        verdict = h.badge("DIFFERS", h.BAD)
    parts = [
        h.heading(f"{r.model} against {r.reference} ({r.document}), input {size}{classes}", verdict)
    ]
    if r.error is not None:
        parts.append(h.paragraph(r.error, colors=h.BAD))
        return "".join(parts)
    how = {
        "torch.fx": "read with torch.fx (functional calls included)",
        "hooks": "read with hooks",
        "weights": "from the weights alone (parameter shapes, in order)",
    }.get(r.method, r.method)
    parts.append(h.paragraph(how + (f": {r.method_note}" if r.method_note else "")))
    first = r.differences[0] if r.differences else None
    marked = False
    rows = []
    for row in r.rows:
        is_first = (
            not marked and first is not None and row.layer == first.layer and row.verdict != "match"
        )
        marked = marked or is_first
        verdict = _VERDICTS.get(row.verdict, row.verdict)
        rows.append(
            [
                h.Cell(row.layer or "(none)", mono=True, strong=is_first),
                row.type,
                h.Cell(shape_text(row.output) if row.output is not None else "-", mono=True),
                h.Cell(shape_text(row.expected) if row.expected is not None else "-", mono=True),
                h.Cell(f"{row.params:,}" if row.params else "", align="right", mono=True),
                h.Cell(verdict, colors=_LAYER_COLOURS.get(row.verdict), strong=is_first),
                h.Cell(FIRST if is_first else "", colors=h.BAD if is_first else None),
            ]
        )
    if rows:
        parts.append(
            h.table(
                ["layer", "type", "output", "expected", "params", "verdict", ""],
                rows,
                align=["left", "left", "left", "left", "right", "left", "left"],
            )
        )
    if r.params is not None and r.reference_params is not None:
        parts.append(h.paragraph(f"parameters: {r.params:,} (reference {r.reference_params:,})"))
    if first is not None:
        parts.append(h.paragraph(f"First difference: {first.cause}", colors=h.BAD))
        rest = r.differences[1:]
        if rest:
            parts.append(_list("then", [d.cause for d in rest]))
    if r.notes:
        parts.append(_list("notes", list(r.notes)))
    if r.ok:
        parts.append(h.paragraph(f"OK: the network matches {r.document}", colors=h.GOOD))
    else:
        causes = [d for d in r.differences if not d.consequence]
        follows = len(r.differences) - len(causes)
        text = f"DIFFERS: {len(causes)} cause{'s' * (len(causes) != 1)}"
        if follows:
            text += f", {follows} consequence{'s' * (follows != 1)}"
        parts.append(h.paragraph(text, colors=h.BAD))
    return "".join(parts)


def _list(title: str, items: list[str]) -> str:
    lis = "".join(f'<li style="margin: 1px 0;">{h.escape(i)}</li>' for i in items)
    return (
        f'<div style="margin: 4px 0 2px 0; font-weight: 600;">{h.escape(title)}</div>'
        f'<ul style="margin: 0 0 6px 0; padding-left: 20px;">{lis}</ul>'
    )


def table_html(t: Any) -> str:
    from ..check.printed import _FIELD_TITLES, _show
    from ..check.table_report import (
        _LAYOUT_TEXT,
        _cell_text,
        _measured_text,
        _module_text,
        _notes,
        _result_line,
        _verdict_text,
    )

    badge = h.badge("OK", h.GOOD) if t.ok else h.badge("FAILED", h.BAD)
    facts: list[tuple[str, Any]] = [("source", t.source)]
    if t.kind == "layers":
        size = "x".join(str(v) for v in t.input_size or ())
        facts.append(("model", f"{t.model}, run at {size} (batch 1)"))
        facts.append(("shapes", _LAYOUT_TEXT.get(t.layout, t.layout)))
    else:
        facts.append(("models", "each figure's model, at its default input (batch 1)"))
    facts.append(("counting", t.convention_note))
    if t.selected_rows is not None:
        facts.append(("rows", f"only those about this model: {', '.join(t.selected_rows)}"))
    parts = [h.heading(f"{t.id}: {t.title}", badge), h.definitions(facts)]

    def verdict(r: Any) -> h.Cell:
        return h.Cell(_verdict_text(r), colors=_ROW_COLOURS.get(r.verdict))

    if t.kind == "models":
        fields = [f for f in ("params", "mult_adds") if any(f in r.models for r in t.rows)]
        headers = ["row", "year", "top-5", *(t.columns.get(f, _FIELD_TITLES[f]) for f in fields)]
        rows = []
        for r in t.rows:
            cells = {c.field: c for c in r.cells}
            row: list[Any] = [r.layer, str(r.extra.get("year", "")), str(r.extra.get("top5", ""))]
            for f in fields:
                c = cells.get(f)
                row.append("" if c is None else _measured_text(f, c, r.models.get(f, "?")))
            rows.append([*row, verdict(r)])
    else:
        shown = {c.field for r in t.rows for c in r.cells}
        fields = [f for f in _FIELD_TITLES if f != "name" and f in shown]
        headers = ["row", "layer", "module", *(_FIELD_TITLES[f] for f in fields)]
        rows = []
        for r in t.rows:
            cells = {c.field: c for c in r.cells}
            row = [r.id, r.layer, h.Cell(_module_text(r), mono=True)]
            for f in fields:
                c = cells.get(f)
                row.append(
                    ""
                    if c is None
                    else h.Cell(
                        _cell_text(c),
                        mono=True,
                        colors=_ROW_COLOURS.get(c.verdict) if c.verdict != "match" else None,
                    )
                )
            rows.append([*row, verdict(r)])
    parts.append(h.table([*headers, "verdict"], rows))
    if t.totals:
        parts.append(
            h.table(
                ["total", "value", "verdict"],
                [[r.layer, _cell_text(r.cells[0]), verdict(r)] for r in t.totals],
            )
        )
    if t.accounting:
        parts.append(_list("where the parameters are", list(t.accounting)))
    notes = _notes(t)
    if notes:
        parts.append(_list("notes", notes))
    if t.errata:
        totals = {r.id for r in t.totals}
        erows = []
        for e in t.errata:
            where = ", ".join(e.rows)
            if not e.checked:
                status = h.Cell("about the text, not checked", colors=h.MUTED)
            elif e.confirmed:
                status = h.Cell("confirmed", colors=h.NOTE)
            else:
                status = h.Cell("NOT CONFIRMED", colors=h.BAD)
            cause = e.cause
            for a in e.also:
                cause += f" — also: {a.model} measures {a.measured:,}" + (
                    f" ({a.note})" if a.note else ""
                )
            erows.append(
                [
                    h.Cell(e.id, strong=True),
                    ("total " if set(e.rows) <= totals else "") + where,
                    _FIELD_TITLES.get(e.field, e.field),
                    h.Cell(_show(e.field, e.printed), mono=True),
                    h.Cell(_show(e.field, e.true), mono=True),
                    status,
                    cause,
                ]
            )
        parts.append(
            h.table(
                ["erratum", "rows", "field", "printed", "true", "status", "cause"],
                erows,
                caption="errata: where the document's table is wrong, and why",
            )
        )
    result = _result_line(t)
    parts.append(h.paragraph(result, colors=h.GOOD if t.ok else h.BAD, mono=not t.ok))
    return "".join(parts)
