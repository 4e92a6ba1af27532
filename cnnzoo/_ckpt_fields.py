"""The stored fields of a cnnzoo checkpoint, checked when it is read.

A checkpoint is outside data: a file edited by hand, written by another tool or by a newer
cnnzoo. Every field cnnzoo later uses is checked here for its type, so a wrong one is a
[`CheckpointError`][cnnzoo.errors.CheckpointError] naming the file and the field instead of a
``TypeError`` deep inside training or prediction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError

__all__ = ["check_fields", "check_format"]

_FORMAT = re.compile(r"cnnzoo\.checkpoint/(\d+)\Z")
_SUPPORTED = 1


def check_format(value: str, path: Path) -> None:
    """Refuse a cnnzoo checkpoint format this version cannot read (a newer one).

    Raises:
        CheckpointError: ``cnnzoo.checkpoint/N`` with N beyond this cnnzoo's, or a malformed one.
    """
    if not value.startswith("cnnzoo."):
        return  # another tool's "format" key: the file is read as a plain state_dict
    from ._version import __version__

    match = _FORMAT.match(value)
    if match is None:
        raise CheckpointError(
            f"weights file {str(path)!r} says it is in format {value[:60]!r}, which cnnzoo "
            f"{__version__} does not know (it reads cnnzoo.checkpoint/{_SUPPORTED})"
        )
    version = int(match.group(1))
    if version > _SUPPORTED:
        raise CheckpointError(
            f"weights file {str(path)!r} was written by a newer cnnzoo (format {value}; cnnzoo "
            f"{__version__} reads cnnzoo.checkpoint/{_SUPPORTED}); upgrade cnnzoo with "
            "pip install -U cnnzoo to read it"
        )


def _bad(path: Path, field: str, want: str, got: Any) -> CheckpointError:
    shown = type(got).__name__
    return CheckpointError(
        f"checkpoint {str(path)!r} is damaged: its {field} should be {want}, it holds a value of "
        f"type {shown}; "
        "write it again with cnnzoo train (or save a plain state_dict)"
    )


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_fields(obj: Mapping[str, Any], path: Path) -> None:
    """Check the types of a cnnzoo checkpoint's fields.

    Raises:
        CheckpointError: a field of the wrong type or out of range, naming it.
    """
    sd = obj.get("state_dict")
    if not isinstance(sd, Mapping):
        raise CheckpointError(f"cnnzoo checkpoint {str(path)!r} has no state_dict")
    for key, value in sd.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise _bad(path, f"state_dict entry {str(key)[:40]!r}", "a tensor", value)
    model = obj.get("model")
    if model is not None and not isinstance(model, str):
        raise _bad(path, "model", "a model name (a string)", model)
    kwargs = obj.get("model_kwargs")
    if kwargs is not None:
        if not isinstance(kwargs, Mapping):
            raise _bad(path, "model_kwargs", "a dict", kwargs)
        for key, value in kwargs.items():
            if not isinstance(key, str) or not _plain(value):
                raise _bad(path, f"model_kwargs[{str(key)[:40]!r}]", "a plain value", value)
        for key in ("num_classes", "in_chans"):
            if key in kwargs and not (_whole(kwargs[key]) and kwargs[key] >= 1):
                raise CheckpointError(
                    f"checkpoint {str(path)!r} is damaged: model_kwargs {key} is "
                    f"{kwargs[key]!r}, not a whole number >= 1"
                )
    labels = obj.get("labels")
    if labels is not None and (
        not isinstance(labels, (list, tuple))
        or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in labels)
    ):
        raise _bad(path, "labels", "a list of class names", labels)
    pre = obj.get("preprocess")
    if pre is not None:
        from .preprocess import Preprocess

        if not isinstance(pre, Mapping):
            raise _bad(path, "preprocess", "a dict (size, channels, mean, std)", pre)
        try:
            Preprocess.from_dict(pre)
        except Exception as exc:  # from_dict's own error, or float() of a string
            raise CheckpointError(
                f"checkpoint {str(path)!r} has an unusable preprocessing record: "
                f"{' '.join(str(exc).split())[:200]}"
            ) from exc
    for key in ("config", "metrics", "best", "optimizer", "rng"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], Mapping):
            raise _bad(path, key, "a dict", obj[key])
    if "epoch" in obj and not (_whole(obj["epoch"]) and obj["epoch"] >= 0):
        raise _bad(path, "epoch", "a whole number >= 0", obj["epoch"])
    history = obj.get("history")
    if history is not None and (
        not isinstance(history, (list, tuple)) or not all(isinstance(r, Mapping) for r in history)
    ):
        raise _bad(path, "history", "a list of dicts", history)
    opt = obj.get("optimizer")
    if isinstance(opt, Mapping) and (
        not isinstance(opt.get("state"), Mapping) or not isinstance(opt.get("param_groups"), list)
    ):
        raise _bad(path, "optimizer", "an optimizer state_dict", opt)
    rng = obj.get("rng")
    if isinstance(rng, Mapping):
        state = rng.get("torch")
        if not isinstance(state, torch.Tensor) or state.dtype != torch.uint8:
            raise _bad(path, "rng['torch']", "a uint8 tensor", state)
