"""The CIFAR-10 ResNets of He et al. 2015, section 4.2: resnet20, 32, 44, 56 and 110.

Not ImageNet's ResNet-18 squeezed to 32x32: a 3x3 stem with 16 channels, three stages of ``n``
basic blocks each with 16, 32 and 64 channels on 32x32, 16x16 and 8x8 maps (the first block of
the second and third stage strides by 2), global average pooling and a 10-way fully connected
layer: ``6n + 2`` weighted layers. The shortcuts are the paper's option A (section 3.3): always
the identity; where a stage halves the map and doubles the channels, the identity is subsampled
(every other pixel) and padded with zero channels, so the shortcuts add no parameters.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import Source, register_model
from ._base import Classifier, InputSpec, is_meta

__all__ = [
    "CifarBasicBlock",
    "CifarResNet",
    "PadShortcut",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
]

#: CIFAR-10's class names, in its label order.
CIFAR10 = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

_PAPER = (
    "He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition (2015), section 4.2",
    "https://arxiv.org/abs/1512.03385",
)


class PadShortcut(nn.Module):
    """Option A: the identity, subsampled by ``stride`` and padded with zero channels."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.extra = planes - in_planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        # As many zero channels before as after, the channels of x in the middle.
        return F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))


class CifarBasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm, added to the (option A) shortcut, then ReLU."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = (
            PadShortcut(in_planes, planes, stride)
            if stride != 1 or in_planes != planes
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class CifarResNet(Classifier):
    """``6n + 2`` layers: 3x3 conv (16), three stages of ``n`` blocks (16, 32, 64), global
    average pool, fc. Any input size works (the paper's is 32x32)."""

    def __init__(self, n: int, *, num_classes: int = 10, in_chans: int = 3) -> None:
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, 32, 1))
        self.conv1 = nn.Conv2d(in_chans, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._stage(16, 16, n, stride=1)
        self.layer2 = self._stage(16, 32, n, stride=2)
        self.layer3 = self._stage(32, 64, n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        for m in () if is_meta(self) else self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                # The paper initialises as in He et al. 2015b (section 3.4).
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if not is_meta(self):
            nn.init.zeros_(self.fc.bias)

    @staticmethod
    def _stage(in_planes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = [CifarBasicBlock(in_planes, planes, stride)]
        layers += [CifarBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # N x 16 x 32 x 32
        x = self.layer2(self.layer1(x))  # N x 32 x 16 x 16
        return self.layer3(x)  # N x 64 x 8 x 8

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)


def _meta() -> dict[str, Any]:
    return {
        "family": "resnet_cifar",
        "input_size": (3, 32, 32),
        "num_classes": 10,
        "labels": {10: CIFAR10},
        # CIFAR-10's per-channel mean and standard deviation of the training images.
        "mean": (0.4914, 0.4822, 0.4465),
        "std": (0.2470, 0.2435, 0.2616),
        "source": Source(*_PAPER, "the paper's Table 6 (CIFAR-10), specs/resnet_cifar_paper.toml"),
    }


@register_model(**_meta())
def resnet20(*, num_classes: int = 10, in_chans: int = 3) -> CifarResNet:
    """ResNet-20 for CIFAR-10 (n = 3): 0.27M parameters, 8.75% test error in the paper."""
    return CifarResNet(3, num_classes=num_classes, in_chans=in_chans)


@register_model(**_meta())
def resnet32(*, num_classes: int = 10, in_chans: int = 3) -> CifarResNet:
    """ResNet-32 for CIFAR-10 (n = 5): 0.46M parameters, 7.51% test error in the paper."""
    return CifarResNet(5, num_classes=num_classes, in_chans=in_chans)


@register_model(**_meta())
def resnet44(*, num_classes: int = 10, in_chans: int = 3) -> CifarResNet:
    """ResNet-44 for CIFAR-10 (n = 7): 0.66M parameters, 7.17% test error in the paper."""
    return CifarResNet(7, num_classes=num_classes, in_chans=in_chans)


@register_model(**_meta())
def resnet56(*, num_classes: int = 10, in_chans: int = 3) -> CifarResNet:
    """ResNet-56 for CIFAR-10 (n = 9): 0.85M parameters, 6.97% test error in the paper."""
    return CifarResNet(9, num_classes=num_classes, in_chans=in_chans)


@register_model(**_meta())
def resnet110(*, num_classes: int = 10, in_chans: int = 3) -> CifarResNet:
    """ResNet-110 for CIFAR-10 (n = 18): 1.7M parameters, 6.43% test error in the paper."""
    return CifarResNet(18, num_classes=num_classes, in_chans=in_chans)
