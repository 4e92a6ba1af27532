"""Reading a network's structure: every layer of its forward pass, in execution order.

Facts only, no judging. ``torch.fx`` traces the forward pass, so functional calls
(``F.max_pool2d(x, 2, stride=1)``, ``F.relu``, ``x.view(...)``) are layers too, with their
arguments; a module called three times (one ``self.pool`` reused) is three layers. Where tracing
fails (data-dependent control flow), forward hooks on the modules and a torch-function mode for
the functional calls give the same facts, and :attr:`Structure.method` says so.

A forward pass that fails is a fact too: :attr:`Structure.crash` names the layer it failed in
and its input, and the layers it never reached are still listed (without shapes) where the trace
knows them. Everything here is plain data that turns into JSON and back, so a structure read in
a child process (a student's untrusted file) crosses the pipe as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Crash", "Layer", "Structure", "read_structure"]

#: Layers the alignment lines up one by one; the others are judged as notes.
STRUCTURAL = ("conv", "pool", "linear", "flatten")


@dataclass
class Layer:
    """One call of the forward pass."""

    index: int
    #: The student's module path (``conv2``, ``block2.0``), or how a functional call is written
    #: (``F.max_pool2d``) with the layer it follows.
    name: str
    #: conv, pool, linear, flatten, act, dropout, norm, softmax, other.
    kind: str
    #: The module class, or the one a functional call stands for (``F.max_pool2d``: MaxPool2d).
    type: str
    #: ``"module"`` or the call as written: ``F.max_pool2d``, ``torch.flatten``, ``x.view``.
    call: str = "module"
    module: str | None = None
    #: One sample's shapes (no batch); None where the pass did not get there.
    input: list[int] | None = None
    output: list[int] | None = None
    #: The module's own parameters (0 for functional calls; counted at every call).
    params: int = 0
    #: kernel, stride, padding, dilation, ceil_mode, in_channels, out_channels, in_features,
    #: out_features, bias, groups, negative_slope, p, op (max/avg), adaptive, output_size.
    attrs: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    #: 1 for a module's first call, 2 for its second (a reused ``self.pool``)...
    call_number: int = 1

    @property
    def label(self) -> str:
        return self.name if self.call_number == 1 else f"{self.name} (call {self.call_number})"


@dataclass
class Crash:
    """Where the forward pass failed."""

    layer: int | None
    error: str
    exception: str


@dataclass
class Structure:
    """A network's layers in execution order, and what else a check needs to know of it."""

    layers: list[Layer]
    #: "torch.fx" or "hooks".
    method: str
    input_size: list[int]
    #: Why tracing was not used (hooks only).
    method_note: str | None = None
    crash: Crash | None = None
    output: list[int] | None = None
    total_params: int = 0
    trainable_params: int = 0
    #: (name, shape) of every parameter, in ``model.parameters()`` order.
    param_shapes: list[tuple[str, list[int]]] = field(default_factory=list)
    #: Modules with parameters that the forward pass never called: (path, repr, params).
    unused: list[tuple[str, str, int]] = field(default_factory=list)
    class_name: str = ""
    #: The last Linear layer's out_features (or conv's out_channels): the number of classes.
    num_classes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Structure:
        d = dict(data)
        d["layers"] = [Layer(**x) for x in d["layers"]]
        d["crash"] = Crash(**d["crash"]) if d.get("crash") else None
        d["param_shapes"] = [(n, list(s)) for n, s in d.get("param_shapes", [])]
        d["unused"] = [tuple(u) for u in d.get("unused", [])]
        return cls(**d)

    def structural(self) -> list[Layer]:
        return [la for la in self.layers if la.kind in STRUCTURAL]

    def by_module(self, path: str) -> list[Layer]:
        return [la for la in self.layers if la.module == path]


# --- what a module or a function is ----------------------------------------------------------

_ACTS = {
    "relu": "ReLU", "relu_": "ReLU", "leaky_relu": "LeakyReLU", "leaky_relu_": "LeakyReLU",
    "relu6": "ReLU6", "elu": "ELU", "selu": "SELU", "gelu": "GELU", "silu": "SiLU",
    "sigmoid": "Sigmoid", "tanh": "Tanh", "hardswish": "Hardswish", "mish": "Mish",
    "prelu": "PReLU", "softplus": "Softplus",
}  # fmt: skip
_POOLS = {
    "max_pool1d": ("max", 1), "max_pool2d": ("max", 2), "max_pool3d": ("max", 3),
    "avg_pool1d": ("avg", 1), "avg_pool2d": ("avg", 2), "avg_pool3d": ("avg", 3),
    "max_pool2d_with_indices": ("max", 2),
}  # fmt: skip
_ADAPTIVE = {
    "adaptive_avg_pool1d": ("avg", 1), "adaptive_avg_pool2d": ("avg", 2),
    "adaptive_max_pool2d": ("max", 2), "adaptive_avg_pool3d": ("avg", 3),
}  # fmt: skip
#: Functional pools' positional parameters after the input.
_MAX_ARGS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_AVG_ARGS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")


def _pair(value: Any, n: int) -> list[int] | str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return [value] * n
    return [int(v) for v in value]


def _conv_padding(m: Any) -> list[int] | str:
    """A conv's padding as numbers: ``"valid"`` is 0, ``"same"`` (stride 1) is what keeps the
    size, where that is the same on both sides."""
    n = len(m.kernel_size)
    if m.padding == "valid":
        return [0] * n
    if m.padding == "same":
        spans = [d * (k - 1) for k, d in zip(m.kernel_size, m.dilation, strict=True)]
        if all(s % 2 == 0 for s in spans):
            return [s // 2 for s in spans]
        return "same"
    return _pair(m.padding, n)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def describe_module(m: nn.Module) -> tuple[str, dict[str, Any]]:
    """(kind, attrs) of a module."""
    from torch import nn

    attrs: dict[str, Any] = {}
    if isinstance(m, nn.modules.conv._ConvNd):
        n = len(m.kernel_size)
        attrs = {
            "in_channels": m.in_channels,
            "out_channels": m.out_channels,
            "kernel": list(m.kernel_size),
            "stride": list(m.stride),
            "padding": _conv_padding(m),
            "dilation": list(m.dilation),
            "groups": m.groups,
            "bias": m.bias is not None,
        }
        return "conv", attrs
    if isinstance(m, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)):
        op = "max" if isinstance(m, nn.modules.pooling._MaxPoolNd) else "avg"
        n = {"1d": 1, "2d": 2, "3d": 3}.get(type(m).__name__[-2:], 2)
        kernel = _pair(m.kernel_size, n)
        stride = _pair(m.stride, n) if m.stride not in (None, [], ()) else kernel
        attrs = {
            "op": op,
            "kernel": kernel,
            "stride": stride,
            "padding": _pair(m.padding, n),
            "ceil_mode": bool(m.ceil_mode),
        }
        if op == "max":
            attrs["dilation"] = _pair(m.dilation, n)
        return "pool", attrs
    adaptive = (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
    if isinstance(m, adaptive):
        op = "max" if isinstance(m, nn.modules.pooling._AdaptiveMaxPoolNd) else "avg"
        size = m.output_size
        return "pool", {"op": op, "adaptive": True, "output_size": size}
    if isinstance(m, nn.Linear):
        return "linear", {
            "in_features": m.in_features,
            "out_features": m.out_features,
            "bias": m.bias is not None,
        }
    if isinstance(m, nn.Flatten):
        return "flatten", {"start_dim": m.start_dim}
    name = type(m).__name__
    if name in _ACTS.values() or isinstance(m, (nn.ReLU, nn.LeakyReLU)):
        if isinstance(m, nn.LeakyReLU):
            attrs["negative_slope"] = m.negative_slope
        return "act", attrs
    if isinstance(m, nn.modules.dropout._DropoutNd):
        return "dropout", {"p": m.p}
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return "norm", {
            "num_features": m.num_features,
            "running_stats": m.track_running_stats,
            "affine": m.affine,
        }
    if isinstance(m, (nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)):
        return "norm", {}
    if isinstance(m, (nn.Softmax, nn.LogSoftmax)):
        return "softmax", {}
    if isinstance(m, nn.Identity):
        return "noop", {}
    return "other", {}


def _normalize(names: Sequence[str], args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict:
    out = dict(zip(names, args, strict=False))
    out.update({k: v for k, v in kwargs.items() if k in names})
    return out


def describe_call(
    fname: str, method: bool, args: Sequence[Any], kwargs: Mapping[str, Any], ins: Any, outs: Any
) -> tuple[str, str, dict[str, Any]] | None:
    """(kind, type, attrs) of a functional call; None for a call that is no layer (size())."""
    fname = fname.lstrip("_") if not fname.startswith("__") else fname
    rest = list(args[1:])
    if fname in _POOLS:
        op, n = _POOLS[fname]
        a = _normalize(_MAX_ARGS if op == "max" else _AVG_ARGS, rest, kwargs)
        kernel = _pair(a.get("kernel_size", 1), n)
        stride = a.get("stride")
        attrs: dict[str, Any] = {
            "op": op,
            "kernel": kernel,
            "stride": _pair(stride, n) if stride not in (None, [], ()) else kernel,
            "padding": _pair(a.get("padding", 0), n),
            "ceil_mode": bool(a.get("ceil_mode", False)),
        }
        if op == "max":
            attrs["dilation"] = _pair(a.get("dilation", 1), n)
        return "pool", f"{op.capitalize()}Pool{n}d", attrs
    if fname in _ADAPTIVE:
        op, n = _ADAPTIVE[fname]
        size = kwargs.get("output_size", rest[0] if rest else None)
        attrs = {"op": op, "adaptive": True, "output_size": size}
        return "pool", f"Adaptive{op.capitalize()}Pool{n}d", attrs
    if fname in _ACTS:
        attrs = {}
        if fname.startswith("leaky_relu"):
            slope = kwargs.get("negative_slope", rest[0] if rest else 0.01)
            attrs["negative_slope"] = float(slope)
        return "act", _ACTS[fname], attrs
    if fname.startswith("dropout") or fname in ("alpha_dropout", "feature_alpha_dropout"):
        p = kwargs.get("p", rest[0] if rest else 0.5)
        return "dropout", "Dropout", {"p": float(p)}
    if fname in ("softmax", "log_softmax"):
        return "softmax", "Softmax" if fname == "softmax" else "LogSoftmax", {}
    if fname in ("batch_norm", "layer_norm", "group_norm", "local_response_norm"):
        return "norm", fname, {}
    if fname in ("conv1d", "conv2d", "conv3d"):
        return "other", "Conv2d (functional)", {}
    if fname == "linear":
        return "other", "Linear (functional)", {}
    if not _is_shape(outs):
        return None
    if fname in ("flatten", "view", "reshape", "squeeze") and _is_shape(ins):
        if len(ins) > 2 and len(outs) == 2 and outs[0] == ins[0]:
            return "flatten", "Flatten", {"start_dim": 1}
        if list(ins) == list(outs):
            return None
    if len(outs) < 2 or (_is_shape(ins) and list(ins) == list(outs)):
        return None  # a reduction to a number, arithmetic that keeps the shape
    return "other", fname, {}


def _known_unrun(fname: str) -> bool:
    """A functional call that is a layer whatever its shapes (a pool, an activation...)."""
    f = fname.lstrip("_")
    return (
        f in _POOLS or f in _ADAPTIVE or f in _ACTS or f.startswith("dropout")
        or f in ("softmax", "log_softmax")
    )  # fmt: skip


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value)


def _shape_of(value: Any) -> list[int] | None:
    import torch

    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return list(value[0].shape)  # max_pool2d(..., return_indices=True)
    return None


def _call_text(fname: str, method: bool) -> str:
    if method:
        return f"x.{fname}"
    if fname in ("flatten", "cat", "add", "reshape"):
        return f"torch.{fname}"
    return f"F.{fname}"


def _crash_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:300]


# --- reading -------------------------------------------------------------------------------


class _Builder:
    """Turns calls, as they are seen, into layers."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.layers: list[Layer] = []
        self.calls: dict[str, int] = {}
        self.last_name = "the input"

    def module(self, path: str, ins: Any, outs: Any) -> Layer:
        m = self.model.get_submodule(path)
        kind, attrs = describe_module(m)
        self.calls[path] = self.calls.get(path, 0) + 1
        layer = Layer(
            index=len(self.layers),
            name=path,
            kind=kind,
            type=type(m).__name__,
            module=path,
            input=ins,
            output=outs,
            params=_count(m),
            attrs=attrs,
            text=repr(m) if len(list(m.children())) == 0 else type(m).__name__,
            call_number=self.calls[path],
        )
        self.layers.append(layer)
        if kind in STRUCTURAL:
            self.last_name = layer.label
        return layer

    def function(
        self, fname: str, method: bool, args: Sequence[Any], kwargs: Mapping[str, Any],
        ins: Any, outs: Any,
    ) -> Layer | None:  # fmt: skip
        what = describe_call(fname, method, args, kwargs, ins, outs)
        if what is None:
            return None
        kind, typ, attrs = what
        call = _call_text(fname.lstrip("_"), method)
        layer = Layer(
            index=len(self.layers),
            name=f"{call} after {self.last_name}",
            kind=kind,
            type=typ,
            call=call,
            input=ins,
            output=outs,
            attrs=attrs,
            text=f"{call}({_args_text(args[1:], kwargs)})",
        )
        self.layers.append(layer)
        return layer


def _args_text(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    def show(v: Any) -> str:
        if hasattr(v, "shape") or type(v).__name__ in ("Node", "Proxy"):
            return "x"
        return repr(v)

    parts = [show(a) for a in args]
    parts += [f"{k}={show(v)}" for k, v in kwargs.items() if k not in ("inplace",)]
    return ", ".join(parts)


def _no_batch(shape: list[int] | None) -> list[int] | None:
    return list(shape[1:]) if shape else None


def read_structure(model: nn.Module, input_size: Sequence[int]) -> Structure:
    """Run ``model`` once on zeros of shape ``(1, *input_size)`` and read every layer.

    The model runs in eval mode (Dropout off, BatchNorm on its statistics), so batch 1 works;
    its own mode is restored afterwards.
    """
    import torch

    was_training = model.training
    model.eval()
    size = [int(v) for v in input_size]
    try:
        layers, crash, out, method, note = _read_fx(model, size)
    except _TraceFailed as exc:
        layers, crash, out = _read_hooks(model, size)
        method, note = "hooks", f"torch.fx cannot trace the forward pass ({exc}); read with hooks"
    finally:
        model.train(was_training)
    called = {la.module for la in layers if la.module}
    unused = []
    for path, m in model.named_modules():
        if not path or any(p == path or p.startswith(path + ".") for p in called):
            continue
        own = sum(p.numel() for p in m.parameters())
        if own and not list(m.children()):
            unused.append((path, repr(m), own))
    if crash is not None and method == "hooks":
        unused = []  # hooks saw nothing after the crash: "never called" cannot be told
    linears = [la for la in layers if la.kind == "linear"]
    if linears and crash is None:
        num_classes = linears[-1].attrs["out_features"]
    else:
        heads = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        num_classes = heads[-1].out_features if heads else None
    return Structure(
        layers=layers,
        method=method,
        method_note=note,
        input_size=size,
        crash=crash,
        output=out,
        total_params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        param_shapes=[(n, list(p.shape)) for n, p in model.named_parameters()],
        unused=unused,
        class_name=type(model).__name__,
        num_classes=num_classes,
    )


class _TraceFailed(Exception):
    pass


def _read_fx(model: nn.Module, size: list[int]) -> tuple:
    import torch
    from torch import fx
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        gm = fx.symbolic_trace(model)
    except Exception as exc:  # data-dependent control flow, untraceable calls
        raise _TraceFailed(_crash_text(exc).split(". ")[0]) from None
    values: dict[Any, Any] = {}

    class _Run(ShapeProp):
        """ShapeProp (each node's output shape), remembering where a failing pass failed."""

        current: Any = None

        def run_node(self, n: fx.Node) -> Any:
            self.current = n
            result = super().run_node(n)
            values[n] = result
            return result

    runner = _Run(gm)
    crash_exc: BaseException | None = None
    x = _zeros(model, size)
    with torch.no_grad():
        try:
            result = runner.run(x)
        except Exception as exc:
            crash_exc = exc
            while crash_exc.__cause__ is not None and "ShapeProp" in str(crash_exc):
                crash_exc = crash_exc.__cause__  # the student's error, not fx's wrapper
            result = None
    failed = runner.current if crash_exc is not None else None
    b = _Builder(model)
    crash: Crash | None = None
    for n in gm.graph.nodes:
        if n.op not in ("call_module", "call_function", "call_method"):
            continue
        first = n.args[0] if n.args else None
        ins = _no_batch(_shape_of(values.get(first))) if isinstance(first, fx.Node) else None
        if n is failed:
            ins = _no_batch(_shape_of(values.get(first))) if isinstance(first, fx.Node) else None
        outs = _no_batch(_shape_of(values.get(n)))
        reached = n in values
        if n.op == "call_module":
            try:
                layer = b.module(str(n.target), ins, outs if reached else None)
            except AttributeError:
                continue
        else:
            fname = n.target if n.op == "call_method" else getattr(n.target, "__name__", "")
            if fname in ("size", "dim", "numel", "getattr") or not isinstance(fname, str):
                continue
            if fname == "getitem":
                continue
            if not reached and n is not failed:
                # Not run: a flatten is still known by its call, a pool, an activation, a
                # Dropout by their arguments; others (arithmetic) are not layers one can tell.
                if fname in ("flatten", "view", "reshape"):
                    b.layers.append(
                        Layer(len(b.layers), f"{_call_text(fname, n.op == 'call_method')} after "
                              f"{b.last_name}", "flatten", "Flatten",
                              _call_text(fname, n.op == "call_method"))
                    )  # fmt: skip
                elif _known_unrun(fname):
                    b.function(fname, n.op == "call_method", n.args, n.kwargs, None, None)
                continue
            # A view that fails (x.view(-1, 6400) of 4096 values) is still the flatten it meant.
            fake_out = outs if reached else ([math.prod(ins)] if ins else None)
            called = b.function(
                fname, n.op == "call_method", n.args, n.kwargs, _with_batch(ins),
                _with_batch(fake_out),
            )  # fmt: skip
            if called is None:
                if n is failed and crash_exc is not None:
                    crash = Crash(len(b.layers) - 1 if b.layers else None, _crash_text(crash_exc),
                                  type(crash_exc).__name__)  # fmt: skip
                continue
            layer = called
            layer.input, layer.output = ins, outs if reached else None
        if n is failed and crash_exc is not None:
            crash = Crash(layer.index, _crash_text(crash_exc), type(crash_exc).__name__)
    if crash_exc is not None and crash is None:
        crash = Crash(None, _crash_text(crash_exc), type(crash_exc).__name__)
    out = _no_batch(_shape_of(result)) if result is not None else None
    return b.layers, crash, out, "torch.fx", None


def _zeros(model: nn.Module, size: list[int]) -> Any:
    """A batch of one zero image, on the model's device and in its floating-point type."""
    import torch

    first = next((p for p in model.parameters() if p.is_floating_point()), None)
    if first is None or first.device.type == "meta":
        return torch.zeros(1, *size)
    return torch.zeros(1, *size, device=first.device, dtype=first.dtype)


def _with_batch(shape: list[int] | None) -> list[int] | None:
    return [1, *shape] if shape is not None else None


def _read_hooks(model: nn.Module, size: list[int]) -> tuple:
    """Module hooks for the modules, a torch-function mode for the functional calls."""
    import torch
    from torch.overrides import TorchFunctionMode

    b = _Builder(model)
    names = {id(m): p for p, m in model.named_modules()}
    leaves = [m for m in model.modules() if not list(m.children())]
    depth = [0]
    pending: list[tuple[str, Any]] = []
    crash_at: list[int | None] = [None]

    def pre(m: nn.Module, args: Any) -> None:
        depth[0] += 1
        ins = _no_batch(_shape_of(args[0])) if args else None
        pending.append((names[id(m)], ins))

    def post(m: nn.Module, args: Any, out: Any) -> None:
        depth[0] -= 1
        path, ins = pending.pop()
        b.module(path, ins, _no_batch(_shape_of(out)))

    class _Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if depth[0]:
                return func(*args, **kwargs)
            fname = getattr(func, "__name__", "")
            method = getattr(func, "__objclass__", None) is not None or "Tensor." in getattr(
                func, "__qualname__", ""
            )
            first = args[0] if args else None
            ins = _shape_of(first)
            try:
                out = func(*args, **kwargs)
            except Exception:
                layer = b.function(fname, method, args, kwargs, ins, ins)
                crash_at[0] = layer.index if layer is not None else None
                if layer is not None:
                    layer.input, layer.output = _no_batch(ins), None
                raise
            if fname in ("size", "dim", "numel", "__get__", "__getitem__") and not _shape_of(out):
                return out
            layer = b.function(fname, method, args, kwargs, ins, _shape_of(out))
            if layer is not None:
                layer.input, layer.output = _no_batch(ins), _no_batch(_shape_of(out))
            return out

    handles = []
    for m in leaves:
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    crash = None
    out = None
    x = _zeros(model, size)
    try:
        with torch.no_grad(), _Mode():
            result = model(x)
        out = _no_batch(_shape_of(result))
    except Exception as exc:
        if pending:
            path, ins = pending[-1]
            layer = b.module(path, ins, None)
            crash_at[0] = layer.index
        crash = Crash(crash_at[0], _crash_text(exc), type(exc).__name__)
    finally:
        for h in handles:
            h.remove()
    return b.layers, crash, out
