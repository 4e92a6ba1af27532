"""Device names: auto, cpu, cuda, cuda:N, mps; checked before torch sees them."""

from __future__ import annotations

import re

from .errors import InvalidArgumentError

__all__ = ["DEVICE_FORMS", "check_device_index", "check_device_name"]

#: The device names ``--device`` takes.
DEVICE_FORMS = "auto, cpu, cuda, cuda:N (N from 0) or mps"

_NAME = re.compile(r"(auto|cpu|cuda|mps)(?::(.*))?\Z")


def check_device_name(name: str) -> str:
    """``name`` lower-cased if it is one of the accepted forms (availability is not checked).

    Raises:
        InvalidArgumentError: an unknown device, an index that is not a whole number, or an
            index on a device that has only one (``cpu:7``, ``mps:1``).
    """
    text = str(name).strip().lower()
    match = _NAME.match(text)
    if match is None:
        raise InvalidArgumentError(f"unknown device {name!r}; use {DEVICE_FORMS}")
    kind, index = match.group(1), match.group(2)
    if index is None:
        return text
    if kind == "auto":
        raise InvalidArgumentError(f"device {name!r}: auto takes no index; use {DEVICE_FORMS}")
    if not index.isdigit() or not index.isascii():
        raise InvalidArgumentError(
            f"device {name!r}: the index {index!r} is not a whole number; use {DEVICE_FORMS}"
        )
    if kind in ("cpu", "mps") and int(index) != 0:
        raise InvalidArgumentError(
            f"device {name!r}: torch has one {kind} device ({kind} or {kind}:0); use {DEVICE_FORMS}"
        )
    return text


def check_device_index(name: str) -> None:
    """Also check that a ``cuda:N`` exists on this machine.

    Raises:
        InvalidArgumentError: as [`check_device_name`][cnnzoo.devices.check_device_name], or
            ``cuda:N`` beyond the GPUs torch sees.
    """
    text = check_device_name(name)
    kind, _, index = text.partition(":")
    if kind == "cuda" and index:
        import torch

        count = torch.cuda.device_count()
        if count and int(index) >= count:
            raise InvalidArgumentError(
                f"device {name!r}: torch sees {count} CUDA GPU(s) here, cuda:0 to cuda:{count - 1}"
            )
