"""``cnnzoo.summary``: torchinfo's table of a model, as an object that renders itself.

The table is torchinfo's own (``str(summary)`` is ``str(torchinfo.summary(...))``); the same
rows are also data (:class:`SummaryRow`), for JSON, CSV and Markdown. A model given by name is
built for shapes only (no weight initialisation, no convolution arithmetic; see
:mod:`cnnzoo._shapes`), which gives the identical table in a fraction of the time.

NOTE: this module is ``summarize`` and not ``summary`` so that ``cnnzoo.summary`` stays the
function: importing a submodule ``cnnzoo.summary`` would set the package attribute to the module.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import CnnzooError, InputShapeError, InvalidArgumentError, UnknownArgumentError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "COLUMNS",
    "DEFAULT_COLUMNS",
    "FORMATS",
    "Summary",
    "SummaryRow",
    "SummaryTotals",
    "parse_columns",
    "summary",
]

FORMAT = "cnnzoo.summary/1"

#: torchinfo's columns (``torchinfo.ColumnSettings``), in its order.
COLUMNS = (
    "kernel_size",
    "input_size",
    "output_size",
    "num_params",
    "params_percent",
    "mult_adds",
    "trainable",
)
DEFAULT_COLUMNS = ("output_size", "num_params", "mult_adds")
FORMATS = ("table", "markdown", "json", "csv")

_MARKDOWN_HEADERS = {
    "kernel_size": "Kernel",
    "input_size": "Input shape",
    "output_size": "Output shape",
    "num_params": "Params",
    "params_percent": "Params %",
    "mult_adds": "Mult-adds",
    "trainable": "Trainable",
}


@dataclass(frozen=True)
class SummaryRow:
    """One row of the table: a layer, counted the way the table shows it.

    ``params`` and ``mult_adds`` are the table's figures: a layer at the deepest shown depth
    counts everything inside it, a container above it only what no shown child holds. So the
    rows add up to the totals.
    """

    #: Dotted path in the model (``features.0``); ``""`` is the model itself.
    name: str
    #: The module's class (``Conv2d``).
    type: str
    depth: int
    #: With the batch dimension; ``None`` for a layer the forward pass did not run.
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    kernel_size: tuple[int, ...] | None
    params: int
    mult_adds: int
    #: True, False, "partial", or None for a layer without parameters.
    trainable: bool | str | None
    #: A module run more than once (shown again as "(recursive)").
    recursive: bool = False

    def to_dict(self) -> dict[str, Any]:
        def listed(v: tuple[int, ...] | None) -> list[int] | None:
            return None if v is None else list(v)

        return {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "input_shape": listed(self.input_shape),
            "output_shape": listed(self.output_shape),
            "kernel_size": listed(self.kernel_size),
            "params": self.params,
            "mult_adds": self.mult_adds,
            "trainable": self.trainable,
            "recursive": self.recursive,
        }


@dataclass(frozen=True)
class SummaryTotals:
    """The totals under torchinfo's table (sizes in bytes, where torchinfo prints MB)."""

    params: int
    trainable_params: int
    non_trainable_params: int
    mult_adds: int
    input_bytes: int
    forward_backward_bytes: int
    params_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.params_bytes

    def to_dict(self) -> dict[str, int]:
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "mult_adds": self.mult_adds,
            "input_bytes": self.input_bytes,
            "forward_backward_bytes": self.forward_backward_bytes,
            "params_bytes": self.params_bytes,
            "total_bytes": self.total_bytes,
        }


@dataclass(frozen=True)
class Summary:
    """A model's summary: torchinfo's table (``str()``), its rows and totals as data.

    ``stats`` is torchinfo's ``ModelStatistics``; its attributes (``total_params``,
    ``summary_list``, ...) are also reachable on this object, as on torchinfo's.
    """

    model: str
    #: The input of the forward pass, batch included.
    input_size: tuple[int, ...]
    depth: int
    columns: tuple[str, ...]
    rows: tuple[SummaryRow, ...]
    totals: SummaryTotals
    stats: Any = field(repr=False, compare=False)

    def __str__(self) -> str:
        text = str(self.stats)
        # torchinfo 1.8 formats its unit enum on Python >= 3.11 as "(Units.MEGABYTES)" instead of
        # "(M)" (TylerYep/torchinfo#350); print the unit it means.
        for unit in type(self.stats.formatting.macs_units):
            text = text.replace(f"({type(unit).__name__}.{unit.name})", f"({unit.value})")
        return text

    def __repr__(self) -> str:
        # What a notebook or the REPL shows: the table, as torchinfo does.
        return self.__str__()

    def _repr_html_(self) -> str:
        # A notebook shows the rows as an HTML table (cnnzoo.display); str() stays torchinfo's.
        from .display.summary import summary_html

        return summary_html(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "stats":
            raise AttributeError(name)
        return getattr(self.stats, name)

    def render(self, fmt: str = "table") -> str:
        """The summary as ``table`` (torchinfo's), ``markdown``, ``json`` or ``csv``."""
        renderers = {
            "table": self.__str__,
            "markdown": self.to_markdown,
            "json": self.to_json,
            "csv": self.to_csv,
        }
        if fmt not in renderers:
            raise InvalidArgumentError(
                f"unknown summary format {fmt!r}; choose from {', '.join(FORMATS)}"
            )
        return renderers[fmt]()

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``cnnzoo/schemas/summary.schema.json``)."""
        return {
            "format": FORMAT,
            "model": self.model,
            "input_size": list(self.input_size),
            "depth": self.depth,
            "columns": list(self.columns),
            "rows": [r.to_dict() for r in self.rows],
            "totals": self.totals.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self) -> str:
        """One line per layer (``kind`` = ``layer``), then the totals (``kind`` = ``total``)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["kind", "name", "type", "depth", "input_shape", "output_shape", "kernel_size",
             "params", "mult_adds", "trainable"]
        )  # fmt: skip
        for r in self.rows:
            trainable = "" if r.trainable is None else str(r.trainable).lower()
            writer.writerow(
                ["layer", r.name, r.type, r.depth, _x(r.input_shape), _x(r.output_shape),
                 _x(r.kernel_size), r.params, r.mult_adds, trainable]
            )  # fmt: skip
        t = self.totals
        for name, params, macs in (
            ("params", t.params, ""),
            ("trainable_params", t.trainable_params, ""),
            ("non_trainable_params", t.non_trainable_params, ""),
            ("mult_adds", "", t.mult_adds),
        ):
            writer.writerow(["total", name, "", "", "", "", "", params, macs, ""])
        return out.getvalue().rstrip("\n")

    def to_markdown(self) -> str:
        """A Markdown table (the chosen columns) and the totals, to paste into a report."""
        cols = [c for c in self.columns if c in _MARKDOWN_HEADERS]
        header = ["Layer", "Type", *(_MARKDOWN_HEADERS[c] for c in cols)]
        align = ["---", "---", *("---:" if c in _NUMERIC else "---" for c in cols)]
        lines = [
            f"**{self.model}** — input {_x(self.input_size)}, depth {self.depth}",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(align) + "|",
        ]
        total = self.totals.params
        for r in self.rows:
            cells = [f"`{r.name}`" if r.name else "(model)", r.type]
            for c in cols:
                cells.append(_markdown_cell(r, c, total))
            lines.append("| " + " | ".join(cells) + " |")
        t = self.totals
        lines += [
            "",
            f"Total params: {t.params:,} (trainable {t.trainable_params:,}, non-trainable "
            f"{t.non_trainable_params:,}) · mult-adds: {t.mult_adds:,} ({human(t.mult_adds)})",
        ]
        return "\n".join(lines)


_NUMERIC = ("num_params", "params_percent", "mult_adds")


def _x(shape: Sequence[int] | None) -> str:
    return "" if shape is None else "x".join(str(v) for v in shape)


def _markdown_cell(r: SummaryRow, column: str, total: int) -> str:
    if column == "input_size":
        return _x(r.input_shape) or "—"
    if column == "output_size":
        return _x(r.output_shape) or "—"
    if column == "kernel_size":
        return _x(r.kernel_size) or "—"
    if column == "num_params":
        return "(recursive)" if r.recursive else (f"{r.params:,}" if r.params else "—")
    if column == "params_percent":
        return f"{100 * r.params / total:.2f}%" if r.params and total else "—"
    if column == "mult_adds":
        return f"{r.mult_adds:,}" if r.mult_adds else "—"
    return "—" if r.trainable is None else str(r.trainable).lower()


def parse_columns(columns: str | Sequence[str]) -> tuple[str, ...]:
    """``"output_size,num_params"`` or a sequence of names -> the checked column names."""
    if isinstance(columns, str):
        names = [n.strip() for n in columns.split(",")]
    elif isinstance(columns, Sequence) and all(isinstance(c, str) for c in columns):
        names = [c.strip() for c in columns]
    else:
        names = []
    if not names or not all(names):
        raise InvalidArgumentError(
            f"columns must be names from {', '.join(COLUMNS)}, comma-separated; got {columns!r}"
        )
    for n in names:
        if n not in COLUMNS:
            close = difflib.get_close_matches(n, COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidArgumentError(
                f"unknown column {n!r}{hint}; the columns are {', '.join(COLUMNS)}"
            )
    return tuple(dict.fromkeys(names))


def human(n: float) -> str:
    """1234567 -> '1.23 M' (torchinfo's units for mult-adds)."""
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return str(int(n))


def _check_size(input_size: Any) -> tuple[int, ...]:
    ok = (
        isinstance(input_size, (tuple, list))
        and len(input_size) > 0
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in input_size)
    )
    if not ok:
        raise InvalidArgumentError(
            "input_size must be the shape of one sample as positive integers, e.g. (3, 224, 224); "
            f"got {input_size!r}"
        )
    return tuple(input_size)


def _default_input(model: Any, name: str) -> tuple[int, ...]:
    size = getattr(model, "default_input_size", None)
    if size is None:
        raise InvalidArgumentError(
            f"{name} does not say what input it takes; pass input_size=(C, H, W)"
        )
    return tuple(int(v) for v in size)


def statistics(
    model: nn.Module,
    input_size: Sequence[int],
    *,
    name: str,
    batch_size: int = 1,
    depth: int = 3,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    shapes_only: bool = False,
) -> Any:
    """torchinfo's ``ModelStatistics`` of ``model`` on a batch of ``input_size`` samples.

    ``shapes_only`` skips the arithmetic (for models with uninitialised weights only). An input
    the model cannot take raises :class:`InputShapeError` (or the model's own cnnzoo error)
    instead of torchinfo's ``RuntimeError`` wrapper.
    """
    import torch
    import torchinfo

    from ._shapes import shapes_only as shapes_only_mode

    param = next(model.parameters(), None)
    # torchinfo moves the input to `device`; it needs "meta" spelled out for a meta model.
    device = param.device if param is not None else torch.device("cpu")
    mode = shapes_only_mode() if shapes_only else contextlib.nullcontext()
    try:
        with torch.no_grad(), mode:
            return torchinfo.summary(
                model,
                input_size=(batch_size, *input_size),
                col_names=columns,
                depth=depth,
                device=device,
                verbose=0,
            )
    except RuntimeError as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, CnnzooError):
            raise cause from None
        shape = "x".join(str(v) for v in (batch_size, *input_size))
        text = " ".join(str(cause).split())
        raise InputShapeError(f"{name} cannot run on an input of shape {shape}: {text}") from exc


def summary(
    model_or_name: str | nn.Module,
    input_size: Sequence[int] | None = None,
    *,
    batch_size: int = 1,
    depth: int = 3,
    columns: str | Sequence[str] = DEFAULT_COLUMNS,
    steps: bool = False,
    **model_kwargs: Any,
) -> Any:
    """torchinfo's summary of a model, as an object that renders itself (it never prints).

    Args:
        model_or_name: a registered name (built for shapes only: no weight initialisation, no
            arithmetic, the identical table) or a model instance (run as it is).
        input_size: one sample's shape, ``(C, H, W)``; by default the model's own
            (``model.default_input_size``, which follows ``in_chans``).
        batch_size: the batch dimension of the forward pass.
        depth: how deep nested layers are shown (torchinfo's ``depth``).
        columns: torchinfo's columns, as names or one comma-separated string: any of
            :data:`COLUMNS`.
        steps: return the dimension walk-through instead (``cnnzoo summary --steps``): every
            layer's output size with the course's formula and its parameters with the
            arithmetic, as a [`Walkthrough`][cnnzoo.check.steps.Walkthrough] (batch 1).
        **model_kwargs: the builder's options (``num_classes``, ``in_chans``, ...), with a name.

    Returns:
        A :class:`Summary`: ``print(s)`` shows torchinfo's table; ``s.rows``, ``s.totals``,
        ``s.to_json()``, ``s.to_csv()`` and ``s.to_markdown()`` give the same as data.

    Raises:
        UnknownModelError, UnknownArgumentError, InvalidArgumentError: a bad name or option.
        InputShapeError: an input the model cannot take.
    """
    cols = parse_columns(columns)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise InvalidArgumentError(f"depth must be a non-negative integer, got {depth!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(model_or_name, str):
        from ._stats import build_for_shapes
        from .registry import resolve_name

        name = resolve_name(model_or_name)
        model = build_for_shapes(name, **model_kwargs)
        fast = True
    else:
        from torch import nn

        if not isinstance(model_or_name, nn.Module):
            raise InvalidArgumentError(
                "summary() takes a model name or a torch.nn.Module, got "
                f"{type(model_or_name).__name__}"
            )
        if model_kwargs:
            raise UnknownArgumentError(
                f"model options ({', '.join(model_kwargs)}) apply only when the model is given "
                "by name; build the model with them instead"
            )
        model = model_or_name
        name = getattr(model, "model_name", None) or type(model).__name__
        fast = False
    sample = _check_size(input_size) if input_size is not None else _default_input(model, name)
    if steps:
        from .check.steps import walkthrough
        from .check.structure import read_structure

        return walkthrough(read_structure(model, sample), name)
    stats = statistics(
        model,
        sample,
        name=name,
        batch_size=batch_size,
        depth=depth,
        columns=cols,
        shapes_only=fast,
    )
    return Summary(
        model=name,
        input_size=(batch_size, *sample),
        depth=depth,
        columns=cols,
        rows=tuple(_rows(model, stats, depth)),
        totals=SummaryTotals(
            params=int(stats.total_params),
            trainable_params=int(stats.trainable_params),
            non_trainable_params=int(stats.total_params - stats.trainable_params),
            mult_adds=int(stats.total_mult_adds),
            input_bytes=int(stats.total_input),
            forward_backward_bytes=int(stats.total_output_bytes),
            params_bytes=int(stats.total_param_bytes),
        ),
        stats=stats,
    )


def module_names(model: nn.Module) -> dict[int, str]:
    """id(module) -> its dotted path (``""`` for the model), first name for a shared module."""
    return {id(m): n for n, m in reversed(list(model.named_modules()))}


def _rows(model: nn.Module, stats: Any, depth: int) -> list[SummaryRow]:
    names = module_names(model)
    rows = []
    for info in stats.summary_list:
        if info.depth > depth:
            continue
        at_max = info.depth == depth
        # The figures torchinfo's table shows for this row (LayerInfo.num_params_to_str and
        # macs_to_str), as numbers, so that the rows add up to the totals. NOTE: torchinfo shows
        # "--" mult-adds for a container that never ran as a whole (VGG's `classifier` runs in
        # two slices); here it counts its layers all the same, or the rows would not add up.
        if info.is_recursive or info.num_params == 0:
            params = 0
        elif at_max or info.is_leaf_layer:
            params = info.num_params
        else:
            params = max(info.leftover_params(), 0)
        if info.is_leaf_layer:
            macs = max(info.macs, 0)
        elif at_max:
            macs = sum(c.macs for c in info.children if c.is_leaf_layer)
        else:
            macs = 0
        trainable = _TRAINABLE.get(info.trainable)
        kernel = info.kernel_size
        rows.append(
            SummaryRow(
                name=names.get(info.layer_id, info.var_name),
                type=info.class_name,
                depth=info.depth,
                input_shape=tuple(info.input_size) if info.input_size else None,
                output_shape=tuple(info.output_size) if info.output_size else None,
                kernel_size=(kernel,) if isinstance(kernel, int) else _tuple(kernel),
                params=int(params),
                mult_adds=int(macs),
                trainable=trainable,
                recursive=bool(info.is_recursive),
            )
        )
    return rows


_TRAINABLE: dict[str, bool | str] = {"True": True, "False": False, "Partial": "partial"}


def _tuple(value: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)
