"""What every cnnzoo classifier shares: argument checks, the input guard and timm's surface."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputShapeError, InvalidArgumentError

__all__ = [
    "Classifier",
    "InputSpec",
    "check_channels",
    "check_dropout",
    "check_positive_int",
    "is_meta",
]


def is_meta(model: nn.Module) -> bool:
    """True when ``model`` was built on the ``meta`` device.

    Custom initialisation is skipped there: meta tensors hold no values, and ``normal_`` on a
    meta tensor imports about 900 modules (2 s) on first use.
    """
    return any(p.is_meta for p in model.parameters())


def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1, or :class:`InvalidArgumentError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
    return value


check_channels = check_positive_int


def check_dropout(name: str, value: object) -> float:
    """``value`` as a probability in [0, 1), or :class:`InvalidArgumentError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise InvalidArgumentError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class InputSpec:
    """The inputs a model takes: channels, and the height/width range that works.

    A model with fully connected layers after a fixed feature map (LeNet-5, emotionNet, the
    documents' AlexNet) takes a narrow range; one with adaptive pooling takes anything from a
    minimum up (``max_size=None``). The ranges are exact: tests run both ends and one past them.

    Attributes:
        channels: the number of input channels.
        default_size: the height and width of the default input.
        min_size: the smallest height and width that work.
        max_size: the largest, or ``None`` when any size from ``min_size`` up works.
    """

    channels: int
    default_size: int
    min_size: int
    max_size: int | None = None

    def __post_init__(self) -> None:
        check_channels("in_chans", self.channels)

    def check(self, model: str, x: torch.Tensor) -> None:
        """Raise [`InputShapeError`][cnnzoo.errors.InputShapeError] unless ``x`` is a batch that
        ``model`` (its name, for the message) takes.

        Raises:
            InputShapeError: naming the shape expected, the shape got, and what to do.
        """
        shape = tuple(x.shape)
        expected = f"(N, {self.channels}, {self.default_size}, {self.default_size})"
        if x.dim() != 4:
            raise InputShapeError(
                f"{model} takes a batch of images shaped {expected}; got a {x.dim()}-d tensor "
                f"of shape {shape}. Add the batch dimension with x.unsqueeze(0)."
                if x.dim() == 3
                else f"{model} takes a batch of images shaped {expected}; got shape {shape}"
            )
        if shape[1] != self.channels:
            raise InputShapeError(
                f"{model} takes {self.channels}-channel images {expected}; got {shape[1]} "
                f"channels in shape {shape}. Convert the images, or build the model with "
                f"in_chans={shape[1]}."
            )
        h, w = shape[2], shape[3]
        if all(
            self.min_size <= v and (self.max_size is None or v <= self.max_size) for v in (h, w)
        ):
            return
        if self.max_size is None:
            accepted = f"at least {self.min_size}x{self.min_size}"
        elif self.max_size == self.min_size:
            accepted = f"exactly {self.min_size}x{self.min_size}"
        else:
            accepted = f"{self.min_size} to {self.max_size} pixels a side"
        raise InputShapeError(
            f"{model} expects input of shape {expected} (it accepts {accepted}); got shape "
            f"{shape}. Resize the images to {self.default_size}x{self.default_size}."
        )


class Classifier(nn.Module):
    """timm's model surface: ``forward_features``, ``forward_head``, ``reset_classifier``.

    Subclasses pass ``num_classes`` and their ``input_spec`` (which checks ``in_chans``) to
    ``__init__``, set ``head_name`` (the dotted path of the final ``nn.Linear``) and implement
    the two forward halves.

    Attributes:
        num_classes: the number of classes the head outputs.
        input_spec: the inputs the model takes; ``forward`` checks every batch against it.
        head_name: the dotted name of the final ``nn.Linear`` (``"fc"``, ``"classifier.6"``).
    """

    num_classes: int
    input_spec: InputSpec
    head_name: str = "fc"

    def __init__(self, *, num_classes: int, input_spec: InputSpec) -> None:
        super().__init__()
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.input_spec = input_spec

    @property
    def default_input_size(self) -> tuple[int, int, int]:
        """The default input of one sample, (C, H, W)."""
        s = self.input_spec
        return (s.channels, s.default_size, s.default_size)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature extractor: everything before the classifier."""
        raise NotImplementedError

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The classifier on the features; with ``pre_logits=True``, the input of the last
        layer (the embedding) instead of the logits."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.input_spec.check(getattr(self, "model_name", type(self).__name__), x)
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Linear:
        """The final ``nn.Linear`` layer (the one named ``head_name``)."""
        head = self.get_submodule(self.head_name)
        if not isinstance(head, nn.Linear):
            raise TypeError(
                f"{self.head_name!r} is a {type(head).__name__}, not the nn.Linear head"
            )
        return head

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the final layer with a fresh one for ``num_classes`` classes."""
        check_positive_int("num_classes", num_classes)
        old = self.get_classifier()
        new = nn.Linear(
            old.in_features, num_classes, device=old.weight.device, dtype=old.weight.dtype
        )
        parent_name, _, attr = self.head_name.rpartition(".")
        parent = self.get_submodule(parent_name) if parent_name else self
        setattr(parent, attr, new)
        self.num_classes = num_classes
