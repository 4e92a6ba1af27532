"""GoogLeNet and its inception module: the paper's (true 5x5 branch) and torchvision's."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputShapeError
from ..registry import Source, register_model
from ._base import Classifier, InputSpec, check_dropout, check_positive_int, is_meta

__all__ = [
    "BasicConv2d",
    "GoogLeNet",
    "Inception",
    "googlenet",
    "googlenet_torchvision",
    "inception_block",
]

# The paper's Table 1: in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
INCEPTION_CFGS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


@dataclass(frozen=True)
class Variant:
    """How the paper's network and torchvision's port of it differ."""

    batch_norm: bool  # conv (no bias) + BatchNorm(eps=1e-3) instead of conv with bias
    branch3_kernel: int  # the "5x5" branch: 5 in the paper, 3 in torchvision
    local_response_norm: bool  # the paper's two LocalRespNorm layers in the stem
    pool4_kernel: int  # max-pool before inception (5a): 3x3/2 in the paper, 2x2/2 in torchvision
    dropout: float  # before the classifier: 40 % in the paper, 20 % in torchvision
    min_size: int  # smallest input side that still runs (the 3x3 pool4 needs more)


VARIANTS: dict[str, Variant] = {
    "paper": Variant(batch_norm=False, branch3_kernel=5, local_response_norm=True,
                     pool4_kernel=3, dropout=0.4, min_size=31),
    # NOTE: torchvision's "5x5" branch is a 3x3 conv, a known bug kept for its checkpoints
    # (pytorch/vision#906, #1171, #1927).
    "torchvision": Variant(batch_norm=True, branch3_kernel=3, local_response_norm=False,
                           pool4_kernel=2, dropout=0.2, min_size=15),
}  # fmt: skip

_PAPER = Source(
    "Szegedy et al., Going Deeper with Convolutions (2014)",
    "https://arxiv.org/abs/1409.4842",
    "document 004, section 5 Inception Net (inception (3a))",
)
_IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}


class BasicConv2d(nn.Module):
    """Conv + ReLU (the paper), or conv without bias + BatchNorm + ReLU (torchvision)."""

    def __init__(
        self, in_channels: int, out_channels: int, *, batch_norm: bool, **conv_kwargs: int
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=not batch_norm, **conv_kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001) if batch_norm else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x)


class Inception(nn.Module):
    """An inception module: 1x1, 1x1 -> 3x3, 1x1 -> 5x5 and 3x3 max-pool -> 1x1, concatenated.

    Output channels: ``ch1x1 + ch3x3 + ch5x5 + pool_proj``; height and width are kept.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
        *,
        variant: Variant = VARIANTS["paper"],
    ) -> None:
        super().__init__()
        for arg, value in locals().items():
            if arg not in ("self", "variant", "__class__"):
                check_positive_int(arg, value)
        self.in_channels = in_channels
        bn = variant.batch_norm
        k = variant.branch3_kernel
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1, batch_norm=bn)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1, batch_norm=bn),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1, batch_norm=bn),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1, batch_norm=bn),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=k, padding=k // 2, batch_norm=bn),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1, batch_norm=bn),
        )

    @property
    def default_input_size(self) -> tuple[int, int, int]:
        return (self.in_channels, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise InputShapeError(
                f"this inception module takes input of shape (N, {self.in_channels}, H, W); "
                f"got shape {tuple(x.shape)}. Build it with in_channels={x.shape[1]} if that "
                "is the feature map you have."
                if x.dim() == 4
                else f"this inception module takes a 4-d input (N, {self.in_channels}, H, W); "
                f"got shape {tuple(x.shape)}"
            )
        branches = (self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x))
        return torch.cat(branches, 1)


class GoogLeNet(Classifier):
    """GoogLeNet (Inception v1) without the auxiliary classifiers.

    Module names are torchvision's (``conv1``, ``inception3a.branch2.1.conv``, ``fc``), so the
    torchvision variant loads ``torchvision.models.googlenet(aux_logits=False)`` state_dicts.
    """

    def __init__(
        self,
        variant: Variant,
        *,
        num_classes: int = 1000,
        in_chans: int = 3,
        dropout: float | None = None,
    ) -> None:
        spec = InputSpec(in_chans, 224, variant.min_size)
        super().__init__(num_classes=num_classes, input_spec=spec)
        p = check_dropout("dropout", variant.dropout if dropout is None else dropout)
        bn = variant.batch_norm

        def lrn() -> nn.Module | None:
            # The paper's LocalRespNorm, with the reference Caffe model's settings; no parameters.
            if not variant.local_response_norm:
                return None
            return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

        def inception(name: str) -> Inception:
            return Inception(*INCEPTION_CFGS[name], variant=variant)

        self.conv1 = BasicConv2d(in_chans, 64, kernel_size=7, stride=2, padding=3, batch_norm=bn)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1 = lrn()
        self.conv2 = BasicConv2d(64, 64, kernel_size=1, batch_norm=bn)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1, batch_norm=bn)
        self.lrn2 = lrn()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = inception("3a")
        self.inception3b = inception("3b")
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception("4a")
        self.inception4b = inception("4b")
        self.inception4c = inception("4c")
        self.inception4d = inception("4d")
        self.inception4e = inception("4e")
        self.maxpool4 = nn.MaxPool2d(variant.pool4_kernel, stride=2, ceil_mode=True)
        self.inception5a = inception("5a")
        self.inception5b = inception("5b")
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p)
        self.fc = nn.Linear(1024, num_classes)
        _init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool1(self.conv1(x))  # N x 64 x 56 x 56
        if self.lrn1 is not None:
            x = self.lrn1(x)
        x = self.conv3(self.conv2(x))  # N x 192 x 56 x 56
        if self.lrn2 is not None:
            x = self.lrn2(x)
        x = self.maxpool2(x)  # N x 192 x 28 x 28
        x = self.maxpool3(self.inception3b(self.inception3a(x)))  # N x 480 x 14 x 14
        x = self.inception4c(self.inception4b(self.inception4a(x)))  # N x 512 x 14 x 14
        x = self.maxpool4(self.inception4e(self.inception4d(x)))  # N x 832 x 7 x 7
        return self.inception5b(self.inception5a(x))  # N x 1024 x 7 x 7

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))  # N x 1024
        return x if pre_logits else self.fc(x)


def _init_weights(model: nn.Module) -> None:
    # torchvision's truncated-normal initialisation (std 0.01) for convs and the classifier.
    if is_meta(model):
        return
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


@register_model(
    family="googlenet",
    input_size=(192, 28, 28),
    aliases=("inception", "inception3a"),
    source=_PAPER,
)
def inception_block(
    *,
    in_channels: int = 192,
    ch1x1: int = 64,
    ch3x3red: int = 96,
    ch3x3: int = 128,
    ch5x5red: int = 16,
    ch5x5: int = 32,
    pool_proj: int = 32,
) -> Inception:
    """Inception (3a) with the paper's true 5x5 branch: 192x28x28 -> 256x28x28 (document 004)."""
    return Inception(
        in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, variant=VARIANTS["paper"]
    )


@register_model(
    family="googlenet",
    input_size=(3, 224, 224),
    num_classes=1000,
    aliases=("inception_v1",),
    source=_PAPER,
    **_IMAGENET,
)
def googlenet(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.4) -> GoogLeNet:
    """GoogLeNet as the paper draws it: conv with bias, LRN, true 5x5 branches, no aux heads."""
    return GoogLeNet(VARIANTS["paper"], num_classes=num_classes, in_chans=in_chans, dropout=dropout)


@register_model(
    family="googlenet",
    input_size=(3, 224, 224),
    num_classes=1000,
    aliases=("googlenet_tv",),
    source=Source(
        "torchvision.models.googlenet (Szegedy et al. 2014 with BatchNorm, aux_logits=False)",
        "https://github.com/pytorch/vision/blob/main/torchvision/models/googlenet.py",
    ),
    **_IMAGENET,
)
def googlenet_torchvision(
    *, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.2
) -> GoogLeNet:
    """torchvision's GoogLeNet: BatchNorm, 3x3 in the "5x5" branch; loads its state_dicts."""
    return GoogLeNet(
        VARIANTS["torchvision"], num_classes=num_classes, in_chans=in_chans, dropout=dropout
    )
