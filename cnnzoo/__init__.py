"""cnnzoo: the classic CNNs of deep-learning courses, exactly as the course material draws them.

>>> import cnnzoo
>>> model = cnnzoo.create("emotionnet", num_classes=7)
>>> cnnzoo.list_models("resnet*")
['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152']
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .errors import (
    CheckpointError,
    CnnzooError,
    DuplicateModelError,
    InputShapeError,
    InvalidArgumentError,
    UnknownArgumentError,
    UnknownModelError,
)
from .registry import (
    ModelCard,
    Source,
    create,
    list_families,
    list_models,
    model_info,
    register_model,
)

__all__ = [
    "CheckpointError",
    "CnnzooError",
    "DuplicateModelError",
    "InputShapeError",
    "InvalidArgumentError",
    "ModelCard",
    "Source",
    "UnknownArgumentError",
    "UnknownModelError",
    "__version__",
    "create",
    "list_families",
    "list_models",
    "model_info",
    "register_model",
]

# Heavier features load on first use, so `import cnnzoo` stays as cheap as `import torch`.
_LAZY: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'cnnzoo' has no attribute {name!r}")
