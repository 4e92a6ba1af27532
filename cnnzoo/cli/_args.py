"""Argument types and help texts that several commands share."""

from __future__ import annotations

import argparse

__all__ = ["DATA_HELP", "add_weights_arguments", "finite_float", "positive_int"]

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
