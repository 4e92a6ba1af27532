"""cnnzoo: the classic CNNs of deep-learning courses, exactly as the course material draws them.

>>> import cnnzoo
>>> model = cnnzoo.create("emotionnet", num_classes=7)
>>> cnnzoo.list_models("resnet*")
['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152']
>>> print(cnnzoo.summary("lenet5"))  # torchinfo's table, built without initialising weights
>>> cnnzoo.check("vgg16").ok  # document 004's VGG16 table, reconciled row by row
True
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .errors import (
    CheckpointError,
    CnnzooError,
    DataError,
    DownloadError,
    DuplicateModelError,
    ExportError,
    InputShapeError,
    InvalidArgumentError,
    RunDirBusyError,
    SpecError,
    TrainingDivergedError,
    UnknownArgumentError,
    UnknownModelError,
    VerificationError,
    WeightsError,
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
    "DataError",
    "DownloadError",
    "DuplicateModelError",
    "ExportError",
    "ExportReport",
    "InputShapeError",
    "InvalidArgumentError",
    "ModelCard",
    "RunDirBusyError",
    "Source",
    "SpecError",
    "TrainingDivergedError",
    "UnknownArgumentError",
    "UnknownModelError",
    "VerificationError",
    "WeightsError",
    "__version__",
    "check",
    "check_labels",
    "compare_runs",
    "create",
    "evaluate",
    "explain",
    "export_onnx",
    "list_families",
    "list_models",
    "load_data",
    "model_info",
    "predict",
    "register_model",
    "summary",
    "train",
]

# Heavier features load on first use. `import cnnzoo` imports no torch: list_models() and
# model_info() read the shipped cards (cnnzoo._cards); create() and these import torch.
_LAZY: dict[str, str] = {}
_LAZY["summary"] = ".summarize"
_LAZY["check"] = ".check"
_LAZY["load_data"] = ".data"
_LAZY["check_labels"] = ".data"
_LAZY["predict"] = ".inspect"
_LAZY["explain"] = ".inspect"
_LAZY["export_onnx"] = ".export"
_LAZY["ExportReport"] = ".export"
_LAZY["train"] = ".training"
_LAZY["evaluate"] = ".training"
_LAZY["compare_runs"] = ".runs"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'cnnzoo' has no attribute {name!r}")
