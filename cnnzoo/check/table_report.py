"""A document's table reconciled with a model: the report, as data and as text."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .printed import _FIELD_TITLES, _jsonable, _show

__all__ = ["AlsoReport", "Cell", "ErratumReport", "RowReport", "TableReport"]


@dataclass(frozen=True)
class Cell:
    """One printed value of a row against the model's."""

    field: str
    printed: Any
    #: The model's value, PyTorch's way (``None``: the model has no such thing).
    model: Any
    #: The model's value counted the document's way, where that differs.
    as_table: Any = None
    verdict: str = "match"
    erratum: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "printed": _jsonable(self.printed),
            "model": _jsonable(self.model),
            "as_table": _jsonable(self.as_table),
            "verdict": self.verdict,
            "erratum": self.erratum,
            "note": self.note,
        }


@dataclass(frozen=True)
class RowReport:
    """A row of the table (or one of its totals) and its cells."""

    id: str
    layer: str
    #: The model's layer the row lines up with ("" the whole model, None: none).
    module: str | None
    cells: tuple[Cell, ...]
    #: models tables: the model each checked figure describes.
    models: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        verdicts = {c.verdict for c in self.cells}
        for v in ("mismatch", "erratum", "absent"):
            if v in verdicts:
                return v
        return "match"

    @property
    def errata(self) -> list[str]:
        return list(dict.fromkeys(c.erratum for c in self.cells if c.erratum))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "layer": self.layer,
            "module": self.module,
            "models": dict(self.models),
            "note": self.note,
            "extra": {k: _jsonable(v) for k, v in self.extra.items()},
            "verdict": self.verdict,
            "cells": [c.to_dict() for c in self.cells],
        }


@dataclass(frozen=True)
class AlsoReport:
    """A further measurement an erratum cites, measured again."""

    model: str
    convention: str
    recorded: int
    measured: int
    #: Whether the measurement rounds to the document's printed figure.
    matches_printed: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "convention": self.convention,
            "recorded": self.recorded,
            "measured": self.measured,
            "matches_printed": self.matches_printed,
            "note": self.note,
        }


@dataclass(frozen=True)
class ErratumReport:
    """A recorded erratum and whether this check observed it."""

    id: str
    rows: tuple[str, ...]
    field: str
    printed: Any
    true: Any
    cause: str
    reference: int | None
    checked: bool
    #: True: every cell it names shows it; False: it no longer holds; None: not checkable.
    confirmed: bool | None
    also: tuple[AlsoReport, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rows": list(self.rows),
            "field": self.field,
            "printed": _jsonable(self.printed),
            "true": _jsonable(self.true),
            "cause": self.cause,
            "reference": self.reference,
            "checked": self.checked,
            "confirmed": self.confirmed,
            "also": [a.to_dict() for a in self.also],
        }


@dataclass(frozen=True)
class TableReport:
    """One table reconciled with its model."""

    id: str
    title: str
    kind: str
    path: str
    source: str
    model: str | None
    #: The input the model ran at, one sample (C, H, W); None for a models table.
    input_size: tuple[int, ...] | None
    layout: str
    convention: str
    convention_note: str
    rows: tuple[RowReport, ...]
    totals: tuple[RowReport, ...]
    accounting: tuple[str, ...]
    errata: tuple[ErratumReport, ...]
    failures: tuple[str, ...]
    #: Set when only some rows were checked (the rows about one model).
    selected_rows: tuple[str, ...] | None = None
    columns: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "path": self.path,
            "source": self.source,
            "model": self.model,
            "input_size": list(self.input_size) if self.input_size else None,
            "layout": self.layout,
            "convention": self.convention,
            "convention_note": self.convention_note,
            "selected_rows": list(self.selected_rows) if self.selected_rows else None,
            "rows": [r.to_dict() for r in self.rows],
            "totals": [t.to_dict() for t in self.totals],
            "accounting": list(self.accounting),
            "errata": [e.to_dict() for e in self.errata],
            "failures": list(self.failures),
            "ok": self.ok,
        }

    def __str__(self) -> str:
        return _render_table(self)

    def _repr_html_(self) -> str:
        from ..display.check import table_html
        from ..display.html import block

        return block(table_html(self))


# --- text ----------------------------------------------------------------------------------


def _cell_text(c: Cell) -> str:
    text = _show(c.field, c.printed)
    if c.verdict == "absent":
        return text
    if c.verdict != "match":
        return f"{text} (model {_show(c.field, c.model)})"
    if c.as_table is not None and c.as_table != c.model:
        if not (isinstance(c.as_table, int) and isinstance(c.model, int)):
            return f"{text} (= {_show(c.field, c.model)})"  # a conv read as its Linear
        return f"{text} (= {_show(c.field, c.model)} {c.as_table - c.model:+,})"
    return text


def _verdict_text(r: RowReport) -> str:
    v = r.verdict
    if v == "mismatch":
        return "MISMATCH"
    if v == "erratum":
        return " ".join(r.errata)
    if v == "absent":
        return "absent"
    translated = any(c.as_table is not None and c.as_table != c.model for c in r.cells)
    ids = r.errata
    return "match" + ("*" if translated else "") + (f" ({' '.join(ids)})" if ids else "")


def _grid(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


_LAYOUT_TEXT = {
    "HWC": "H x W x C, as the table prints them (the model's C x H x W, reordered)",
    "CHW": "C x H x W",
    "HW": "H x W",
}


def _render_table(t: TableReport) -> str:
    head = [f"{t.id}: {t.title}", f"source    {t.source}"]
    if t.kind == "layers":
        size = "x".join(str(v) for v in t.input_size or ())
        head.append(f"model     {t.model}, run at {size} (batch 1)")
        head.append(f"shapes    {_LAYOUT_TEXT[t.layout]}")
    else:
        head.append("models    each figure's model, at its default input (batch 1)")
    head.append(f"counting  {t.convention_note}")
    if t.selected_rows is not None:
        head.append(f"rows      only those about this model: {', '.join(t.selected_rows)}")
    lines = [_wrap(h) for h in head] + [""]
    lines += _render_rows(t)
    if t.totals:
        lines += ["", "totals"]
        lines += [
            f"  {r.layer}: {_cell_text(r.cells[0])}  {_verdict_text(r)}".rstrip() for r in t.totals
        ]
    if t.accounting:
        lines += ["", "where the parameters are"] + [f"  {a}" for a in t.accounting]
    top5 = [x for x in (_top5_of(r.id, r.extra) for r in t.rows) if x is not None]
    if top5:
        lines += ["", "top-5 accuracy: the printed figure, the published weights, the paper"]
        lines += [_wrap(f"  {line}", indent=6) for x in top5 for line in x.lines()]
    notes = _notes(t)
    if notes:
        lines += ["", "notes"] + [f"  {n}" for n in notes]
    if t.errata:
        lines += ["", "errata"]
        totals = {r.id for r in t.totals}
        for e in t.errata:
            lines += [_wrap(line, indent=13) for line in _erratum_lines(e, totals)]
    lines += ["", _result_line(t)]
    return "\n".join(lines)


def _top5_of(row_id: str, extra: Mapping[str, Any]) -> Any:
    from .tables import top5_of

    return top5_of(row_id, extra)


def _module_text(r: RowReport) -> str:
    """A row's module column: the module, "(model)", "(input)", "(none)" or "-"."""
    if r.module is None and r.verdict == "absent":
        return "(none)"
    if r.module is None and any(c.field == "output" for c in r.cells):
        return "(input)"
    return {None: "-", "": "(model)"}.get(r.module, r.module or "-")


def _wrap(line: str, indent: int = 10, width: int = 100) -> str:
    return textwrap.fill(line, width, subsequent_indent=" " * indent, break_on_hyphens=False)


def _render_rows(t: TableReport) -> list[str]:
    if t.kind == "models":
        headers = ["row", "year", "top-5"]
        fields = [f for f in ("params", "mult_adds") if any(f in r.models for r in t.rows)]
        headers += [t.columns.get(f, _FIELD_TITLES[f]) for f in fields] + ["verdict"]
        rows = []
        for r in t.rows:
            cells = {c.field: c for c in r.cells}
            row = [r.layer, str(r.extra.get("year", "")), str(r.extra.get("top5", ""))]
            for f in fields:
                c = cells.get(f)
                row.append("" if c is None else _measured_text(f, c, r.models.get(f, "?")))
            row.append(_verdict_text(r))
            rows.append(row)
        return _grid(headers, rows)
    shown = {c.field for r in t.rows for c in r.cells}
    fields = [f for f in _FIELD_TITLES if f != "name" and f in shown]
    headers = ["row", "layer", "module", *(_FIELD_TITLES[f] for f in fields), "verdict"]
    rows = []
    for r in t.rows:
        cells = {c.field: c for c in r.cells}
        row = [r.id, r.layer, _module_text(r)]
        row += ["" if f not in cells else _cell_text(cells[f]) for f in fields]
        row.append(_verdict_text(r))
        rows.append(row)
    return _grid(headers, rows)


def _measured_text(fld: str, c: Cell, model: str) -> str:
    value = c.as_table if c.as_table is not None else c.model
    return f"{_show(fld, c.printed)} ({model}: {_show(fld, value)})"


def _notes(t: TableReport) -> list[str]:
    notes = []
    translated = [
        (r.id, c) for r in (*t.rows, *t.totals) for c in r.cells
        if c.as_table is not None and c.as_table != c.model
    ]  # fmt: skip
    read_as = [(i, c) for i, c in translated if not isinstance(c.as_table, int)]
    translated = [(i, c) for i, c in translated if isinstance(c.as_table, int)]
    for row_id, c in read_as:  # a conv over its whole map, read as the Linear printed
        notes.append(f"* row {row_id}: {c.note}; shown as 'table (= model)'")
    if translated:
        what = translated[0][1].note or "the table's counting"
        notes.append(
            f"* counted the table's way ({what.split(' ', 1)[1] if what.startswith('+') else what})"
            f": shown as 'table (= model +difference)' in {len(translated)} cell"
            f"{'s' * (len(translated) > 1)}"
        )
    for r in t.rows:
        if r.verdict == "absent" and r.note:
            notes.append(f"row {r.id}: not in the model: {r.note}")
    for r in t.rows:
        for c in r.cells:
            if c.field == "name" and c.verdict != "match":
                notes.append(
                    f"row {r.id}: the document names it {c.printed!r}; in the table's naming "
                    f"the model's layer is {c.model!r}"
                )
    return notes


def _erratum_lines(e: ErratumReport, totals: set[str]) -> list[str]:
    rows = [r for r in e.rows if r not in totals]
    where = ", ".join(
        ([f"row{'s' * (len(rows) > 1)} {', '.join(rows)}"] if rows else [])
        + [r for r in e.rows if r in totals]
    )
    fld = _FIELD_TITLES.get(e.field, e.field)
    if not e.checked:
        status = "about the text, not checked"
    elif e.confirmed:
        status = "confirmed"
    else:
        status = "NOT CONFIRMED"
    lines = [
        f"  {e.id}  {where}, {fld}: printed {_show(e.field, e.printed)}, true "
        f"{_show(e.field, e.true)} [{status}]",
        f"      cause: {e.cause}",
    ]
    for a in e.also:
        way = "" if a.convention == "pytorch" else f" counted with {a.convention.replace('_', ' ')}"
        printed = _show(e.field, e.printed)
        rounding = f", which is the printed {printed}" if a.matches_printed else ""
        lines.append(
            f"      also: {a.model}{way} measures {a.measured:,}{rounding}"
            + (f" ({a.note})" if a.note else "")
        )
    return lines


def _result_line(t: TableReport) -> str:
    differing = [
        (r.id, c) for r in (*t.rows, *t.totals) for c in r.cells
        if c.verdict == "erratum"
    ]  # fmt: skip
    ids = sorted({c.erratum for _, c in differing if c.erratum}, key=_natural)
    if t.ok:
        confirmed = [e.id for e in t.errata if e.confirmed]
        if not differing and confirmed:
            # E.g. a total counted with Keras' convention: it differs from the model's own
            # count, and the erratum above says why.
            return (
                f"result: OK, every printed value matches the model or is explained by "
                f"{'the erratum' if len(confirmed) == 1 else 'the errata'} above "
                f"({', '.join(confirmed)})"
            )
        if not differing:
            return "result: OK, every printed value matches the model"
        return (
            f"result: OK, {_plural(len(differing), 'printed value')} "
            f"{'differs' if len(differing) == 1 else 'differ'} from the model, each a recorded "
            f"erratum ({', '.join(ids)})"
        )
    return f"result: FAILED, {len(t.failures)} unexplained:\n" + "\n".join(
        f"  {f}" for f in t.failures
    )


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]
