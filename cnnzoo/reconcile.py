"""``cnnzoo.check``: a course document's table reconciled with its model, row by row.

For each table of ``cnnzoo/specs/`` (see :mod:`cnnzoo.spec`) the check runs the model at the
table's input, lines each row up with the model's layer, and compares what the row prints
(output shape, parameters, kernel, stride, padding, channels, the printed module) with what the
model has. Each cell gets a verdict:

* ``match``: equal, possibly after translating the document's counting convention (Keras'
  BatchNorm statistics, a bias on every conv); the cell then shows both counts;
* ``erratum``: different, and a recorded erratum says exactly this (printed value, true value,
  cause);
* ``absent``: the model deliberately has no such layer (a Keras softmax), and says why;
* ``mismatch``: different, and nothing explains it: the check fails, naming the row.

A recorded erratum that the check does not observe (the document or the model changed) fails
too, so errata cannot hide a difference they do not describe.

NOTE: this module is ``reconcile`` and not ``check`` so that ``cnnzoo.check`` stays the function.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import SpecError, UnknownModelError
from .spec import Erratum, Spec, SpecRow, list_specs, load_spec

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Cell", "CheckReport", "ErratumReport", "RowReport", "TableReport", "check"]

FORMAT = "cnnzoo.check/1"

_FIELD_TITLES = {
    "output": "output",
    "params": "params",
    "mult_adds": "mult-adds",
    "kernel": "kernel",
    "stride": "stride",
    "pad": "pad",
    "channels": "in->out",
    "out_channels": "out",
    "type": "type",
    "repr": "printed module",
    "count": "count",
    "shape": "shape",
    "sizes": "sizes",
    "name": "name",
}


# --- the report ----------------------------------------------------------------------------


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


@dataclass(frozen=True)
class CheckReport:
    """The result of :func:`check`: one :class:`TableReport` per table checked.

    ``str(report)`` is the text ``cnnzoo check`` prints; ``report.to_json()`` its ``--format
    json``; ``report.ok`` is False when any difference is unexplained.
    """

    tables: tuple[TableReport, ...]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def failures(self) -> list[str]:
        return [f"{t.id}: {f}" for t in self.tables for f in t.failures]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``cnnzoo/schemas/check.schema.json``)."""
        return {
            "format": FORMAT,
            "ok": self.ok,
            "tables": [t.to_dict() for t in self.tables],
            "failures": self.failures,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        parts = [str(t) for t in self.tables]
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


# --- numbers and shapes as printed -----------------------------------------------------------

_FIGURE = re.compile(r"^\s*(\d+(?:\.(\d+))?)\s*([KMBG])?\s*$")
_GROUPED = re.compile(r"^\s*\d{1,3}(?:,\d{3})+\s*$")
_UNITS = {None: 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9}


def _figure(printed: Any) -> tuple[float, float] | None:
    """A printed count as (value, tolerance): ``1792`` exact, ``"62M"`` to the nearest million.

    A string that is no whole figure (``"62,3"``, cut off) gives None: it matches nothing.
    """
    if isinstance(printed, bool):
        return None
    if isinstance(printed, int):
        return float(printed), 0.0
    if not isinstance(printed, str):
        return None
    if _GROUPED.match(printed):
        return float(printed.replace(",", "")), 0.0
    m = _FIGURE.match(printed)
    if not m:
        return None
    unit = _UNITS[m.group(3)]
    decimals = len(m.group(2) or "")
    if unit == 1 and decimals == 0:
        return float(m.group(1)), 0.0
    return float(m.group(1)) * unit, 0.5 * unit / 10**decimals


def _figure_matches(printed: Any, value: Any) -> bool:
    fig = _figure(printed)
    if fig is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    target, tolerance = fig
    return abs(value - target) <= tolerance + 1e-9 * max(abs(target), 1)


def _shape(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    shape = tuple(value)
    # 1 x 1 x 4096 (an fc output drawn as a map) is the flat 4096.
    while len(shape) > 1 and shape[0] == 1:
        shape = shape[1:]
    return shape


def _scalar(value: Any) -> Any:
    if isinstance(value, (tuple, list)) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def _matches(fld: str, printed: Any, value: Any) -> bool:
    if value is None:
        return False
    if fld in ("output", "shape"):
        return _shape(printed) == _shape(value)
    if fld in ("params", "mult_adds", "count"):
        return _figure_matches(printed, value)
    if fld in ("kernel", "channels", "sizes"):
        return isinstance(value, tuple) and tuple(printed) == value
    if fld in ("stride", "pad", "out_channels"):
        return not isinstance(printed, bool) and _scalar(printed) == _scalar(value)
    return bool(printed == value)


def _to_layout(shape: Sequence[int] | None, layout: str) -> tuple[int, ...] | None:
    """A model's per-sample (C, H, W) shape as the document prints it."""
    if shape is None:
        return None
    shape = tuple(shape)
    if len(shape) == 3 and layout == "HWC":
        return (shape[1], shape[2], shape[0])
    if len(shape) == 3 and layout == "HW":
        return shape[1:]
    return shape


def _show(fld: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        if fld == "channels" and len(value) == 2:
            return f"{value[0]}->{value[1]}"
        if fld == "sizes" and len(value) == 2:
            return f"{value[0]} to {value[1]}"
        if fld in ("stride", "pad") and value and all(v == value[0] for v in value):
            return _show(fld, value[0])
        return "x".join(str(v) for v in value)
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


# --- what the check reads off a model ----------------------------------------------------------


def _convention_extra(module: nn.Module, convention: str) -> tuple[int, str | None]:
    """What the document's counting adds to one module's own parameters."""
    from torch import nn

    if convention == "keras" and isinstance(module, nn.modules.batchnorm._BatchNorm):
        stats = [t for t in (module.running_mean, module.running_var) if t is not None]
        if stats:
            return sum(t.numel() for t in stats), "moving mean and variance, as Keras counts"
    conv = isinstance(module, nn.modules.conv._ConvNd)
    if convention == "conv_bias" and conv and module.bias is None:
        return module.out_channels, "conv bias, as the table counts"
    return 0, None


def _count(module: nn.Module, convention: str) -> tuple[int, int, str | None]:
    """(parameters PyTorch's way, the document's way, what the difference is)."""
    raw = sum(p.numel() for p in module.parameters())
    extra, what = 0, None
    for m in module.modules():
        n, why = _convention_extra(m, convention)
        extra += n
        what = what or why
    return raw, raw + extra, (f"+{extra:,} {what}" if extra else None)


class _Facts:
    """A model run once at an input: each layer's shapes and mult-adds, by dotted path."""

    def __init__(self, name: str, model: nn.Module, input_size: tuple[int, ...], fast: bool):
        from .summarize import module_names, statistics

        self.name = name
        self.model = model
        self.input_size = input_size
        stats = statistics(
            model,
            input_size,
            name=name,
            columns=("input_size", "output_size", "num_params", "mult_adds"),
            shapes_only=fast,
        )
        names = module_names(model)
        self.layers: dict[str, Any] = {}
        for info in stats.summary_list:
            path = names.get(info.layer_id)
            if path is not None and (path not in self.layers or not self.layers[path].executed):
                self.layers[path] = info
        self.total_mult_adds = int(stats.total_mult_adds)

    def module(self, path: str) -> nn.Module | None:
        try:
            return self.model.get_submodule(path) if path else self.model
        except AttributeError:
            return None

    def output(self, path: str) -> tuple[int, ...] | None:
        info = self.layers.get(path)
        return tuple(info.output_size[1:]) if info is not None and info.output_size else None

    def input(self, path: str) -> tuple[int, ...] | None:
        info = self.layers.get(path)
        return tuple(info.input_size[1:]) if info is not None and info.input_size else None

    def mult_adds(self, path: str) -> int | None:
        if not path:
            return self.total_mult_adds
        info = self.layers.get(path)
        if info is None:
            return None
        if info.is_leaf_layer:
            return int(max(info.macs, 0))
        return int(sum(c.macs for c in info.children if c.is_leaf_layer))


def _pair(value: Any, n: int = 2) -> tuple[int, ...] | None:
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return None


def _layer_value(fld: str, facts: _Facts, path: str, m: nn.Module) -> Any:
    """The model's value of ``fld`` for its layer ``m`` (at ``path``), None where it has none."""
    from torch import nn

    conv = isinstance(m, nn.modules.conv._ConvNd)
    pool = isinstance(m, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd))
    adaptive = isinstance(
        m, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
    )
    linear = isinstance(m, nn.Linear)
    ins, outs = facts.input(path), facts.output(path)
    if fld == "output":
        return outs
    if fld == "mult_adds":
        return facts.mult_adds(path)
    if fld == "type":
        return type(m).__name__
    if fld == "repr":
        return repr(m)
    if adaptive and fld in ("kernel", "stride", "pad"):
        # An adaptive pool whose input divides evenly is a plain pool of kernel = stride = in/out.
        if ins is None or outs is None or len(ins) != len(outs):
            return None
        pairs = list(zip(ins[1:], outs[1:], strict=True))
        if any(i % o for i, o in pairs):
            return None
        k = tuple(i // o for i, o in pairs)
        return (0,) * len(k) if fld == "pad" else k
    if fld == "kernel":
        if conv or pool:
            return _pair(m.kernel_size)
        return (1, 1) if linear else None  # the documents draw an fc layer as a 1 x 1 kernel
    if fld == "stride":
        if conv:
            return _pair(m.stride)
        if pool:
            return _pair(m.stride if m.stride is not None else m.kernel_size)
        return None
    if fld == "pad":
        if conv or pool:
            return m.padding if isinstance(m.padding, str) else _pair(m.padding)
        return None
    if fld in ("channels", "out_channels"):
        pair: tuple[Any, Any]
        if conv:
            pair = (m.in_channels, m.out_channels)
        elif linear:
            pair = (m.in_features, m.out_features)
        elif ins is not None and outs is not None:
            pair = (ins[0], outs[0])
        else:
            return None
        return pair if fld == "channels" else pair[1]
    return None


# --- the check itself -------------------------------------------------------------------------


class _Judge:
    """Gives cells their verdicts and keeps track of which errata were seen."""

    def __init__(self, spec: Spec) -> None:
        self.errata: dict[tuple[str, str], Erratum] = {}
        for e in spec.errata:
            if e.checked:
                for rid in e.rows:
                    self.errata[(rid, e.field)] = e
        self.seen: dict[str, set[str]] = {e.id: set() for e in spec.errata}
        self.observed: dict[tuple[str, str], Cell] = {}
        self.failures: list[str] = []

    def judge(
        self,
        row: str,
        label: str,
        fld: str,
        printed: Any,
        model: Any,
        as_table: Any = None,
        note: str | None = None,
    ) -> Cell:
        target = model if as_table is None else as_table
        e = self.errata.get((row, fld))
        known = e if e is not None and _same(e.printed, printed) else None
        if _matches(fld, printed, target):
            # A recorded convention difference (Keras' count) is seen when the model's own
            # count is the erratum's true value.
            eid = known.id if known and _matches(fld, known.true, model) else None
            cell = Cell(fld, printed, model, as_table, "match", eid, note)
        elif known and (_matches(fld, known.true, model) or _matches(fld, known.true, target)):
            cell = Cell(fld, printed, model, as_table, "erratum", known.id, note)
        else:
            cell = Cell(fld, printed, model, as_table, "mismatch", None, note)
            self.failures.append(
                f"{_row_name(row, label)}: {_FIELD_TITLES.get(fld, fld)}: the document prints "
                f"{_show(fld, printed)}, the model has {_show(fld, target)}"
                + (f" ({note})" if note else "")
            )
        if cell.erratum:
            self.seen[cell.erratum].add(row)
        self.observed[(row, fld)] = cell
        return cell


def _row_name(row: str, label: str) -> str:
    """How a failure names a row: its id, and the layer as printed when that says more."""
    if label.strip("()") == row:
        return f"row {row}"
    return f"row {row} ({label})"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tuple(a) == tuple(b)
    return type(a) is type(b) and a == b


def _run_input(spec: Spec, model: nn.Module) -> tuple[int, ...]:
    """Where the model runs: the table's ``run_input``, else the model's own input.

    Not the table's printed input: that is what the input row checks (a wrong one, such as the
    ResNet18 table's 227, must show as a difference, not move the model). Only a model that does
    not say what it takes runs at the printed input.
    """
    if spec.run_input is not None:
        return spec.run_input
    default = tuple(getattr(model, "default_input_size", ()) or ())
    if default:
        return default
    for row in spec.rows:
        if row.kind == "input":
            shape = tuple(row.printed["output"])
            layout = row.layout or spec.layout
            if layout == "HWC" and len(shape) == 3:
                return (shape[2], shape[0], shape[1])
            return shape
    raise SpecError(f"{spec.path}: the table prints no input row and {spec.model} has no default")


def _check_layers(spec: Spec, model: nn.Module | None) -> TableReport:
    from ._stats import build_for_shapes
    from .registry import resolve_name

    if model is None:
        name = resolve_name(spec.model or "")
        model = build_for_shapes(name)
        fast = True
    else:
        name = getattr(model, "model_name", None) or type(model).__name__
        fast = False
    input_size = _run_input(spec, model)
    facts = _Facts(name, model, input_size, fast)
    judge = _Judge(spec)
    rows = tuple(_layer_row(spec, row, facts, judge) for row in spec.rows)
    totals, accounting = _layer_totals(spec, facts, judge)
    errata = _errata(spec, judge, {})
    return TableReport(
        id=spec.id,
        title=spec.title,
        kind=spec.kind,
        path=spec.path,
        source=str(spec.source),
        model=name,
        input_size=input_size,
        layout=spec.layout,
        convention=spec.convention,
        convention_note=spec.convention_note,
        rows=rows,
        totals=totals,
        accounting=accounting,
        errata=errata,
        failures=tuple(judge.failures),
    )


def _layer_row(spec: Spec, row: SpecRow, facts: _Facts, judge: _Judge) -> RowReport:
    model = facts.model
    layout = row.layout or spec.layout
    cells: list[Cell] = []

    def add(fld: str, value: Any, as_table: Any = None, note: str | None = None) -> None:
        cells.append(judge.judge(row.id, row.layer, fld, row.printed[fld], value, as_table, note))

    if row.kind == "input":
        add("output", _to_layout(facts.input_size, layout))
    elif row.kind == "input_range":
        spec_in = getattr(model, "input_spec", None)
        add("sizes", (spec_in.min_size, spec_in.max_size) if spec_in is not None else None)
    elif row.kind == "parameters":
        add("count", len(list(model.parameters())))
    elif row.kind == "tensor":
        add("shape", _tensor_shape(model, row.tensor or ""))
    elif row.absent is not None:
        for fld, printed in row.printed.items():
            if fld == "params" and not _figure_matches(printed, 0):
                # The model lacks this layer, so it must not lack parameters with it.
                cells.append(judge.judge(row.id, row.layer, fld, printed, 0, note=row.absent))
            elif fld == "output":
                kept = _to_layout(facts.output(row.shape_of or ""), layout)
                cell = judge.judge(row.id, row.layer, fld, printed, kept, note=row.absent)
                cells.append(
                    cell if cell.verdict == "mismatch" else replace(cell, verdict="absent")
                )
            else:
                cells.append(Cell(fld, printed, None, None, "absent", None, row.absent))
    else:
        path = row.module or ""
        m = facts.module(path)
        if m is None:
            cells.append(Cell("module", path, None, None, "mismatch", None, "no such module"))
            judge.failures.append(
                f"{_row_name(row.id, row.layer)}: the model has no module {path!r} to line it up "
                "with"
            )
        else:
            for fld in row.printed:
                if fld == "params":
                    raw, as_table, note = _count(m, spec.convention)
                    add(fld, raw, as_table if as_table != raw else None, note)
                elif fld == "output":
                    add(fld, _to_layout(_layer_value(fld, facts, path, m), layout))
                else:
                    add(fld, _layer_value(fld, facts, path, m))
            template = spec.names.get(type(m).__name__)
            if template is not None:
                kernel = _layer_value("kernel", facts, path, m) or ("?",)
                out = _layer_value("out_channels", facts, path, m)
                expected = template.format(kernel=kernel[0], out=out)
                cells.append(judge.judge(row.id, row.layer, "name", row.layer, expected))
    return RowReport(
        id=row.id,
        layer=row.layer,
        module=row.module if row.kind == "layer" else None,
        cells=tuple(cells),
        note=row.note or row.absent,
    )


def _tensor_shape(model: nn.Module, which: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"params\[(\d+)\]", which)
    if m:
        params = list(model.parameters())
        i = int(m.group(1))
        return tuple(params[i].shape) if i < len(params) else None
    try:
        return tuple(model.get_parameter(which).shape)
    except AttributeError:
        return None


def _layer_totals(
    spec: Spec, facts: _Facts, judge: _Judge
) -> tuple[tuple[RowReport, ...], tuple[str, ...]]:
    model = facts.model
    raw, as_table, note = _count(model, spec.convention)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    values = {
        "params": (raw, as_table if as_table != raw else None, note),
        "trainable_params": (trainable, None, None),
        "non_trainable_params": (
            raw - trainable,
            (as_table - trainable) if as_table != raw else None,
            note,
        ),
    }
    totals = []
    for t in spec.totals:
        value, translated, why = values[t.quantity]
        cell = judge.judge(t.id, t.label, "params", t.printed, value, translated, why)
        # A total of trainable or non-trainable parameters is still a "params" cell, named
        # by its label.
        totals.append(RowReport(id=t.id, layer=t.label, module="", cells=(cell,)))
    return tuple(totals), _accounting(spec, facts)


def _accounting(spec: Spec, facts: _Facts) -> tuple[str, ...]:
    """Where the model's parameters are, against the rows: what no row holds, grouped."""
    rows = [r for r in spec.rows if r.kind == "layer" and "params" in r.printed and r.module]
    if not rows:
        return ()
    lines = []
    printed = [r.printed["params"] for r in rows]
    if all(isinstance(p, int) for p in printed):
        lines.append(f"the rows' parameters add up to {sum(printed):,}")
    covered: set[int] = set()
    raw_rows = table_rows = 0
    notes = []
    for r in rows:
        m = facts.module(r.module or "")
        if m is None:
            continue
        raw, as_table, note = _count(m, spec.convention)
        raw_rows += raw
        table_rows += as_table
        if note:
            notes.append(as_table - raw)
        covered |= {id(p) for p in m.parameters()}
    line = f"the model's layers in those rows hold {raw_rows:,}"
    if table_rows != raw_rows:
        line += f" ({table_rows:,} counted the table's way: +{table_rows - raw_rows:,})"
    lines.append(line)
    outside: dict[str, list[tuple[str, int]]] = {}
    for path, m in facts.model.named_modules():
        own = [p for p in m.parameters(recurse=False) if id(p) not in covered]
        if own:
            outside.setdefault(type(m).__name__, []).append((path, sum(p.numel() for p in own)))
    if not outside:
        lines.append("no parameter of the model lies outside the rows")
    for kind, items in outside.items():
        total = sum(n for _, n in items)
        paths = [p for p, _ in items]
        shown = ", ".join(paths[:4]) + (f", ... ({len(paths) - 4} more)" if len(paths) > 4 else "")
        lines.append(
            f"in no row: {total:,} in {len(items)} {kind} layer{'s' * (len(items) > 1)} ({shown})"
        )
    return tuple(lines)


def _errata(spec: Spec, judge: _Judge, also: Mapping[str, tuple[AlsoReport, ...]]) -> tuple:
    reports = []
    for e in spec.errata:
        confirmed: bool | None = None
        if e.checked:
            relevant = [r for r in e.rows if (r, e.field) in judge.observed]
            missing = [r for r in relevant if r not in judge.seen[e.id]]
            confirmed = bool(relevant) and not missing
            if not relevant:
                judge.failures.append(
                    f"erratum {e.id}: none of its rows ({', '.join(e.rows)}) was checked"
                )
            for r in missing:
                cell = judge.observed[(r, e.field)]
                judge.failures.append(
                    f"erratum {e.id} (row {r}, {_FIELD_TITLES.get(e.field, e.field)}: printed "
                    f"{_show(e.field, e.printed)}, true {_show(e.field, e.true)}) no longer holds: "
                    f"the document prints {_show(e.field, cell.printed)} and the model has "
                    f"{_show(e.field, cell.as_table if cell.as_table is not None else cell.model)}"
                )
            alsos = also.get(e.id, ())
            for a in alsos:
                if a.measured != a.recorded:
                    confirmed = False
                    judge.failures.append(
                        f"erratum {e.id}: {a.model} measures {a.measured:,}, the erratum "
                        f"records {a.recorded:,}"
                    )
        reports.append(
            ErratumReport(
                id=e.id,
                rows=e.rows,
                field=e.field,
                printed=e.printed,
                true=e.true,
                cause=e.cause,
                reference=e.reference,
                checked=e.checked,
                confirmed=confirmed,
                also=also.get(e.id, ()),
            )
        )
    return tuple(reports)


class _Measured:
    """Whole-model figures for models tables, each model built and run once."""

    def __init__(self) -> None:
        self.cache: dict[str, _Facts] = {}

    def facts(self, name: str) -> _Facts:
        from ._stats import build_for_shapes
        from .registry import model_info, resolve_name

        canonical = resolve_name(name)
        if canonical not in self.cache:
            model = build_for_shapes(canonical)
            size = tuple(model_info(canonical).input_size)
            self.cache[canonical] = _Facts(canonical, model, size, True)
        return self.cache[canonical]

    def value(self, name: str, fld: str, convention: str) -> tuple[int, int, str | None]:
        facts = self.facts(name)
        if fld == "params":
            return _count(facts.model, convention)
        return facts.total_mult_adds, facts.total_mult_adds, None


def _check_models(spec: Spec, measured: _Measured, only: Sequence[str] | None) -> TableReport:
    judge = _Judge(spec)
    rows = []
    selected = [r for r in spec.rows if only is None or r.id in only]
    for row in selected:
        cells = []
        for fld, printed in row.printed.items():
            raw, as_table, note = measured.value(row.models[fld], fld, spec.convention)
            translated = as_table if as_table != raw else None
            cells.append(judge.judge(row.id, row.layer, fld, printed, raw, translated, note))
        extra = dict(row.extra)
        top5 = _top5(row.id, extra)  # the accuracy column: cnnzoo.pretrained.accuracy
        if top5 is not None:
            extra.update(top5.extra())
            if top5.failure:
                judge.failures.append(f"row {row.id}: top-5 {top5.printed}: {top5.failure}")
        rows.append(
            RowReport(
                id=row.id,
                layer=row.layer,
                module=None,
                cells=tuple(cells),
                models=dict(row.models),
                note=row.note,
                extra=extra,
            )
        )
    also: dict[str, tuple[AlsoReport, ...]] = {}
    chosen = {r.id for r in selected}
    for e in spec.errata:
        if not e.checked or not chosen & set(e.rows):
            continue
        reports = []
        for a in e.also:
            raw, as_table, _ = measured.value(a.model, e.field, a.convention)
            reports.append(
                AlsoReport(
                    model=a.model,
                    convention=a.convention,
                    recorded=a.value,
                    measured=as_table,
                    matches_printed=_figure_matches(e.printed, as_table),
                    note=a.note,
                )
            )
        also[e.id] = tuple(reports)
    kept = tuple(e for e in spec.errata if chosen & set(e.rows))
    sub = replace(spec, errata=kept)
    errata = _errata(sub, judge, also)
    return TableReport(
        id=spec.id,
        title=spec.title,
        kind=spec.kind,
        path=spec.path,
        source=str(spec.source),
        model=None,
        input_size=None,
        layout=spec.layout,
        convention=spec.convention,
        convention_note=spec.convention_note,
        rows=tuple(rows),
        totals=(),
        accounting=(),
        errata=errata,
        failures=tuple(judge.failures),
        selected_rows=tuple(r.id for r in selected) if only is not None else None,
        columns=dict(spec.columns),
    )


def _top5(row_id: str, extra: Mapping[str, Any]) -> Any:
    from .pretrained.accuracy import reconcile_row

    return reconcile_row(row_id, extra)


def _select(names: Iterable[str], model_given: bool) -> list[tuple[Spec, list[str] | None]]:
    """Table names, table files and model names -> (table, the rows to check or None: all)."""
    chosen: dict[str, tuple[Spec, list[str] | None]] = {}

    def add(spec: Spec, only: list[str] | None) -> None:
        if spec.path in chosen:
            prev = chosen[spec.path][1]
            only = None if prev is None or only is None else list(dict.fromkeys(prev + only))
        chosen[spec.path] = (spec, only)

    shipped = list_specs()
    for name in names:
        if not isinstance(name, str) or not name:
            raise SpecError(f"a table or model name must be a non-empty string, got {name!r}")
        if name.endswith(".toml"):
            add(load_spec(name), None)
            continue
        if name in shipped:
            add(load_spec(name), None)
            continue
        canonical = _model_name(name, shipped)
        specs = [load_spec(sid) for sid in shipped]
        # The model's own layer tables first, then its rows of the tables of whole networks.
        layers = [s for s in specs if s.kind == "layers" and s.model == canonical]
        models = [
            s
            for s in specs
            if s.kind == "models" and not model_given and canonical in s.model_names()
        ]
        for spec in layers:
            add(spec, None)
        for spec in models:
            add(spec, spec.row_ids_for(canonical))
        if not layers and not models:
            described = sorted({m for sid in shipped for m in load_spec(sid).model_names()})
            raise SpecError(
                f"no document table describes {canonical!r}; the tables describe "
                f"{', '.join(described)} (tables: {', '.join(shipped)})"
            )
    if model_given:
        models_tables = [s.id for s, _ in chosen.values() if s.kind == "models"]
        if models_tables:
            raise SpecError(
                f"model= replaces the model of a layers table; {models_tables[0]!r} is a table "
                "of whole registered models"
            )
    return list(chosen.values())


def _model_name(name: str, shipped: Sequence[str]) -> str:
    from .registry import list_models, resolve_name

    try:
        return resolve_name(name)
    except UnknownModelError:
        close = difflib.get_close_matches(name.lower(), [*shipped, *list_models()], n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."
        raise UnknownModelError(
            f"unknown table or model {name!r}{hint} The tables are: {', '.join(shipped)}; "
            "the models: `cnnzoo list`."
        ) from None


def check(*names: str, model: nn.Module | None = None) -> CheckReport:
    """Reconcile course-document tables with cnnzoo's models, row by row.

    Args:
        *names: tables (``"vgg16_004"``, or a path to a table file ``"my_table.toml"``) or
            models (``"vgg16"``: every table, or table row, that describes it). None: every
            shipped table.
        model: check this model instead of the table's registered one (your own VGG-16 against
            the lecture's table); only for layer-by-layer tables, and run as it is.

    Returns:
        A :class:`CheckReport`. ``report.ok`` is True when every difference from a document is
        a recorded erratum; ``str(report)`` is the text ``cnnzoo check`` prints.

    Raises:
        SpecError: an unknown table, a malformed table file, a model no table describes.
        UnknownModelError: a name that is neither a table nor a model.
    """
    selection = (
        _select(names, model is not None) if names else [(load_spec(s), None) for s in list_specs()]
    )
    if model is not None and not names:
        raise SpecError("model= needs the name of the table to check it against")
    measured = _Measured()
    tables = []
    for spec, only in selection:
        if spec.kind == "layers":
            tables.append(_check_layers(spec, model))
        else:
            tables.append(_check_models(spec, measured, only))
    return CheckReport(tables=tuple(tables))


# --- text ----------------------------------------------------------------------------------


def _cell_text(c: Cell) -> str:
    text = _show(c.field, c.printed)
    if c.verdict == "absent":
        return text
    if c.verdict != "match":
        return f"{text} (model {_show(c.field, c.model)})"
    if c.as_table is not None and c.as_table != c.model:
        return f"{text} (= {_show(c.field, c.model)} +{c.as_table - c.model:,})"
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
    top5 = [x for x in (_top5(r.id, r.extra) for r in t.rows) if x is not None]
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
        module = {None: "-", "": "(model)"}.get(r.module, r.module or "-")
        if r.module is None and r.verdict == "absent":
            module = "(none)"
        elif r.module is None and any(c.field == "output" for c in r.cells):
            module = "(input)"
        row = [r.id, r.layer, module]
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
