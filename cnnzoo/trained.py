"""Opening a trained checkpoint: one function and one policy for ``evaluate``, ``predict`` and
``explain``.

A cnnzoo checkpoint (``best.pth`` of ``cnnzoo train``) names its model and the options it was
built with, and carries its class labels and preprocessing. Published weights
(``weights="DEFAULT"``, see :mod:`cnnzoo.pretrained`) come as such a checkpoint too, with their
ImageNet categories and their own evaluation preprocessing. A bare state_dict carries none of
that: the model name must be given, ``num_classes`` and ``in_chans`` are read from the tensors'
shapes, and the labels and preprocessing come from the model's card. The policy:

- a bare state_dict without a model name is refused, naming ``--model NAME``;
- a model name that differs from the checkpoint's is refused;
- labels of the wrong length are refused (never silently replaced);
- missing labels are the card's for that many classes, else ``"class 0"``, ``"class 1"``, ...;
- a stored preprocessing record that does not parse is a ``CheckpointError``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import torch
from torch import nn

from .checkpoint import Checkpoint, apply_state_dict, read_checkpoint
from .errors import CheckpointError, InvalidArgumentError
from .preprocess import Preprocess, preprocess_for

__all__ = ["Trained", "load_trained", "open_trained"]


@dataclass
class Trained:
    """A checkpoint opened for use.

    Attributes:
        model: the network, in eval mode, on the device asked for.
        name: its canonical model name.
        labels: one class label per output.
        preprocess: how its inputs are prepared.
        checkpoint: what the file holds (``extra["config"]`` is the training run's options).
        kwargs: the keyword arguments the model was built with.
        source: the file, or the published weights' qualified name.
    """

    model: nn.Module
    name: str
    labels: list[str]
    preprocess: Preprocess
    checkpoint: Checkpoint = field(repr=False)
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.labels)


def infer_kwargs(name: str, state_dict: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``num_classes`` and ``in_chans`` of a bare state_dict, read from its tensors' shapes.

    A bare state_dict does not say how its model was built; its head's rows are the classes,
    and the first convolution's input channels are the image's. Anything else that differs is
    left for ``apply_state_dict`` to explain.
    """
    from .registry import create, get_builder

    accepted = inspect.signature(get_builder(name)).parameters
    probe = create(name, device="meta")
    own = probe.state_dict()
    kwargs: dict[str, Any] = {}
    head = getattr(probe, "head_name", None)
    key = f"{head}.weight" if head else None
    if (
        "num_classes" in accepted
        and key in own
        and key in state_dict
        and state_dict[key].dim() == 2
        and state_dict[key].shape[0] != own[key].shape[0]
    ):
        kwargs["num_classes"] = int(state_dict[key].shape[0])
    first = next((k for k, v in own.items() if v.dim() == 4), None)
    if (
        "in_chans" in accepted
        and first is not None
        and first in state_dict
        and state_dict[first].dim() == 4
        and state_dict[first].shape[1] != own[first].shape[1]
    ):
        kwargs["in_chans"] = int(state_dict[first].shape[1])
    return kwargs


def open_trained(
    checkpoint: str | PathLike[str] | None,
    *,
    model: str | None = None,
    device: Any = "cpu",
    weights: str | None = None,
) -> Trained:
    """Open ``checkpoint`` (or the published ``weights`` of ``model``) with the policy of this
    module.

    Raises:
        CheckpointError: the file is missing or damaged, fits no model of that name, is a bare
            state_dict and ``model`` was not given, names another model than ``model``, or
            holds labels or preprocessing that do not fit.
        UnknownModelError: ``model`` is not registered.
    """
    from .registry import create, model_info, resolve_name

    if weights is not None or checkpoint is None:
        if checkpoint is not None:
            raise InvalidArgumentError("give a checkpoint or published weights, not both")
        from .pretrained.load import as_checkpoint

        ck = as_checkpoint(model, weights or "DEFAULT")
        source = str(ck.extra["source"])
    else:
        ck = read_checkpoint(checkpoint)
        source = str(checkpoint)
    if ck.model is None and model is None:
        raise CheckpointError(
            f"{source!r} is a bare state_dict that does not say which model it is; pass "
            "--model NAME (the model name; model=NAME in Python), e.g. --model lenet5"
        )
    if ck.model is not None and model is not None and resolve_name(model) != ck.model:
        raise CheckpointError(
            f"checkpoint {source!r} holds a {ck.model!r} model, not "
            f"{resolve_name(model)!r}; drop --model or pass --model {ck.model}"
        )
    name = ck.model if ck.model is not None else resolve_name(str(model))
    kwargs = dict(ck.model_kwargs) if ck.model is not None else infer_kwargs(name, ck.state_dict)
    net = create(name, **kwargs)
    apply_state_dict(net, ck.state_dict, source=source)
    net.eval().to(device)
    card = model_info(name)
    num_classes = int(
        getattr(net, "num_classes", None) or kwargs.get("num_classes") or card.num_classes or 0
    )

    labels = ck.extra.get("labels")
    if labels is not None:
        labels = [str(v) for v in labels]
        if num_classes and len(labels) != num_classes:
            raise CheckpointError(
                f"checkpoint {source!r} has {len(labels)} labels for a model with "
                f"{num_classes} classes; save it again with one label per class"
            )
    else:
        card_labels = card.labels_for(num_classes) if num_classes else None
        labels = list(card_labels) if card_labels else [f"class {i}" for i in range(num_classes)]

    record = ck.extra.get("preprocess")
    if record is not None:
        try:
            preprocess = Preprocess.from_dict(record)
        except InvalidArgumentError as exc:
            raise CheckpointError(f"checkpoint {source!r}: {exc}") from exc
    else:
        preprocess = preprocess_for(name, in_chans=kwargs.get("in_chans"))
    return Trained(net, name, labels, preprocess, ck, kwargs, source)


def load_trained(
    checkpoint: str | PathLike[str] | None,
    *,
    model: str | None = None,
    device: Any = "cpu",
    weights: str | None = None,
) -> tuple[nn.Module, list[str], Preprocess]:
    """The model of a checkpoint, in eval mode, with its class labels and preprocessing.

    Args:
        checkpoint: a cnnzoo checkpoint (``best.pth`` of ``cnnzoo train``) or a bare
            state_dict file; ``None`` with ``weights``, for published weights.
        model: the model name; required for a bare state_dict (which does not record it), and
            checked against the checkpoint's otherwise.
        device: where to put the model.
        weights: published weights of ``model`` by name (``"DEFAULT"``, ``"IMAGENET1K_V1"``):
            their ImageNet category names (from torchvision's metadata) and their own
            evaluation preprocessing (resize, centre crop, normalisation).

    Returns:
        ``(model, labels, preprocess)``. ``labels`` are the checkpoint's, else the card's for
        that many classes, else ``"class 0"``, ``"class 1"``, ...; ``preprocess`` is the
        checkpoint's, else the card's.

    Raises:
        CheckpointError: the file is missing or damaged, fits no model of that name, is a bare
            state_dict and ``model`` was not given, or names another model than ``model``.
        UnknownModelError: ``model`` is not registered.
    """
    t = open_trained(checkpoint, model=model, device=device, weights=weights)
    return t.model, t.labels, t.preprocess
