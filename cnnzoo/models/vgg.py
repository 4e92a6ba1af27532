"""VGG 11/13/16/19, with and without BatchNorm, in torchvision's layout (document 004)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..registry import Source, register_model
from ._base import Classifier, InputSpec, check_dropout, is_meta

__all__ = [
    "VGG",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
]

# The paper's Table 1 columns: conv3 widths, "M" = max-pool 2x2 stride 2.
CFGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
          512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip

_PAPER = (
    "Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image "
    "Recognition (2014)",
    "https://arxiv.org/abs/1409.1556",
)


def _meta(document: str | None = None) -> dict[str, Any]:
    """Registration data of a VGG; ``document`` names the course table that draws it, if any."""
    return {
        "family": "vgg",
        "input_size": (3, 224, 224),
        "num_classes": 1000,
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        "source": Source(*_PAPER, document),
    }


def make_layers(cfg: list[int | str], in_chans: int, batch_norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    chans = in_chans
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        width = int(v)
        layers.append(nn.Conv2d(chans, width, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU(inplace=True))
        chans = width
    return nn.Sequential(*layers)


class VGG(Classifier):
    """VGG: stacks of 3x3 convolutions and five max-pools, then fc 25088-4096-4096-classes.

    Module names are torchvision's (``features.N``, ``classifier.0/3/6``), so torchvision
    state_dicts load with ``strict=True``. ``avgpool`` is adaptive (7 x 7), as in torchvision;
    at 224 it does nothing, and it lets any input of 32 pixels or more through.
    """

    head_name = "classifier.6"

    def __init__(
        self,
        cfg: list[int | str],
        *,
        batch_norm: bool = False,
        num_classes: int = 1000,
        in_chans: int = 3,
        dropout: float = 0.5,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, 224, 32))
        p = check_dropout("dropout", dropout)
        self.features = make_layers(cfg, in_chans, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p),
            nn.Linear(4096, num_classes),
        )
        _init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # N x 512 x 7 x 7 at 224

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.classifier[:6](torch.flatten(self.avgpool(x), 1))  # N x 4096
        return x if pre_logits else self.classifier[6](x)


def _init_weights(model: nn.Module) -> None:
    # torchvision's initialisation, so training from scratch behaves as users expect.
    if is_meta(model):
        return
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)


def _vgg(cfg: str, batch_norm: bool, num_classes: int, in_chans: int, dropout: float) -> VGG:
    return VGG(
        CFGS[cfg],
        batch_norm=batch_norm,
        num_classes=num_classes,
        in_chans=in_chans,
        dropout=dropout,
    )


@register_model(**_meta())
def vgg11(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-11 (configuration A): 8 conv3 layers and 3 fully connected ones."""
    return _vgg("A", False, num_classes, in_chans, dropout)


@register_model(**_meta())
def vgg11_bn(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-11 (configuration A) with BatchNorm after every convolution."""
    return _vgg("A", True, num_classes, in_chans, dropout)


@register_model(**_meta())
def vgg13(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-13 (configuration B): 10 conv3 layers and 3 fully connected ones."""
    return _vgg("B", False, num_classes, in_chans, dropout)


@register_model(**_meta())
def vgg13_bn(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-13 (configuration B) with BatchNorm after every convolution."""
    return _vgg("B", True, num_classes, in_chans, dropout)


@register_model(**_meta("document 004, section 4 VGGNet (the VGG16 table)"))
def vgg16(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-16 (configuration D): 13 conv3 layers and 3 fully connected ones (document 004)."""
    return _vgg("D", False, num_classes, in_chans, dropout)


@register_model(**_meta())
def vgg16_bn(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-16 (configuration D) with BatchNorm after every convolution."""
    return _vgg("D", True, num_classes, in_chans, dropout)


@register_model(**_meta("document 004, section 7 summary table (its 19.6B is VGG-19's cost)"))
def vgg19(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-19 (configuration E): 16 conv3 layers and 3 fully connected ones."""
    return _vgg("E", False, num_classes, in_chans, dropout)


@register_model(**_meta())
def vgg19_bn(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> VGG:
    """VGG-19 (configuration E) with BatchNorm after every convolution."""
    return _vgg("E", True, num_classes, in_chans, dropout)
