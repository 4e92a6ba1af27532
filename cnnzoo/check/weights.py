"""A weights file checked against the reference by its parameter shapes, in order.

A bare ``state_dict`` (what the lab saves with ``torch.save(net.state_dict(), path)``) or a
cnnzoo checkpoint: its tensors, BatchNorm statistics left out, are lined up with the reference's
parameters one by one, so any names work. Shapes show channels, kernels and features; they
cannot show padding, stride or pooling, and the report says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .diagnose import Difference
from .formula import shape_text

__all__ = ["BUFFER_SUFFIXES", "compare_weights", "weight_shapes"]

BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")

WHAT_WEIGHTS_CANNOT_SHOW = (
    "weights alone cannot show padding, stride or pooling (they hold no parameters): a network "
    "with these shapes can still compute different maps; check the code with --model"
)


def weight_shapes(state_dict: Mapping[str, Any]) -> list[tuple[str, list[int]]]:
    """(name, shape) of each parameter tensor of a state_dict, buffers left out."""
    return [
        (k, list(v.shape))
        for k, v in state_dict.items()
        if k.rsplit(".", 1)[-1] not in BUFFER_SUFFIXES
    ]


def _what(name: str, shape: Sequence[int]) -> str:
    if len(shape) == 4:
        return f"a {shape[2]}x{shape[3]} conv from {shape[1]} to {shape[0]} channels"
    if len(shape) == 2:
        return f"a Linear from {shape[1]} to {shape[0]} features"
    if len(shape) == 1:
        return f"{shape[0]} {'biases' if name.endswith('bias') else 'values'}"
    return shape_text(shape)


def compare_weights(
    ref: Sequence[tuple[str, Sequence[int]]], got: Sequence[tuple[str, Sequence[int]]], doc: str
) -> list[Difference]:
    """The differences between two lists of parameter shapes, first first."""
    diffs: list[Difference] = []
    for i, ((rname, rshape), (gname, gshape)) in enumerate(zip(ref, got, strict=False)):
        if list(rshape) != list(gshape):
            diffs.append(
                Difference(
                    layer=gname.rsplit(".", 1)[0],
                    field="shape",
                    expected=list(rshape),
                    got=list(gshape),
                    cause=(
                        f"tensor {i} ({gname}) is {shape_text(gshape)}, {_what(gname, gshape)}, "
                        f"where {doc}'s {rname} is {shape_text(rshape)}, {_what(rname, rshape)}"
                    ),
                    consequence=bool(diffs),
                )
            )
    if len(got) != len(ref):
        more = len(got) > len(ref)
        extra = got[len(ref) :] if more else ref[len(got) :]
        names = ", ".join(n for n, _ in extra[:4]) + (" ..." if len(extra) > 4 else "")
        diffs.append(
            Difference(
                layer=(extra[0][0].rsplit(".", 1)[0]),
                field="tensors",
                expected=len(ref),
                got=len(got),
                cause=(
                    f"the file holds {len(got)} parameter tensors where {doc} has {len(ref)}: "
                    + (f"extra {names}" if more else f"no tensor for {names}")
                ),
                consequence=bool(diffs),
            )
        )
    return diffs
