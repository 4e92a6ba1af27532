"""``cnnzoo.check``: what to check against what, and the report that comes out.

Without a network, the documents' tables are reconciled with cnnzoo's models (``tables``).
With one (``model=``: a module, or ``"file.py:Class"`` read in a child process; or
``weights=``), it is read (``structure``), lined up with the registered model built with the
student's number of classes (``align``), diagnosed (``diagnose``), and the document's layer
tables are checked on that same alignment.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, SpecError
from ..spec import Spec, list_specs, load_spec
from .report import CheckReport, StudentReport

if TYPE_CHECKING:
    from torch import nn

    from .structure import Structure

__all__ = ["check", "check_student", "reference_for"]


def check(
    *names: str,
    model: nn.Module | str | None = None,
    weights: str | Path | None = None,
    model_args: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> CheckReport:
    """Check a network against the lecture, or reconcile the documents' tables with cnnzoo.

    Args:
        *names: tables (``"vgg16_004"``, or a table file ``"my_table.toml"``) or models
            (``"vgg16"``: every table, or table row, that describes it). None: every shipped
            table. With ``model=`` or ``weights=``, exactly one: the reference.
        model: your own network: an ``nn.Module`` (read in this process, its prints kept
            out of the way), or ``"path/to/file.py:Class"`` / ``"package.module:Class"``
            (imported and run in a child process with a time limit).
        weights: a weights file (a bare ``state_dict`` or a cnnzoo checkpoint): checked by
            parameter shapes in order; with a ``model`` string, loaded into it first.
        model_args: keyword arguments for the class named by a ``model`` string.
        timeout: seconds the child process gets (default 60).

    Returns:
        A :class:`CheckReport`: ``report.ok``, ``report.differences`` (first first, each with
        its cause), ``report.notes``, ``str(report)`` (what ``cnnzoo check`` prints).

    Raises:
        SpecError: an unknown table, a malformed table file, a model no table describes.
        UnknownModelError: a name that is neither a table nor a model.
        StudentModelError: a ``model`` string that does not import, has no such class, whose
            constructor raises or that does not finish in time.
        CheckpointError: a weights file that is missing or damaged.
    """
    from .tables import _Measured, check_table, select

    if model is None and weights is None:
        if model_args is not None:
            raise InvalidArgumentError("model_args= goes with model='file.py:Class'")
        selection = select(names, False) if names else [(load_spec(s), None) for s in list_specs()]
        measured = _Measured()
        return CheckReport(tables=tuple(check_table(s, measured, only) for s, only in selection))
    if len(names) != 1:
        raise SpecError(
            "model= (or weights=) needs the name of exactly one model or table to check it "
            f"against, got {len(names)}"
        )
    return check_student(names[0], model=model, weights=weights, model_args=model_args,
                         timeout=timeout)  # fmt: skip


def reference_for(name: str) -> tuple[str, list[Spec]]:
    """A model or table name -> (the registered model, the layer tables about it)."""
    from .tables import _model_name

    shipped = list_specs()
    if name.endswith(".toml") or name in shipped:
        spec = load_spec(name)
        if spec.kind != "layers":
            raise SpecError(
                f"model= replaces the model of a layers table; {spec.id!r} is a table of whole "
                "registered models"
            )
        return _model_name(spec.model or "", shipped), [spec]
    canonical = _model_name(name, shipped)
    specs = [s for s in map(load_spec, shipped) if s.kind == "layers" and s.model == canonical]
    return canonical, specs


def _document(canonical: str, specs: Sequence[Spec]) -> str:
    if specs:
        src = specs[0].source
        if src.short:
            return src.short
        return f"document {src.document}" if src.document.isdigit() else src.document
    return canonical


def reference_structure(canonical: str, num_classes: int | None) -> Structure:
    """The registered model, built for shapes with ``num_classes``, read at its card's input."""
    from .._stats import build_for_shapes
    from ..registry import model_info
    from .structure import read_structure

    info = model_info(canonical)
    kwargs = {}
    if num_classes is not None and num_classes != info.num_classes:
        kwargs["num_classes"] = num_classes
    try:
        ref = build_for_shapes(canonical, **kwargs)
    except Exception as exc:
        raise InvalidArgumentError(
            f"{canonical} cannot be built with {num_classes} classes: {exc}"
        ) from None
    return read_structure(ref, tuple(info.input_size))


def _quiet_structure(model: nn.Module, input_size: Sequence[int]) -> tuple[Structure, str]:
    from .structure import read_structure

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        structure = read_structure(model, input_size)
    return structure, out.getvalue()


def check_student(
    name: str,
    *,
    model: nn.Module | str | None = None,
    weights: str | Path | None = None,
    model_args: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> CheckReport:
    """One student's network (or weights) against the reference ``name``."""
    from ..registry import model_info
    from .align import align
    from .diagnose import diagnose
    from .structure import Structure
    from .student import DEFAULT_TIMEOUT, run_student
    from .tables import StructureFacts, check_table

    canonical, specs = reference_for(name)
    doc = _document(canonical, specs)
    info = model_info(canonical)
    input_size = tuple(info.input_size)
    wpath = str(weights) if weights is not None else None
    if model is None:
        return CheckReport(tables=(), student=_weights_only(canonical, doc, input_size, wpath))
    if isinstance(model, str):
        data, printed = run_student(
            model,
            input_size=input_size,
            model_args=model_args,
            weights=wpath,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        )
        got = Structure.from_dict(data)
        label = model
    else:
        if model_args is not None:
            raise InvalidArgumentError("model_args= goes with model='file.py:Class', not a module")
        if wpath is not None:
            from ..checkpoint import apply_state_dict, read_checkpoint

            apply_state_dict(model, read_checkpoint(wpath).state_dict, source=wpath)
        got, printed = _quiet_structure(model, input_size)
        label = type(model).__name__
    ref = reference_structure(canonical, got.num_classes)
    pairs = align(ref, got)
    diag = diagnose(ref, got, pairs, doc)
    notes = list(diag.notes)
    tables = []
    if specs:
        if got.crash is not None:
            notes.append(
                f"{', '.join(s.id for s in specs)}: not checked row by row, since the forward "
                "pass fails"
            )
        elif got.num_classes not in (None, info.num_classes):
            notes.append(
                f"{', '.join(s.id for s in specs)}: the document's table is for "
                f"{info.num_classes} classes; with {got.num_classes} it is not checked row by row"
            )
        else:
            mapping = {
                p.ref.module: p.got
                for p in pairs
                if p.ref is not None and p.got is not None and p.ref.module
                and p.ref.call_number == 1
            }  # fmt: skip
            facts = StructureFacts(label, got, mapping, input_size)
            tables = [check_table(s, student=facts) for s in specs]
    student = StudentReport(
        model=label,
        reference=canonical,
        document=doc,
        input_size=input_size,
        num_classes=got.num_classes,
        differences=diag.differences,
        notes=tuple(notes),
        rows=diag.rows,
        method=got.method,
        method_note=got.method_note,
        params=got.total_params,
        reference_params=ref.total_params,
        printed=printed,
        weights=wpath,
    )
    return CheckReport(tables=tuple(tables), student=student)


def _weights_only(canonical: str, doc: str, input_size: tuple[int, ...], path: str | None):
    from ..checkpoint import read_checkpoint
    from .weights import WHAT_WEIGHTS_CANNOT_SHOW, compare_weights, weight_shapes

    assert path is not None
    shapes = weight_shapes(read_checkpoint(path).state_dict)
    heads = [s for _, s in shapes if len(s) in (2, 4)]
    num_classes = heads[-1][0] if heads else None
    ref = reference_structure(canonical, num_classes)
    diffs = compare_weights(ref.param_shapes, shapes, doc)
    return StudentReport(
        model=path,
        reference=canonical,
        document=doc,
        input_size=input_size,
        num_classes=num_classes,
        differences=tuple(diffs),
        notes=(WHAT_WEIGHTS_CANNOT_SHOW,),
        method="weights",
        params=sum(_prod(s) for _, s in shapes),
        reference_params=ref.total_params,
        weights=path,
    )


def _prod(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
