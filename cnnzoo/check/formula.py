"""The course's arithmetic, written out: output sizes and parameter counts of one layer.

Document 004 (2.1.4): W_out = (W_in - K + 2P)/S + 1, rounded down when it does not divide
(PyTorch's floor; ``ceil_mode=True`` rounds up). A flatten multiplies the map out; a conv holds
k*k*C_in*C_out + C_out parameters, a Linear in*out + out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .structure import Layer

__all__ = ["output_size", "params_text", "shape_text", "size_text"]


def shape_text(shape: Sequence[int] | None, sep: str = "x") -> str:
    if shape is None:
        return "?"
    return sep.join(str(v) for v in shape) if shape else "scalar"


def output_size(
    w: int, k: int, s: int, p: int = 0, d: int = 1, ceil: bool = False
) -> tuple[str, int]:
    """(the formula with the numbers in, its value) for one side of a map."""
    span = d * (k - 1) + 1
    top = w + 2 * p - span
    inner = f"{w}" + (f" + 2*{p}" if p else "") + f" - {span}"
    if top % s == 0:
        return f"({inner})/{s} + 1 = {top // s + 1}", top // s + 1
    value = -(-top // s) + 1 if ceil else top // s + 1
    return f"{'ceil' if ceil else 'floor'}(({inner})/{s}) + 1 = {value}", value


def _ints(value: Any, n: int) -> list[int]:
    if isinstance(value, int):
        return [value] * n
    return [int(v) for v in value]


def size_text(layer: Layer, input_shape: Sequence[int] | None = None) -> str | None:
    """How ``layer``'s output size follows from its input: None where no formula applies."""
    ins = list(input_shape if input_shape is not None else layer.input or [])
    a = layer.attrs
    if layer.kind == "flatten":
        if len(ins) > 1:
            return f"{' x '.join(map(str, ins))} = {_prod(ins):,}"
        return None
    if layer.kind == "linear":
        return f"{a['in_features']:,} -> {a['out_features']:,} features"
    if layer.kind == "pool" and a.get("adaptive"):
        return f"adaptive: output {a.get('output_size')}"
    if layer.kind not in ("conv", "pool") or len(ins) < 2:
        return None
    spatial = ins[1:]
    n = len(spatial)
    pad = a.get("padding", 0)
    if isinstance(pad, str):
        return f"padding={pad!r} keeps {' x '.join(map(str, spatial))}" if pad == "same" else None
    k, s = _ints(a["kernel"], n), _ints(a["stride"], n)
    p, d = _ints(pad, n), _ints(a.get("dilation", 1), n)
    ceil = bool(a.get("ceil_mode", False))
    parts = [output_size(spatial[i], k[i], s[i], p[i], d[i], ceil) for i in range(n)]
    texts = [t for t, _ in parts]
    if len(set(texts)) == 1:
        return texts[0]
    return ", ".join(f"{'HWD'[i]}: {t}" for i, t in enumerate(texts))


def params_text(layer: Layer) -> str | None:
    """The parameter count's arithmetic (``3*3*3*64 + 64 = 1,792``); None for none."""
    a = layer.attrs
    if layer.kind == "conv":
        k = "*".join(str(v) for v in a["kernel"])
        cin = a["in_channels"] // a.get("groups", 1)
        text = f"{k}*{cin}*{a['out_channels']}" + (f" + {a['out_channels']}" if a["bias"] else "")
        return f"{text} = {layer.params:,}"
    if layer.kind == "linear":
        text = f"{a['in_features']}*{a['out_features']}"
        text += f" + {a['out_features']}" if a["bias"] else ""
        return f"{text} = {layer.params:,}"
    if layer.kind == "norm" and a.get("num_features") and layer.params:
        return f"2*{a['num_features']} = {layer.params:,} (weight and bias)"
    if layer.params:
        return f"{layer.params:,}"
    return None


def _prod(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
