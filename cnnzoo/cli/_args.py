"""Argument types and help texts that several commands share.

Every type turns a bad value into argparse's usage error (exit 2) with one line that says what
is accepted, so no option value reaches the library that it would refuse later.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = [
    "DATA_HELP",
    "add_weights_arguments",
    "device_name",
    "finite_float",
    "finite_range",
    "port_number",
    "positive_int",
    "seed_int",
]

#: The ``--data`` forms that ``train`` and ``evaluate`` accept.
DATA_HELP = "mnist:DIR, fashion-mnist:DIR, cifar10:DIR, folder:DIR or fer2013:CSV"


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1, or a usage error saying what is wrong."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def finite_range(
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = True,
) -> Callable[[str], float]:
    """An argparse type: a finite number in the range from ``low`` to ``high``."""
    left = "(" if low_open else "["
    right = ")" if high_open or math.isinf(high) else "]"
    shown_high = "inf" if math.isinf(high) else f"{high:g}"
    where = f"{left}{low:g}, {shown_high}{right}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above:
            raise argparse.ArgumentTypeError(f"{value:g} is outside {where}")
        return value

    parse.__name__ = "number"  # argparse names the type in some messages
    return parse


def seed_int(text: str) -> int:
    """An argparse type: a seed, a whole number from 0 to 2**32 - 1."""
    from ..divergence import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"{value} is outside 0..{MAX_SEED} (seeds are 32-bit whole numbers)"
        )
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535; 0: any free one)")
    return value


def device_name(text: str) -> str:
    """An argparse type: auto, cpu, cuda, cuda:N or mps (whether it exists is checked later)."""
    from ..devices import check_device_name
    from ..errors import InvalidArgumentError

    try:
        return check_device_name(text)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def finite_float(text: str) -> float:
    """An argparse type: a finite number (``inf`` and ``nan`` are usage errors)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def add_weights_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """``--pretrained`` and ``--weights NAME|PATH``, the same on every command."""
    p.add_argument(
        "--pretrained",
        action="store_true",
        help=f"{what} with the model's default published ImageNet weights (torchvision's "
        "DEFAULT, from torch hub's cache; downloaded once)",
    )
    p.add_argument(
        "--weights",
        metavar="NAME|PATH",
        help="a published weights set by name (IMAGENET1K_V1, DEFAULT; `cnnzoo info NAME` lists "
        "them) or a weights file",
    )
