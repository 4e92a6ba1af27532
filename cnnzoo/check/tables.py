"""A course document's table reconciled with a model, row by row (the tables' check).

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

The table's rows name the registered model's layers (``module = "conv1"``). A student's network
is checked on the same alignment as :mod:`cnnzoo.check.align` gives: each row's layer is the
student's layer lined up with the registered model's, whatever the names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import SpecError, UnknownModelError
from ..spec import Erratum, Spec, SpecRow, list_specs, load_spec
from .printed import _FIELD_TITLES, _figure_matches, _matches, _show, _to_layout
from .table_report import AlsoReport, Cell, ErratumReport, RowReport, TableReport

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "AlsoReport",
    "Cell",
    "ErratumReport",
    "RowReport",
    "StructureFacts",
    "TableReport",
    "check_table",
    "select",
]


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
        from ..summarize import module_names, statistics

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


def _check_layers(spec: Spec, student: StructureFacts | None = None) -> TableReport:
    from .._stats import build_for_shapes
    from ..registry import resolve_name

    judge = _Judge(spec)
    if student is None:
        name = resolve_name(spec.model or "")
        model = build_for_shapes(name)
        input_size = _run_input(spec, model)
        facts = _Facts(name, model, input_size, True)
        rows = tuple(_layer_row(spec, row, facts, judge) for row in spec.rows)
        totals, accounting = _layer_totals(spec, facts, judge)
    else:
        name, input_size = student.name, student.input_size
        rows = tuple(_structure_row(spec, row, student, judge) for row in spec.rows)
        totals, accounting = _structure_totals(spec, student, judge), ()
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


class StructureFacts:
    """A student's network as the rows see it: its structure, and for each of the registered
    model's layers (by path) the student's layer aligned with it."""

    def __init__(
        self,
        name: str,
        structure: Any,
        mapping: Mapping[str, Any],
        input_size: tuple[int, ...],
    ) -> None:
        self.name = name
        self.structure = structure
        self.mapping = mapping
        self.input_size = input_size

    def layer(self, path: str) -> Any:
        return self.mapping.get(path)

    def value(self, fld: str, path: str) -> Any:
        """The student's value of ``fld`` for the layer aligned with ``path``."""
        if path == "":
            if fld == "output":
                out = self.structure.output
                return tuple(out) if out is not None else None
            if fld == "params":
                return self.structure.total_params
            return None
        la = self.layer(path)
        if la is None:
            return None
        a = la.attrs
        ins = tuple(la.input) if la.input is not None else None
        outs = tuple(la.output) if la.output is not None else None
        if fld == "output":
            return outs
        if fld == "params":
            return la.params
        if fld == "type":
            return la.type
        if fld == "repr":
            return la.text
        if fld in ("kernel", "stride", "pad") and a.get("adaptive"):
            if ins is None or outs is None or len(ins) != len(outs):
                return None
            pairs = list(zip(ins[1:], outs[1:], strict=True))
            if any(i % o for i, o in pairs):
                return None
            k = tuple(i // o for i, o in pairs)
            return (0,) * len(k) if fld == "pad" else k
        if fld == "kernel":
            if "kernel" in a:
                return tuple(a["kernel"])
            return (1, 1) if la.kind == "linear" else None
        if fld == "stride":
            return tuple(a["stride"]) if "stride" in a else None
        if fld == "pad":
            pad = a.get("padding")
            return pad if isinstance(pad, str) or pad is None else tuple(pad)
        if fld in ("channels", "out_channels"):
            if la.kind == "conv":
                pair = (a["in_channels"], a["out_channels"])
            elif la.kind == "linear":
                pair = (a["in_features"], a["out_features"])
            elif ins is not None and outs is not None:
                pair = (ins[0], outs[0])
            else:
                return None
            return pair if fld == "channels" else pair[1]
        return None

    def count(self, path: str, convention: str) -> tuple[int, int, str | None]:
        """(parameters PyTorch's way, the document's way, what the difference is)."""
        layers = self.structure.layers if path == "" else [self.layer(path)]
        raw = self.structure.total_params if path == "" else layers[0].params
        extra, what = 0, None
        for la in layers:
            if la is None or la.call_number != 1:
                continue
            a = la.attrs
            if convention == "keras" and la.kind == "norm" and a.get("running_stats"):
                extra += 2 * a["num_features"]
                what = what or "moving mean and variance, as Keras counts"
            if convention == "conv_bias" and la.kind == "conv" and not a.get("bias"):
                extra += a["out_channels"]
                what = what or "conv bias, as the table counts"
        return raw, raw + extra, (f"+{extra:,} {what}" if extra else None)


def _structure_row(spec: Spec, row: SpecRow, facts: StructureFacts, judge: _Judge) -> RowReport:
    layout = row.layout or spec.layout
    cells: list[Cell] = []
    shapes = facts.structure.param_shapes

    def add(fld: str, value: Any, as_table: Any = None, note: str | None = None) -> None:
        cells.append(judge.judge(row.id, row.layer, fld, row.printed[fld], value, as_table, note))

    module: str | None = row.module if row.kind == "layer" else None
    if row.kind == "input":
        add("output", _to_layout(facts.input_size, layout))
    elif row.kind == "input_range":
        # A student's network is read at one input in its child process: the range of sizes
        # it takes is not measured, so the row is not judged (cnnzoo's own model is).
        why = "not measured for your network (it is read at one input size)"
        cells.append(Cell("sizes", row.printed["sizes"], None, None, "absent", None, why))
    elif row.kind == "parameters":
        norms = {la.module for la in facts.structure.layers if la.kind == "norm" and la.module}
        added = [n for n, _ in shapes if n.rsplit(".", 1)[0] in norms]
        if added and _matches("count", row.printed["count"], len(shapes) - len(added)):
            # BatchNorm the student added (a note of the check): the document's count without it
            note = f"without the {len(added)} tensors of the added BatchNorm layers"
            add("count", len(shapes), len(shapes) - len(added), note)
        else:
            add("count", len(shapes))
    elif row.kind == "tensor":
        which = row.tensor or ""
        m = re.fullmatch(r"params\[(\d+)\]", which)
        if m:
            i = int(m.group(1))
            add("shape", tuple(shapes[i][1]) if i < len(shapes) else None)
        else:
            add("shape", next((tuple(sh) for n, sh in shapes if n == which), None))
    elif row.absent is not None:
        for fld, printed in row.printed.items():
            if fld == "params" and not _figure_matches(printed, 0):
                cells.append(judge.judge(row.id, row.layer, fld, printed, 0, note=row.absent))
            elif fld == "output":
                kept = _to_layout(facts.value("output", row.shape_of or ""), layout)
                cell = judge.judge(row.id, row.layer, fld, printed, kept, note=row.absent)
                cells.append(
                    cell if cell.verdict == "mismatch" else replace(cell, verdict="absent")
                )
            else:
                cells.append(Cell(fld, printed, None, None, "absent", None, row.absent))
    else:
        path = row.module or ""
        la = facts.layer(path) if path else None
        if path and la is None:
            cells.append(Cell("module", path, None, None, "mismatch", None, "no layer"))
            judge.failures.append(
                f"{_row_name(row.id, row.layer)}: no layer of {facts.name} lines up with it "
                f"(the reference's {path})"
            )
        else:
            if la is not None:
                module = la.label
            eq = _conv_as_linear(la, row.printed)
            for fld in row.printed:
                if fld == "params":
                    raw, as_table, note = facts.count(path, spec.convention)
                    add(fld, raw, as_table if as_table != raw else None, note)
                elif eq is not None and fld == "output":
                    add(fld, (eq[1],), None, eq[2])
                elif eq is not None and fld in ("repr", "type"):
                    as_linear_value = {
                        "repr": f"Linear(in_features={eq[0]}, out_features={eq[1]}, "
                        f"bias={la.attrs['bias']})",
                        "type": "Linear",
                    }[fld]
                    add(fld, facts.value(fld, path), as_linear_value, eq[2])
                elif fld == "output":
                    add(fld, _to_layout(facts.value(fld, path), layout))
                else:
                    add(fld, facts.value(fld, path))
    return RowReport(
        id=row.id,
        layer=row.layer,
        module=module,
        cells=tuple(cells),
        note=row.note or row.absent,
    )


def _conv_as_linear(la: Any, printed: Mapping[str, Any]) -> tuple[int, int, str] | None:
    """(in, out, note) where the student's layer is a conv covering its whole input map and
    the table prints a Linear there (LeNet-5's C5): the same map, read as that Linear."""
    from .align import as_linear

    eq = as_linear(la)
    shown = str(printed.get("repr", "")) + str(printed.get("type", ""))
    if eq is None or "Linear" not in shown:
        return None
    kern = la.attrs["kernel"]
    k = str(kern[0]) if len(set(kern)) == 1 else str(tuple(kern))
    note = (
        f"{la.label} is Conv2d({la.attrs['in_channels']}, {eq[1]}, {k}) on its whole "
        f"{'x'.join(map(str, la.input))} map: the same as Linear({eq[0]}, {eq[1]})"
    )
    return eq[0], eq[1], note


def _structure_totals(spec: Spec, facts: StructureFacts, judge: _Judge) -> tuple[RowReport, ...]:
    raw, as_table, note = facts.count("", spec.convention)
    trainable = facts.structure.trainable_params
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
        totals.append(RowReport(id=t.id, layer=t.label, module="", cells=(cell,)))
    return tuple(totals)


def check_table(
    spec: Spec,
    measured: _Measured | None = None,
    only: Sequence[str] | None = None,
    student: StructureFacts | None = None,
) -> TableReport:
    """One table reconciled: with its registered model, or a student's network (layers tables)."""
    if spec.kind == "layers":
        return _check_layers(spec, student)
    return _check_models(spec, measured or _Measured(), only)


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
        from .._stats import build_for_shapes
        from ..registry import model_info, resolve_name

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


def top5_of(row_id: str, extra: Mapping[str, Any]) -> Any:
    """The top-5 accuracy figure of a models table's row, reconciled (None: the row has none)."""
    from ..pretrained.accuracy import reconcile_row

    return reconcile_row(row_id, extra)


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
        top5 = top5_of(row.id, extra)  # the accuracy column: cnnzoo.pretrained.accuracy
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


def select(names: Iterable[str], model_given: bool) -> list[tuple[Spec, list[str] | None]]:
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
    from ..registry import list_models, resolve_name

    try:
        return resolve_name(name)
    except UnknownModelError:
        close = difflib.get_close_matches(name.lower(), [*shipped, *list_models()], n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."
        raise UnknownModelError(
            f"unknown table or model {name!r}{hint} The tables are: {', '.join(shipped)}; "
            "the models: `cnnzoo list`."
        ) from None
