"""The course documents' tables as data: the TOML files of ``cnnzoo/specs/``, loaded and checked.

One file per table (``vgg16_004.toml`` is document 004's VGG16 table). Each holds where the
table comes from, its rows as the document prints them, which cnnzoo model it describes and
which layer each row lines up with, how the document counts, and its known mistakes (errata)
with their cause. :func:`cnnzoo.check` reconciles a table with its model; this module only
reads and validates the files, so that a malformed table (a shipped one or a teacher's own)
fails with its file and key named rather than halfway through a check.

Two kinds of table:

``kind = "layers"``
    a layer-by-layer table of one ``model``; each row names the ``module`` it lines up with
    (``""`` for the whole model), and prints any of :data:`LAYER_FIELDS`.
``kind = "models"``
    a table of whole networks; each row prints ``params`` and ``mult_adds`` figures, each with
    the model it describes (``params_model``, ``mult_adds_model``).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "CONVENTIONS",
    "FORMAT",
    "LAYER_FIELDS",
    "LAYOUTS",
    "Also",
    "Erratum",
    "Spec",
    "SpecRow",
    "SpecSource",
    "SpecTotal",
    "list_specs",
    "load_spec",
]

FORMAT = "cnnzoo.spec/1"

#: How a document counts parameters: as PyTorch does; as Keras does (a BatchNorm layer's moving
#: mean and variance count as non-trainable parameters); or with a bias on every convolution.
CONVENTIONS = ("pytorch", "keras", "conv_bias")

#: How a document prints a shape of one sample: "HWC" is 224 x 224 x 3.
LAYOUTS = ("CHW", "HWC", "HW")

#: What a row of a layers table may print, each checked against its module.
LAYER_FIELDS = (
    "output",  # output shape, in the table's layout
    "params",  # parameters (an int, or a rounded figure such as "159K")
    "mult_adds",  # multiply-adds at the run input, batch 1 (an int or a figure such as "128M")
    "kernel",  # [kh, kw]; an fc layer counts as 1 x 1, as the documents draw it
    "stride",
    "pad",
    "channels",  # [in, out]: conv channels, fc features, or a pool's input/output channels
    "out_channels",
    "type",  # the PyTorch class name
    "repr",  # the module as print(model) shows it
)
ROW_KINDS = ("layer", "input", "input_range", "parameters", "tensor")
QUANTITIES = ("params", "trainable_params", "non_trainable_params")
MODEL_FIELDS = ("params", "mult_adds")
_EXTRA_MODEL_ROW = ("year", "feature", "top5")
_ID = re.compile(r"^\S(?:[^\n]*\S)?$")


@dataclass(frozen=True)
class SpecSource:
    """Where a table is printed."""

    document: str
    section: str
    figure: str
    #: Where the document took the table from, when it says or it is known.
    origin: str | None = None
    #: How a diagnosis cites it in one breath ("Figure 2"); default "document NNN".
    short: str | None = None

    def __str__(self) -> str:
        doc = self.document
        text = f"document {doc}" if doc.isdigit() else doc
        text += f", section {self.section}: {self.figure}"
        return text + (f" (after {self.origin})" if self.origin else "")


@dataclass(frozen=True)
class SpecRow:
    """One row of a table, as the document prints it."""

    id: str
    layer: str
    kind: str = "layer"
    #: The model's layer this row lines up with (dotted path; "" is the whole model).
    module: str | None = None
    #: Why the model has no layer for this row (a deliberate departure), if it has none.
    absent: str | None = None
    #: An absent, shape-keeping layer (an activation): the model layer whose output it keeps.
    shape_of: str | None = None
    #: Where the printed values come from, when not from the table itself.
    note: str | None = None
    #: A layout for this row's shape other than the table's ("HW" for "48 * 48").
    layout: str | None = None
    #: field -> value as printed.
    printed: Mapping[str, Any] = field(default_factory=dict)
    #: models tables: field -> the model the printed figure describes.
    models: Mapping[str, str] = field(default_factory=dict)
    #: printed values that are shown but not checked (a year, an accuracy).
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: ``kind = "tensor"``: which parameter ("params[0]" or a name such as "conv1.bias").
    tensor: str | None = None


@dataclass(frozen=True)
class SpecTotal:
    """A total the table prints (``Total params: 319,975``)."""

    id: str
    label: str
    quantity: str
    printed: Any


@dataclass(frozen=True)
class Also:
    """Another measurement an erratum cites (``19.6B`` is VGG-19's: ``vgg19`` measures it)."""

    model: str
    value: int
    convention: str = "pytorch"
    note: str | None = None


@dataclass(frozen=True)
class Erratum:
    """A known mistake of a table: which cells, printed and true value, and why.

    A ``checked`` erratum is verified by every check: the document must print ``printed`` in
    each of its cells and the model must measure ``true``, or the check fails. An unchecked one
    is about the text around the table and is only listed.
    """

    id: str
    rows: tuple[str, ...]
    field: str
    printed: Any
    true: Any
    cause: str
    reference: int | None = None
    checked: bool = True
    also: tuple[Also, ...] = ()


@dataclass(frozen=True)
class Spec:
    """One table of a course document (or paper), with its model and its errata."""

    id: str
    path: str
    title: str
    kind: str
    source: SpecSource
    convention: str
    convention_note: str
    rows: tuple[SpecRow, ...]
    totals: tuple[SpecTotal, ...] = ()
    errata: tuple[Erratum, ...] = ()
    model: str | None = None
    layout: str = "CHW"
    run_input: tuple[int, ...] | None = None
    #: layers tables: module class -> how the table names such a layer ("conv{kernel}-{out}").
    names: Mapping[str, str] = field(default_factory=dict)
    #: models tables: field -> the column's printed header ("FLOP").
    columns: Mapping[str, str] = field(default_factory=dict)

    def model_names(self) -> list[str]:
        """Every model name the table refers to, in order of appearance."""
        names: list[str] = [self.model] if self.model else []
        for row in self.rows:
            names += row.models.values()
        for e in self.errata:
            names += [a.model for a in e.also]
        return list(dict.fromkeys(names))

    def row_ids_for(self, model: str) -> list[str]:
        """The rows of a models table that describe ``model`` (canonical name)."""
        ids = []
        for row in self.rows:
            cited = {a.model for e in self.errata if row.id in e.rows for a in e.also}
            if model in row.models.values() or model in cited:
                ids.append(row.id)
        return ids


# --- loading -------------------------------------------------------------------------------


def list_specs() -> list[str]:
    """The ids of the shipped tables (their file names without ``.toml``), sorted."""
    folder = resources.files("cnnzoo").joinpath("specs")
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_spec(id_or_path: str | Path) -> Spec:
    """A shipped table by id (``"vgg16_004"``), or a table file by path (``my_table.toml``).

    Raises:
        SpecError: no such table, or the file is malformed (naming the file and the key).
    """
    text_id = str(id_or_path)
    if text_id.endswith(".toml") or isinstance(id_or_path, Path):
        path = Path(id_or_path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or exc
            raise SpecError(f"cannot read table file {str(path)!r}: {reason}") from None
        return _parse(path.stem, str(path), raw)
    return _shipped(text_id)


@functools.cache
def _shipped(spec_id: str) -> Spec:
    if spec_id not in list_specs():
        raise SpecError(
            f"no table named {spec_id!r}; the shipped tables are: {', '.join(list_specs())}"
        )
    res = resources.files("cnnzoo").joinpath("specs", f"{spec_id}.toml")
    return _parse(spec_id, f"cnnzoo/specs/{spec_id}.toml", res.read_bytes())


def _parse(spec_id: str, where: str, raw: bytes) -> Spec:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{where}: not a valid TOML file: {exc}") from None
    return _Reader(where).spec(spec_id, data)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Reader:
    """Validates a parsed TOML table, every error naming the file and the key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, message: str) -> SpecError:
        return SpecError(f"{self.where}: {key}: {message}")

    def keys(self, key: str, data: Mapping[str, Any], allowed: Sequence[str]) -> None:
        unknown = [k for k in data if k not in allowed]
        if unknown:
            raise self.fail(
                key, f"unknown key {unknown[0]!r}; allowed keys are {', '.join(allowed)}"
            )

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {type(value).__name__}")
        return value

    def string(self, key: str, value: Any, *, choices: Sequence[str] | None = None) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_brief(value)}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}; got {_brief(value)}")
        return value

    def ints(self, key: str, value: Any, *, length: int | None = None) -> tuple[int, ...]:
        ok = isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
        )
        if not ok or not value or (length is not None and len(value) != length):
            size = f"{length} " if length else ""
            raise self.fail(
                key, f"must be a list of {size}non-negative integers, got {_brief(value)}"
            )
        return tuple(value)

    def figure(self, key: str, value: Any) -> Any:
        """A printed number: an int, a float (a fractional pad) or a string as printed."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
            raise self.fail(key, f"must be a number, a string or a list, got {_brief(value)}")
        return tuple(value) if isinstance(value, list) else value

    def spec(self, spec_id: str, data: Mapping[str, Any]) -> Spec:
        allowed = (
            "format", "title", "kind", "model", "layout", "run_input", "convention",
            "convention_note", "source", "names", "columns", "rows", "totals", "errata",
        )  # fmt: skip
        self.keys("table", data, allowed)
        for required in ("format", "title", "kind", "convention", "convention_note", "source"):
            if required not in data:
                raise self.fail(required, "is missing")
        if data["format"] != FORMAT:
            raise self.fail("format", f"must be {FORMAT!r}, got {data['format']!r}")
        kind = self.string("kind", data["kind"], choices=("layers", "models"))
        src = self.table("source", data["source"])
        self.keys("source", src, ("document", "section", "figure", "origin", "short"))
        for required in ("document", "section", "figure"):
            if required not in src:
                raise self.fail(f"source.{required}", "is missing")
        source = SpecSource(
            document=self.string("source.document", src["document"]),
            section=self.string("source.section", src["section"]),
            figure=self.string("source.figure", src["figure"]),
            origin=self.string("source.origin", src["origin"]) if "origin" in src else None,
            short=self.string("source.short", src["short"]) if "short" in src else None,
        )
        model = None
        if kind == "layers":
            if "model" not in data:
                raise self.fail("model", "is missing (the cnnzoo model the table describes)")
            model = self.string("model", data["model"])
        elif "model" in data:
            raise self.fail("model", "a models table names a model per row, not one model")
        names = {
            self.string(f"names.{k}", k): self.string(f"names.{k}", v)
            for k, v in self.table("names", data.get("names", {})).items()
        }
        columns = {
            self.string(f"columns.{k}", k, choices=MODEL_FIELDS): self.string(f"columns.{k}", v)
            for k, v in self.table("columns", data.get("columns", {})).items()
        }
        rows_raw = data.get("rows")
        if not isinstance(rows_raw, list) or not rows_raw:
            raise self.fail("rows", "must be a non-empty list of rows")
        rows = tuple(
            self.layer_row(i, r) if kind == "layers" else self.model_row(i, r)
            for i, r in enumerate(rows_raw)
        )
        totals = tuple(self.total(i, t) for i, t in enumerate(data.get("totals", [])))
        ids = [r.id for r in rows] + [t.id for t in totals]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup is not None:
            raise self.fail("rows", f"the row id {dup!r} is used twice; give each row its own id")
        spec = Spec(
            id=spec_id,
            path=self.where,
            title=self.string("title", data["title"]),
            kind=kind,
            source=source,
            convention=self.string("convention", data["convention"], choices=CONVENTIONS),
            convention_note=self.string("convention_note", data["convention_note"]),
            rows=rows,
            totals=totals,
            model=model,
            layout=self.string("layout", data.get("layout", "CHW"), choices=LAYOUTS),
            run_input=self.ints("run_input", data["run_input"]) if "run_input" in data else None,
            names=names,
            columns=columns,
        )
        errata = tuple(self.erratum(i, e, spec) for i, e in enumerate(data.get("errata", [])))
        eids = [e.id for e in errata]
        dup = next((i for i in eids if eids.count(i) > 1), None)
        if dup is not None:
            raise self.fail("errata", f"the erratum id {dup!r} is used twice")
        return replace(spec, errata=errata)

    def layer_row(self, i: int, value: Any) -> SpecRow:
        key = f"rows[{i}]"
        data = self.table(key, value)
        allowed = ("id", "layer", "kind", "module", "absent", "shape_of", "note", "layout",
                   "tensor", "count", "shape", "sizes", *LAYER_FIELDS)  # fmt: skip
        self.keys(key, data, allowed)
        kind = self.string(f"{key}.kind", data.get("kind", "layer"), choices=ROW_KINDS)
        layer = self.string(f"{key}.layer", data.get("layer", data.get("id", "")))
        row_id = self.string(f"{key}.id", data.get("id", layer))
        if not _ID.match(row_id):
            raise self.fail(f"{key}.id", f"{row_id!r} is not a usable row id")
        key = f"row {row_id!r}"
        printed: dict[str, Any] = {}
        for name in LAYER_FIELDS:
            if name in data:
                if name in ("type", "repr"):
                    printed[name] = self.string(f"{key}.{name}", data[name])
                elif name in ("output", "kernel", "channels"):
                    printed[name] = self.ints(
                        f"{key}.{name}", data[name], length=2 if name != "output" else None
                    )
                else:
                    printed[name] = self.figure(f"{key}.{name}", data[name])
        needs = {"input": ("output",), "input_range": ("sizes",), "parameters": ("count",),
                 "tensor": ("tensor", "shape")}.get(kind, ())  # fmt: skip
        for name in needs:
            if name not in data:
                raise self.fail(f"{key}.{name}", f"is missing (a {kind!r} row prints it)")
        if kind == "input_range":
            printed["sizes"] = self.ints(f"{key}.sizes", data["sizes"], length=2)
        if kind == "parameters":
            printed["count"] = self.ints(f"{key}.count", [data["count"]])[0]
        if kind == "tensor":
            printed["shape"] = self.ints(f"{key}.shape", data["shape"])
        module = data.get("module")
        absent = data.get("absent")
        if kind == "layer":
            if (module is None) == (absent is None):
                raise self.fail(
                    key,
                    "a layer row needs exactly one of 'module' (the model's layer it lines "
                    "up with, '' for the whole model) and 'absent' (why the model has none)",
                )
            if not printed:
                raise self.fail(key, f"prints nothing to check; give any of {LAYER_FIELDS}")
        elif module is not None or absent is not None:
            raise self.fail(key, f"a {kind!r} row has no 'module' or 'absent'")
        shape_of = data.get("shape_of")
        if absent is not None and "output" in printed and shape_of is None:
            raise self.fail(
                key,
                "an absent row that prints an output needs 'shape_of': the model layer "
                "whose output shape it keeps",
            )
        if shape_of is not None and absent is None:
            raise self.fail(f"{key}.shape_of", "only an absent row has 'shape_of'")
        return SpecRow(
            id=row_id,
            layer=layer,
            kind=kind,
            module=self.string(f"{key}.module", module) if module is not None else None,
            absent=self.string(f"{key}.absent", absent) if absent is not None else None,
            shape_of=self.string(f"{key}.shape_of", shape_of) if shape_of is not None else None,
            note=self.string(f"{key}.note", data["note"]) if "note" in data else None,
            layout=(
                self.string(f"{key}.layout", data["layout"], choices=LAYOUTS)
                if "layout" in data
                else None
            ),
            printed=printed,
            tensor=self.string(f"{key}.tensor", data["tensor"]) if "tensor" in data else None,
        )

    def model_row(self, i: int, value: Any) -> SpecRow:
        key = f"rows[{i}]"
        data = self.table(key, value)
        allowed = ("id", "layer", "note", *_EXTRA_MODEL_ROW, *MODEL_FIELDS,
                   *(f"{f}_model" for f in MODEL_FIELDS))  # fmt: skip
        self.keys(key, data, allowed)
        layer = self.string(f"{key}.layer", data.get("layer", data.get("id", "")))
        row_id = self.string(f"{key}.id", data.get("id", layer))
        key = f"row {row_id!r}"
        printed, models = {}, {}
        for name in MODEL_FIELDS:
            if name in data:
                printed[name] = self.figure(f"{key}.{name}", data[name])
                if f"{name}_model" not in data:
                    raise self.fail(f"{key}.{name}_model", "is missing (the model it describes)")
                models[name] = self.string(f"{key}.{name}_model", data[f"{name}_model"])
        if not printed:
            raise self.fail(key, f"prints nothing to check; give any of {MODEL_FIELDS}")
        return SpecRow(
            id=row_id,
            layer=layer,
            kind="model",
            note=self.string(f"{key}.note", data["note"]) if "note" in data else None,
            printed=printed,
            models=models,
            extra={k: data[k] for k in _EXTRA_MODEL_ROW if k in data},
        )

    def total(self, i: int, value: Any) -> SpecTotal:
        key = f"totals[{i}]"
        data = self.table(key, value)
        self.keys(key, data, ("id", "label", "quantity", "printed"))
        for required in ("id", "quantity", "printed"):
            if required not in data:
                raise self.fail(f"{key}.{required}", "is missing")
        return SpecTotal(
            id=self.string(f"{key}.id", data["id"]),
            label=self.string(f"{key}.label", data.get("label", data["id"])),
            quantity=self.string(f"{key}.quantity", data["quantity"], choices=QUANTITIES),
            printed=self.figure(f"{key}.printed", data["printed"]),
        )

    def erratum(self, i: int, value: Any, spec: Spec) -> Erratum:
        key = f"errata[{i}]"
        data = self.table(key, value)
        allowed = ("id", "reference", "rows", "field", "printed", "true", "cause", "checked",
                   "also")  # fmt: skip
        self.keys(key, data, allowed)
        for required in ("id", "rows", "field", "printed", "true", "cause"):
            if required not in data:
                raise self.fail(f"{key}.{required}", "is missing")
        eid = self.string(f"{key}.id", data["id"])
        key = f"erratum {eid!r}"
        rows = data["rows"]
        if not isinstance(rows, list) or not rows or not all(isinstance(r, str) for r in rows):
            raise self.fail(f"{key}.rows", f"must be a list of row ids, got {rows!r}")
        checked = data.get("checked", True)
        if not isinstance(checked, bool):
            raise self.fail(f"{key}.checked", f"must be true or false, got {checked!r}")
        fld = self.string(f"{key}.field", data["field"])
        known = {r.id: r for r in spec.rows}
        totals = {t.id: t for t in spec.totals}
        for rid in rows:
            if rid not in known and rid not in totals:
                ids = [*known, *totals]
                raise self.fail(f"{key}.rows", f"no row {rid!r}; the rows are {', '.join(ids)}")
            if not checked:
                continue
            if rid in totals:
                if fld != "params":
                    raise self.fail(f"{key}.field", f"a total's field is 'params', not {fld!r}")
                continue
            row = known[rid]
            fields = set(row.printed) | ({"name"} if spec.names else set())
            if fld not in fields:
                raise self.fail(
                    f"{key}.field",
                    f"row {rid!r} prints no {fld!r}; it prints {', '.join(sorted(fields))}",
                )
        also = []
        for j, a in enumerate(data.get("also", [])):
            akey = f"{key}.also[{j}]"
            a = self.table(akey, a)
            self.keys(akey, a, ("model", "value", "convention", "note"))
            if "model" not in a or "value" not in a:
                raise self.fail(akey, "needs 'model' and 'value'")
            also.append(
                Also(
                    model=self.string(f"{akey}.model", a["model"]),
                    value=self.ints(f"{akey}.value", [a["value"]])[0],
                    convention=self.string(
                        f"{akey}.convention", a.get("convention", "pytorch"), choices=CONVENTIONS
                    ),
                    note=self.string(f"{akey}.note", a["note"]) if "note" in a else None,
                )
            )
        ref = data.get("reference")
        if ref is not None and (isinstance(ref, bool) or not isinstance(ref, int)):
            raise self.fail(f"{key}.reference", f"must be an integer, got {ref!r}")
        return Erratum(
            id=eid,
            rows=tuple(rows),
            field=fld,
            printed=self.figure(f"{key}.printed", data["printed"]),
            true=self.figure(f"{key}.true", data["true"]),
            cause=self.string(f"{key}.cause", data["cause"]),
            reference=ref,
            checked=checked,
            also=tuple(also),
        )
