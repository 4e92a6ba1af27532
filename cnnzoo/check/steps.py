"""The dimension exercise: every layer's output size and parameters, with the arithmetic.

Each course document asks the student to "calculate the dimensions in every step". For every
layer of a structure this gives the output size's formula (floor((W + 2P - K)/S) + 1 for convs
and pools, the product at a flatten) and the parameter count's (k*k*C_in*C_out + C_out for a
conv, in*out + out for a Linear), so each number can be followed and checked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .formula import params_text, shape_text, size_text
from .structure import Structure

__all__ = ["Step", "Walkthrough", "render_steps", "steps", "walkthrough"]


@dataclass(frozen=True)
class Step:
    layer: str
    type: str
    output: list[int] | None
    size: str | None
    params: int
    params_text: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def steps(structure: Structure) -> list[Step]:
    """One step per layer of the forward pass (a reused module's later calls hold no params)."""
    out = []
    for la in structure.layers:
        if la.kind == "noop":
            continue
        first = la.call_number == 1
        out.append(
            Step(
                layer=la.label,
                type=la.type,
                output=la.output,
                size=size_text(la),
                params=la.params if first else 0,
                params_text=params_text(la) if first else None,
            )
        )
    return out


def render_steps(structure: Structure, title: str) -> str:
    rows = [["layer", "type", "output", "output size", "parameters"]]
    size = "x".join(str(v) for v in structure.input_size)
    rows.append(["input", "", size, "", ""])
    for s in steps(structure):
        how = s.size or ("same as its input" if s.output is not None else "")
        rows.append([s.layer, s.type, shape_text(s.output) if s.output is not None else "-", how,
                     s.params_text or ("0" if s.type else "")])  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"{title}, input {size} (batch 1)", ""]
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["", f"total parameters: {structure.total_params:,}"]
    if structure.crash is not None:
        lines.append(f"the forward pass fails: {structure.crash.error}")
    if structure.method_note:
        lines.append(structure.method_note)
    return "\n".join(lines)


@dataclass(frozen=True)
class Walkthrough:
    """The dimension exercise of one network, as ``summary(..., steps=True)`` returns it.

    ``str()`` is the text ``cnnzoo summary --steps`` prints; a notebook shows it as a table.
    """

    title: str
    input_size: tuple[int, ...]
    steps: tuple[Step, ...]
    total_params: int
    #: The forward pass's error, when it fails part way (the steps stop there).
    error: str | None
    method_note: str | None
    structure: Structure = field(repr=False, compare=False)

    def __str__(self) -> str:
        return render_steps(self.structure, self.title)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``cnnzoo summary --steps --format json``."""
        return {
            "format": "cnnzoo.steps/1",
            "model": self.title,
            "input_size": list(self.input_size),
            "steps": [s.to_dict() for s in self.steps],
            "total_params": self.total_params,
            "error": self.error,
        }

    def _repr_html_(self) -> str:
        from ..display.steps import steps_html

        return steps_html(self)


def walkthrough(structure: Structure, title: str) -> Walkthrough:
    return Walkthrough(
        title=title,
        input_size=tuple(structure.input_size),
        steps=tuple(steps(structure)),
        total_params=structure.total_params,
        error=structure.crash.error if structure.crash is not None else None,
        method_note=structure.method_note,
        structure=structure,
    )
