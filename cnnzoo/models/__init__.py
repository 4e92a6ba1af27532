"""The built-in model families; importing this package registers them."""

from __future__ import annotations

from . import alexnet, emotion, googlenet, lenet, resnet, resnet_cifar, vgg
from ._base import Classifier, InputSpec

__all__ = [
    "Classifier",
    "InputSpec",
    "alexnet",
    "emotion",
    "googlenet",
    "lenet",
    "resnet",
    "resnet_cifar",
    "vgg",
]
