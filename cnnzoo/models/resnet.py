"""ResNet 18/34/50/101/152 (He et al. 2015) in torchvision's layout (document 004)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..registry import Source, register_model
from ._base import Classifier, InputSpec, is_meta

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with BatchNorm and an identity (or 1x1 projection) shortcut."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), with the stride on the 3x3 conv.

    NOTE: the paper strides the first 1x1 conv; torchvision ("ResNet v1.5") strides the 3x3, which
    is what its checkpoints expect. Parameter counts are the same.
    """

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        width = planes
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


# Block type and blocks per stage (conv2_x .. conv5_x), the paper's Table 1.
CFGS: dict[str, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
    "resnet101": (Bottleneck, (3, 4, 23, 3)),
    "resnet152": (Bottleneck, (3, 8, 36, 3)),
}

_PAPER = (
    "He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition (2015)",
    "https://arxiv.org/abs/1512.03385",
)


def _meta(document: str | None = None) -> dict[str, Any]:
    """Registration data of a ResNet; ``document`` names the course table that draws it."""
    return {
        "family": "resnet",
        "input_size": (3, 224, 224),
        "num_classes": 1000,
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        "source": Source(*_PAPER, document),
    }


class ResNet(Classifier):
    """ResNet: 7x7/2 stem, max-pool, four stages of residual blocks, global average pool, fc.

    Module names are torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``, ``downsample``,
    ``fc``), so torchvision state_dicts load with ``strict=True``.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        *,
        num_classes: int = 1000,
        in_chans: int = 3,
    ) -> None:
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, 224, 1))
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in () if is_meta(self) else self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, blocks: int, stride: int = 1
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            # The 1x1 projection shortcut the document's ResNet18 table leaves out.
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # N x 64 x 56 x 56
        x = self.layer2(self.layer1(x))  # N x 128 (or 512) x 28 x 28
        return self.layer4(self.layer3(x))  # N x 512 (or 2048) x 7 x 7

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)


def _resnet(variant: str, num_classes: int, in_chans: int) -> ResNet:
    block, layers = CFGS[variant]
    return ResNet(block, layers, num_classes=num_classes, in_chans=in_chans)


@register_model(**_meta("document 004, section 6 ResNet (the ResNet18 table)"))
def resnet18(*, num_classes: int = 1000, in_chans: int = 3) -> ResNet:
    """ResNet-18: BasicBlocks (2, 2, 2, 2), 1x1 projection shortcuts (document 004's table)."""
    return _resnet("resnet18", num_classes, in_chans)


@register_model(**_meta())
def resnet34(*, num_classes: int = 1000, in_chans: int = 3) -> ResNet:
    """ResNet-34: BasicBlocks (3, 4, 6, 3)."""
    return _resnet("resnet34", num_classes, in_chans)


@register_model(**_meta())
def resnet50(*, num_classes: int = 1000, in_chans: int = 3) -> ResNet:
    """ResNet-50: Bottlenecks (3, 4, 6, 3), stride on the 3x3 conv as in torchvision."""
    return _resnet("resnet50", num_classes, in_chans)


@register_model(**_meta())
def resnet101(*, num_classes: int = 1000, in_chans: int = 3) -> ResNet:
    """ResNet-101: Bottlenecks (3, 4, 23, 3)."""
    return _resnet("resnet101", num_classes, in_chans)


@register_model(**_meta("document 004, section 7 summary table (ResNet-152)"))
def resnet152(*, num_classes: int = 1000, in_chans: int = 3) -> ResNet:
    """ResNet-152: Bottlenecks (3, 8, 36, 3) (document 004's summary table)."""
    return _resnet("resnet152", num_classes, in_chans)
