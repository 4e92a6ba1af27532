"""Shape-only models: built without initialisation, run without the arithmetic nobody reads.

A summary or a check needs every layer's output *shape*, never its values. A model built for
that has uninitialised weights, so its convolutions and matrix products compute garbage: for
VGG-16 at 224 that is 15.5 G multiply-adds (seconds on a laptop CPU) thrown away. Torch's own
answer, the ``meta`` device, computes shapes only, but the first convolution or linear layer run
on it imports sympy and torch's symbolic-shape machinery (about 500 modules, 1 to 3 s), longer
than the arithmetic it saves on small models.

So a shape-only model here is a ``meta``-built model given empty CPU storage
(:func:`materialize`), run under :func:`shapes_only`, which answers the operations that cost
time (convolutions, ``linear``, inference-mode ``batch_norm``, ``relu``, ``max_pool2d``, the
addition of two same-shaped tensors and ``cat``) with an empty tensor of the exact output
shape, and lets everything else run for real. The shapes follow ATen's own formulas; any call
they do not cover (a channel mismatch, a too-small input, a dtype or device mix, broadcasting)
runs the real operation, so it fails exactly as it would without this mode.
``tests/test_summary.py`` checks the formulas against the real operations and proves that the
torchinfo table of every registered model is identical either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

__all__ = ["materialize", "shapes_only"]

_CONV_ARGS = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_LINEAR_ARGS = ("input", "weight", "bias")


def materialize(model: nn.Module) -> nn.Module:
    """Give a ``meta``-built ``model`` uninitialised CPU storage, in place; returns it.

    The same as ``model.to_empty(device="cpu")``, except that ``to_empty`` calls
    ``torch.empty_like`` on meta tensors, whose first call imports sympy and torch's
    symbolic-shape machinery (about 500 modules, a second); ``torch.empty`` with the shape and
    dtype does not.
    """
    return model._apply(lambda t: torch.empty(t.shape, dtype=t.dtype, device="cpu"))


def _bind(names: Sequence[str], args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    return bound


def _ntuple(value: Any, n: int) -> tuple[int, ...] | None:
    if isinstance(value, int):
        return (value,) * n
    ints = isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value)
    if ints and len(value) == n:
        return tuple(value)
    if isinstance(value, (tuple, list)) and len(value) == 1 and isinstance(value[0], int):
        return (value[0],) * n
    return None


def _conv_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    """Output shape of ``conv{n}d``, or ``None`` where the real op must decide (and raise)."""
    x, weight, bias = call.get("input"), call.get("weight"), call.get("bias")
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        return None
    n = weight.dim() - 2
    groups = call.get("groups", 1)
    if n < 1 or x.dim() not in (n + 1, n + 2) or not isinstance(groups, int) or groups < 1:
        return None
    if x.dtype != weight.dtype or x.device != weight.device or x.is_meta:
        return None
    if x.shape[-n - 1] != weight.shape[1] * groups or weight.shape[0] % groups:
        return None
    if bias is not None and (not isinstance(bias, torch.Tensor) or bias.shape != weight.shape[:1]):
        return None
    stride = _ntuple(call.get("stride", 1), n)
    dilation = _ntuple(call.get("dilation", 1), n)
    padding = call.get("padding", 0)
    if stride is None or dilation is None or min(stride) < 1 or min(dilation) < 1:
        return None
    spatial = tuple(x.shape[-n:])
    if padding == "same":
        # PyTorch allows "same" only with stride 1, and then keeps every spatial size.
        out = spatial if max(stride) == 1 else None
    else:
        pads = (0,) * n if padding == "valid" else _ntuple(padding, n)
        if pads is None or min(pads) < 0:
            return None
        windows = zip(spatial, weight.shape[2:], stride, pads, dilation, strict=True)
        out = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1 for size, k, s, p, d in windows)
    if out is None or min(out) < 1:
        return None
    return (*x.shape[: -n - 1], weight.shape[0], *out)


def _linear_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    """Output shape of ``linear``, or ``None`` where the real op must decide (and raise)."""
    x, weight, bias = call.get("input"), call.get("weight"), call.get("bias")
    if not isinstance(x, torch.Tensor) or not isinstance(weight, torch.Tensor):
        return None
    if weight.dim() != 2 or x.dim() < 1 or x.shape[-1] != weight.shape[1] or x.is_meta:
        return None
    if x.dtype != weight.dtype or x.device != weight.device:
        return None
    if bias is not None and (not isinstance(bias, torch.Tensor) or bias.shape != weight.shape[:1]):
        return None
    return (*x.shape[:-1], weight.shape[0])


def _batch_norm_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    """Output shape of inference-mode ``batch_norm`` (the input's); training mode runs for real,
    since it updates the running statistics."""
    x = call.get("input")
    if not isinstance(x, torch.Tensor) or x.dim() < 2 or x.is_meta or call.get("training", False):
        return None
    for key in ("weight", "bias", "running_mean", "running_var"):
        t = call.get(key)
        if t is None and key.startswith("running"):
            return None  # no running statistics: inference uses the batch's, run it for real
        if t is not None and (not isinstance(t, torch.Tensor) or t.shape != x.shape[1:2]):
            return None
    return tuple(x.shape)


def _same_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    x = call.get("input")
    if not isinstance(x, torch.Tensor) or x.is_meta or not x.is_floating_point():
        return None
    return tuple(x.shape)


def _max_pool_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    """Output shape of ``max_pool{n}d`` (ATen's ``pooling_output_shape``), or None."""
    x = call.get("input")
    if not isinstance(x, torch.Tensor) or x.is_meta or call.get("return_indices", False):
        return None
    n = call["_dims"]
    kernel = _ntuple(call.get("kernel_size"), n)
    stride = call.get("stride")
    stride = kernel if stride is None or stride == [] or stride == () else _ntuple(stride, n)
    pads = _ntuple(call.get("padding", 0), n)
    dilation = _ntuple(call.get("dilation", 1), n)
    ceil_mode = bool(call.get("ceil_mode", False))
    if kernel is None or stride is None or pads is None or dilation is None:
        return None
    if x.dim() not in (n + 1, n + 2) or min((*kernel, *stride, *dilation)) < 1 or min(pads) < 0:
        return None
    out = []
    for size, k, st, p, d in zip(x.shape[-n:], kernel, stride, pads, dilation, strict=True):
        if 2 * p > k:  # PyTorch: "pad should be at most half of effective kernel size"
            return None
        o = (size + 2 * p - d * (k - 1) - 1 + (st - 1 if ceil_mode else 0)) // st + 1
        if ceil_mode and (o - 1) * st >= size + p:
            o -= 1  # the last window must start inside the input or its left padding
        if o < 1:
            return None
        out.append(o)
    return (*x.shape[:-n], *out)


def _max_pool2d_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    return _max_pool_shape({**call, "_dims": 2})


def _add_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    """``a + b`` of two tensors of one shape (a residual connection); anything else runs."""
    a, b = call.get("input"), call.get("other")
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or "out" in call:
        return None
    if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device or a.is_meta:
        return None
    return tuple(a.shape) if a.is_floating_point() else None


def _cat_shape(call: dict[str, Any]) -> tuple[int, ...] | None:
    """``torch.cat`` of same-rank tensors that agree off the joined dimension."""
    tensors, dim = call.get("tensors"), call.get("dim", 0)
    if not isinstance(tensors, (list, tuple)) or not tensors or "out" in call:
        return None
    if not all(isinstance(t, torch.Tensor) for t in tensors) or not isinstance(dim, int):
        return None
    first = tensors[0]
    rank = first.dim()
    if rank == 0 or not -rank <= dim < rank or first.is_meta or not first.is_floating_point():
        return None
    dim %= rank
    for t in tensors[1:]:
        if t.dim() != rank or t.dtype != first.dtype or t.device != first.device:
            return None
        if any(t.shape[i] != first.shape[i] for i in range(rank) if i != dim):
            return None
    return (*first.shape[:dim], sum(t.shape[dim] for t in tensors), *first.shape[dim + 1 :])


_BATCH_NORM_ARGS = ("input", "running_mean", "running_var", "weight", "bias", "training")
_POOL_ARGS = (
    "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
)  # fmt: skip


def _never(call: dict[str, Any]) -> bool:
    return False


def _inplace(call: dict[str, Any]) -> bool:
    return bool(call.get("inplace", False))


# func -> (its argument names, the output shape, whether it writes into its input). The
# functional wrappers (F.relu, F.batch_norm) are what a torch function mode sees first.
_Rule = tuple[tuple[str, ...], Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], bool]]
_SHAPES: dict[Callable[..., Any], _Rule] = {
    F.conv1d: (_CONV_ARGS, _conv_shape, _never),
    F.conv2d: (_CONV_ARGS, _conv_shape, _never),
    F.conv3d: (_CONV_ARGS, _conv_shape, _never),
    F.linear: (_LINEAR_ARGS, _linear_shape, _never),
    F.batch_norm: (_BATCH_NORM_ARGS, _batch_norm_shape, _never),
    F.relu: (("input", "inplace"), _same_shape, _inplace),
    F.max_pool2d: (_POOL_ARGS, _max_pool2d_shape, _never),
    torch.Tensor.add: (("input", "other"), _add_shape, _never),
    torch.cat: (("tensors", "dim"), _cat_shape, _never),
}


class _ShapesOnly(TorchFunctionMode):
    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: Sequence[Any] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        known = _SHAPES.get(func)
        if known is not None:
            names, shape_of, in_place = known
            call = _bind(names, args, kwargs)
            shape = shape_of(call)
            if shape is not None:
                x = call["tensors"][0] if "tensors" in call else call["input"]
                if in_place(call):
                    return x
                return torch.empty(shape, dtype=x.dtype, device=x.device)
        return func(*args, **kwargs)


@contextlib.contextmanager
def shapes_only() -> Iterator[None]:
    """Inside this block, convolutions and linear layers return empty tensors of the right shape.

    Only for models whose outputs nobody reads (uninitialised weights); see the module notes.
    """
    with _ShapesOnly():
        yield
