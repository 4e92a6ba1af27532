"""A student's network checked against its reference: the report, as data and as text."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from .diagnose import Difference, LayerRow
from .formula import shape_text

__all__ = ["StudentReport"]

_VERDICTS = {
    "match": "ok",
    "differs": "DIFFERS",
    "missing": "MISSING",
    "extra": "EXTRA",
    "note": "note",
    "not reached": "not reached",
    "order": "ok (order)",
}


@dataclass(frozen=True)
class StudentReport:
    """One network (a student's) against a registered model and the document behind it."""

    #: How the network was named: ``path/to/classify.py:emotionNet``, a class name, a weights file.
    model: str
    #: The registered model it is checked against, and how the report cites the document.
    reference: str
    document: str
    input_size: tuple[int, ...]
    num_classes: int | None
    differences: tuple[Difference, ...]
    notes: tuple[str, ...]
    rows: tuple[LayerRow, ...] = ()
    #: "torch.fx", "hooks" or "weights" (shapes of the parameters only).
    method: str = "torch.fx"
    method_note: str | None = None
    params: int | None = None
    reference_params: int | None = None
    #: Set when the network could not be checked at all (does not import, never returns...).
    error: str | None = None
    #: What the student's code printed while it was checked (kept out of cnnzoo's output).
    printed: str = ""
    weights: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.differences

    @property
    def first_difference(self) -> str | None:
        """The first difference and its cause, in one line (None when it matches)."""
        if self.error is not None:
            return self.error
        return self.differences[0].cause if self.differences else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "reference": self.reference,
            "document": self.document,
            "input_size": list(self.input_size),
            "num_classes": self.num_classes,
            "ok": self.ok,
            "error": self.error,
            "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes),
            "layers": [r.to_dict() for r in self.rows],
            "method": self.method,
            "method_note": self.method_note,
            "params": self.params,
            "reference_params": self.reference_params,
            "weights": self.weights,
            "printed": self.printed,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        return render(self)

    def _repr_html_(self) -> str:
        from ..display.check import student_html
        from ..display.html import block

        return block(student_html(self))


def _wrap(text: str, indent: str = "  ", width: int = 100) -> str:
    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False)  # fmt: skip


def render(r: StudentReport) -> str:
    size = "x".join(str(v) for v in r.input_size)
    classes = f", {r.num_classes} classes" if r.num_classes is not None else ""
    lines = [f"{r.model} against {r.reference} ({r.document}), input {size}{classes}"]
    if r.error is not None:
        lines += ["", f"result: CANNOT CHECK: {r.error}"]
        return "\n".join(lines)
    how = {
        "torch.fx": "read with torch.fx (functional calls included)",
        "hooks": "read with hooks",
        "weights": "from the weights alone (parameter shapes, in order)",
    }[r.method]
    lines.append(how + (f": {r.method_note}" if r.method_note else ""))
    if r.rows:
        grid = [["layer", "type", "output", "expected", "params", "verdict"]]
        for row in r.rows:
            grid.append([
                row.layer or ("(not seen)" if row.verdict == "not reached" else "(none)"),
                row.type,
                shape_text(row.output) if row.output is not None else "-",
                shape_text(row.expected) if row.expected is not None else "-",
                f"{row.params:,}" if row.params else "",
                _VERDICTS.get(row.verdict, row.verdict),
            ])  # fmt: skip
        widths = [max(len(line[i]) for line in grid) for i in range(len(grid[0]))]
        lines.append("")
        for k, line in enumerate(grid):
            lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
    if r.params is not None and r.reference_params is not None:
        lines += ["", f"parameters: {r.params:,} (reference {r.reference_params:,})"]
    causes = [d for d in r.differences if not d.consequence]
    follows = [d for d in r.differences if d.consequence]
    if r.differences:
        lines += ["", "first difference"]
        lines.append(_wrap(r.differences[0].cause))
        rest = r.differences[1:]
        if rest:
            lines += ["", "then"]
            lines += [_wrap(d.cause) for d in rest]
    if r.notes:
        lines += ["", "notes"]
        lines += [_wrap(n) for n in r.notes]
    lines.append("")
    if r.ok:
        lines.append(f"result: OK, the network matches {r.document}")
    else:
        lines.append(
            f"result: DIFFERS, {len(causes)} cause{'s' * (len(causes) != 1)}"
            + (f", {len(follows)} consequence{'s' * (len(follows) != 1)}" if follows else "")
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class CheckReport:
    """The result of :func:`cnnzoo.check`: the student's network against its reference (when
    one was given) and one :class:`~cnnzoo.check.tables.TableReport` per document table.

    ``str(report)`` is the text ``cnnzoo check`` prints; ``report.to_json()`` its ``--format
    json`` (schema ``cnnzoo/schemas/check.schema.json``); ``report.ok`` is False when the
    network differs or a table has an unexplained difference; ``report.differences`` lists
    the differences, first first.
    """

    tables: tuple[Any, ...]
    student: StudentReport | None = None

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and (self.student is None or self.student.ok)

    @property
    def failures(self) -> list[str]:
        """The tables' unexplained differences, each prefixed with its table id."""
        return [f"{t.id}: {f}" for t in self.tables for f in t.failures]

    @property
    def differences(self) -> list[Difference]:
        """The student's differences (first first); without a student, the tables' failures."""
        if self.student is not None:
            if self.student.error is not None:
                return [Difference("(model)", "import", "a network", None, self.student.error)]
            return list(self.student.differences)
        out = []
        for t in self.tables:
            for row in (*t.rows, *t.totals):
                for c in row.cells:
                    if c.verdict == "mismatch":
                        out.append(
                            Difference(
                                layer=row.module or row.id,
                                field=c.field,
                                expected=_plain(c.printed),
                                got=_plain(c.as_table if c.as_table is not None else c.model),
                                cause=next(
                                    (
                                        f"{t.id}: {f}"
                                        for f in t.failures
                                        if f.startswith((f"row {row.id} (", f"row {row.id}:"))
                                    ),
                                    f"{t.id}: row {row.id}: {c.field}",
                                ),
                            )
                        )
        return out

    @property
    def notes(self) -> list[str]:
        return list(self.student.notes) if self.student is not None else []

    @property
    def first_difference(self) -> str | None:
        diffs = self.differences
        if diffs:
            return diffs[0].cause
        return self.failures[0] if self.failures else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``cnnzoo/schemas/check.schema.json``)."""
        return {
            "format": "cnnzoo.check/1",
            "ok": self.ok,
            "differences": [d.to_dict() for d in self.differences],
            "notes": self.notes,
            "student": self.student.to_dict() if self.student is not None else None,
            "tables": [t.to_dict() for t in self.tables],
            "failures": self.failures,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def _repr_html_(self) -> str:
        # A notebook shows verdicts coloured, errata with causes, the first difference marked.
        from ..display.check import check_html

        return check_html(self)

    def __str__(self) -> str:
        parts = [str(self.student)] if self.student is not None else []
        parts += [str(t) for t in self.tables]
        n = len(self.tables)
        if n > 1:
            bad = [t.id for t in self.tables if not t.ok]
            parts.append(
                f"{n} tables checked: all reconciled"
                if not bad
                else f"{n} tables checked: {len(bad)} with unexplained differences "
                f"({', '.join(bad)})"
            )
        return "\n\n".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
