"""Published ImageNet weights for the models with torchvision's layout, and what goes with them.

* ``cnnzoo.pretrained.catalog``: each model's weights sets as torchvision's weights
  API describes them, shipped as ``cnnzoo/measured/weights.json`` (read without torch);
* ``cnnzoo.pretrained.resolve``: which set ``pretrained=True`` or ``weights=NAME``
  means, and the errors for models without weights or unknown names;
* ``cnnzoo.pretrained.download``: the file in torch hub's cache, hash-checked,
  downloaded atomically when missing, one clear error offline;
* ``cnnzoo.pretrained.load``: the file's tensors into cnnzoo's model (a new head for
  another number of classes);
* ``cnnzoo.pretrained.finetune``: the course project's workflow (a pretrained
  backbone, a new head, images brought to what the backbone expects, a frozen backbone);
* ``cnnzoo.pretrained.accuracy``: document 004's top-5 column against the published
  weights' measured accuracy and the papers' own figures.

``cnnzoo.create("resnet18", pretrained=True)`` is the usual way in.
"""

from __future__ import annotations

from typing import Any

from .catalog import Transforms, WeightsInfo, categories, models_with_weights
from .resolve import get_weights, has_weights, is_weights_name, list_weights, split_weights

__all__ = [
    "Transforms",
    "WeightsInfo",
    "categories",
    "get_weights",
    "has_weights",
    "is_weights_name",
    "list_weights",
    "load_weights",
    "models_with_weights",
    "preprocess_of",
    "split_weights",
]


def __getattr__(name: str) -> Any:
    # The parts that import torch load on first use, so `cnnzoo info` stays torch-free.
    if name in ("load_weights", "preprocess_of"):
        from . import load

        return getattr(load, name)
    raise AttributeError(f"module 'cnnzoo.pretrained' has no attribute {name!r}")
