"""AlexNet: the document 004 table (96 channels, no groups, 227 input) and torchvision's."""

from __future__ import annotations

import torch
from torch import nn

from ..registry import Source, register_model
from ._base import Classifier, InputSpec, check_dropout

__all__ = ["AlexNet", "alexnet", "alexnet_torchvision"]

# (out_channels, kernel, stride, padding) per conv; "M" = max-pool 3x3 stride 2.
CFGS: dict[str, list[tuple[int, int, int, int] | str]] = {
    # Document 004's table: 227 -> 55 -> 27 -> 27 -> 13 -> 13 -> 13 -> 13 -> 6.
    "alexnet": [(96, 11, 4, 0), "M", (256, 5, 1, 2), "M",
                (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1), "M"],
    # torchvision's (from "One weird trick", Krizhevsky 2014): 224 -> 55 -> 27 -> ... -> 6.
    "alexnet_torchvision": [(64, 11, 4, 2), "M", (192, 5, 1, 2), "M",
                            (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1), "M"],
}  # fmt: skip

_PAPER = (
    "Krizhevsky, Sutskever & Hinton, ImageNet Classification with Deep Convolutional Neural "
    "Networks (2012)",
    "https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class AlexNet(Classifier):
    """AlexNet in torchvision's layout (``features``, ``avgpool``, ``classifier``).

    With ``adaptive_pool=False`` there is no ``avgpool``: the last feature map must be 6 x 6
    for fc6's 9216 inputs, so the input range is fixed (227 to 258 pixels for the document's
    table). NOTE: neither variant has the paper's local response normalisation or its two-GPU
    grouped convolutions (the document's table ignores both too).
    """

    head_name = "classifier.6"

    def __init__(
        self,
        cfg: list[tuple[int, int, int, int] | str],
        *,
        adaptive_pool: bool,
        input_spec: tuple[int, int, int | None],
        num_classes: int = 1000,
        in_chans: int = 3,
        dropout: float = 0.5,
    ) -> None:
        default, lo, hi = input_spec
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, default, lo, hi))
        p = check_dropout("dropout", dropout)
        layers: list[nn.Module] = []
        chans = in_chans
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=3, stride=2))
            else:
                out, k, s, pad = v  # type: ignore[misc]
                layers += [nn.Conv2d(chans, out, k, stride=s, padding=pad), nn.ReLU(inplace=True)]
                chans = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6)) if adaptive_pool else None
        self.classifier = nn.Sequential(
            nn.Dropout(p),
            nn.Linear(chans * 6 * 6, 4096),  # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p),
            nn.Linear(4096, 4096),  # fc7
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),  # fc8
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # N x 256 x 6 x 6 at the default input

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if self.avgpool is not None:
            x = self.avgpool(x)
        x = self.classifier[:6](torch.flatten(x, 1))  # N x 4096
        return x if pre_logits else self.classifier[6](x)


@register_model(
    family="alexnet",
    input_size=(3, 227, 227),
    num_classes=1000,
    mean=_IMAGENET_MEAN,
    std=_IMAGENET_STD,
    source=Source(*_PAPER, "document 004, section 3.10 (the AlexNet table, 227x227x3 input)"),
)
def alexnet(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> AlexNet:
    """AlexNet as document 004's table draws it: 96-256-384-384-256 channels, 227x227 input."""
    return AlexNet(
        CFGS["alexnet"],
        adaptive_pool=False,
        input_spec=(227, 227, 258),
        num_classes=num_classes,
        in_chans=in_chans,
        dropout=dropout,
    )


@register_model(
    family="alexnet",
    input_size=(3, 224, 224),
    num_classes=1000,
    aliases=("alexnet_tv",),
    mean=_IMAGENET_MEAN,
    std=_IMAGENET_STD,
    source=Source(
        "Krizhevsky, One weird trick for parallelizing convolutional neural networks (2014), "
        "as torchvision.models.alexnet",
        "https://arxiv.org/abs/1404.5997",
    ),
)
def alexnet_torchvision(
    *, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5
) -> AlexNet:
    """torchvision's AlexNet: 64-192-384-256-256 channels, adaptive pool, loads its state_dicts."""
    return AlexNet(
        CFGS["alexnet_torchvision"],
        adaptive_pool=True,
        input_spec=(224, 63, None),
        num_classes=num_classes,
        in_chans=in_chans,
        dropout=dropout,
    )
