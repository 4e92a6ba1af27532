"""Argument types and help texts that several commands share."""

from __future__ import annotations

import argparse

__all__ = ["DATA_HELP", "finite_float", "positive_int"]

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
