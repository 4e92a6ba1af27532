"""Values as a document prints them: figures ("62M", "1,792"), shapes, and their display.

A printed count matches a measured one within the precision it is printed with (``"62M"`` to
the nearest million); a shape drawn as ``1 x 1 x 4096`` is the flat 4096.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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
