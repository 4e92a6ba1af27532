"""Loading a published weights set into a cnnzoo model (the file from the cache, checked)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, InvalidArgumentError, WeightsError
from .catalog import WeightsInfo
from .download import fetch

__all__ = ["as_checkpoint", "load_weights", "preprocess_of", "read_weights"]


def read_weights(info: WeightsInfo, *, progress: bool | None = None) -> dict[str, torch.Tensor]:
    """The state_dict of ``info``: the cached file (downloaded first if missing), hash-checked,
    read with ``weights_only=True``."""
    path = fetch(info.url, info.file_name, info.hash_prefix, progress=progress)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(
            f"cannot read weights file {str(path)!r} ({type(exc).__name__}); delete it and run "
            "again to download it afresh"
        ) from exc
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"weights file {str(path)!r} holds no state_dict of tensors")
    return obj


def _head_keys(model: nn.Module) -> list[str]:
    head = getattr(model, "head_name", None)
    if head is None:
        return []
    return [k for k in model.state_dict() if k.startswith(f"{head}.")]


def load_weights(
    model: nn.Module, info: WeightsInfo, *, progress: bool | None = None
) -> dict[str, Any]:
    """Load ``info`` into ``model`` (built as ``info.model``) and return what was done.

    Every tensor of the file goes into the model, except: the keys of parts cnnzoo's model
    does not have (``info.unused_keys``: GoogLeNet's auxiliary heads); the head, when the model
    was built for another number of classes than the weights' (the head keeps its fresh
    initialisation); and values the file does not have (NaN: VGG-16's feature-only set has no
    classifier). Anything else that does not fit raises.

    Returns:
        The record stored as ``model.pretrained`` and in training checkpoints: model, weights
        name, URL, file, whether the head is new, and which tensors kept their initialisation.

    Raises:
        DownloadError, WeightsError: see [`fetch`][cnnzoo.pretrained.download.fetch].
        CheckpointError: the file's tensors do not fit the model (another in_chans).
    """
    state = read_weights(info, progress=progress)
    own = model.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith(info.unused_keys or ("\0",))}
    num_classes = getattr(model, "num_classes", None)
    new_head = info.num_classes is None or num_classes != info.num_classes
    skipped = set(_head_keys(model)) if new_head else set()
    missing_values = sorted(
        k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()
    )
    skipped.update(missing_values)
    state = {k: v for k, v in state.items() if k not in skipped}
    unexpected = [k for k in state if k not in own]
    missing = [k for k in own if k not in state and k not in skipped]
    mismatched = [
        f"{k} (file {list(v.shape)}, model {list(own[k].shape)})"
        for k, v in state.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    if unexpected or missing or mismatched:
        problems = [
            f"{what}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for what, keys in (
                ("unexpected keys", unexpected),
                ("missing keys", missing),
                ("shape mismatch", mismatched),
            )
            if keys
        ]
        raise CheckpointError(
            f"{info.qualified} does not fit {info.model} as built ({'; '.join(problems)}); "
            "build it with its default in_chans"
        )
    merged = dict(own)
    merged.update(state)
    model.load_state_dict(merged, strict=True)
    record = {
        "model": info.model,
        "weights": info.name,
        "torchvision": info.qualified,
        "url": info.url,
        "file_name": info.file_name,
        "hash_prefix": info.hash_prefix,
        "new_head": bool(new_head),
        "initialised": sorted(skipped),
    }
    model.pretrained = record  # type: ignore[assignment]
    return record


def check_build(info: WeightsInfo, kwargs: dict[str, Any], device: Any) -> dict[str, Any]:
    """The builder's keyword arguments for loading ``info``; refuses what cannot load."""
    if device is not None and torch.device(device).type == "meta":
        raise InvalidArgumentError(
            "published weights cannot be loaded on the 'meta' device, which holds no values; "
            "drop device='meta' or pretrained/weights"
        )
    in_chans = kwargs.get("in_chans", 3)
    if in_chans != 3:
        raise InvalidArgumentError(
            f"{info.qualified} takes 3-channel images, not in_chans={in_chans}; keep in_chans=3 "
            "and give grey images 3 identical channels (fine-tuning with cnnzoo train "
            "--pretrained does that)"
        )
    out = dict(kwargs)
    if info.num_classes is not None:
        out.setdefault("num_classes", info.num_classes)
    return out


def preprocess_of(info: WeightsInfo) -> Any:
    """The weights' evaluation preprocessing: resize the shorter side, centre crop, normalise
    (the normalisation cnnzoo's model needs, see ``WeightsInfo.mean``)."""
    from ..preprocess import Preprocess

    t = info.transforms
    if t.interpolation != "bilinear":
        raise WeightsError(
            f"{info.qualified} is evaluated with {t.interpolation} resizing, which cnnzoo's "
            "preprocessing does not do"
        )
    return Preprocess(
        size=(t.crop, t.crop), channels=3, mean=info.mean, std=info.std, resize=t.resize
    )


def as_checkpoint(model: str | None, weights: str = "DEFAULT") -> Any:
    """Published weights as a [`Checkpoint`][cnnzoo.checkpoint.Checkpoint]: their tensors,
    categories (torchvision's metadata) and evaluation preprocessing, so code that reads a
    checkpoint (``evaluate``) takes them as it is."""
    from ..checkpoint import Checkpoint
    from ..registry import create
    from .catalog import categories
    from .resolve import get_weights

    if model is None:
        raise InvalidArgumentError("published weights need the model's name (model=NAME)")
    info = get_weights(model, weights)
    labels = categories(info)
    if labels is None:
        raise WeightsError(
            f"{info.qualified} is a feature extractor without categories; fine-tune it on your "
            "data (cnnzoo train --weights ...) and evaluate that"
        )
    net = create(info.model, weights=info.name)
    return Checkpoint(
        state_dict=net.state_dict(),
        model=info.model,
        model_kwargs={"num_classes": len(labels)},
        extra={
            "labels": labels,
            "preprocess": preprocess_of(info).to_dict(),
            "source": info.qualified,
        },
    )
