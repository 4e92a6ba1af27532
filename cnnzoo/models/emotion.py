"""The emotion-recognition networks: emotionNet / SI100FaceNet (document 000) and the Keras
FER2013 CNN (document 003)."""

from __future__ import annotations

import itertools
from collections import OrderedDict

import torch
from torch import nn

from ..labels import EMOTION3, FER2013
from ..registry import Source, register_model
from ._base import Classifier, InputSpec, check_dropout

__all__ = ["EmotionNet", "FerCNN", "emotionnet", "fer_cnn"]

# Figure 2 "SI100FaceNet" (recovered from the lab's PDF): (out_channels, kernel, padding) of the
# three conv blocks, each then max-pool 2 and LeakyReLU: 48 -> 48 -> 24 -> 22 -> 11 -> 8 -> 4.
EMOTIONNET_CONVS: tuple[tuple[int, int, int], ...] = ((64, 3, 1), (128, 3, 0), (256, 4, 0))
# The hidden widths are not labelled in the figure; 256 and 64 come from the course template.
EMOTIONNET_HIDDEN: tuple[int, ...] = (256, 64)

# Document 003's table: (filters, kernel) of the four Conv-BN-ReLU-MaxPool-Dropout units, then
# the two Dense-BN-ReLU-Dropout units. 48 -> 24 -> 12 -> 6 -> 3, so 3 * 3 * 32 = 288 features.
FER_CONVS: tuple[tuple[int, int], ...] = ((32, 3), (64, 5), (64, 3), (32, 3))
FER_DENSE: tuple[int, ...] = (256, 512)

_EMOTION_SOURCE = Source(
    "ShanghaiTech SI100B Lab 4, Figure 2 'SI100FaceNet' (emotionNet)",
    None,
    "document 000, Figure 2 (recovered from the lab's PDF; see the reference notes)",
)
_FER_SOURCE = Source(
    "ML2017 FER2013 homework report, Keras CNN (question 1)",
    "https://www.kaggle.com/c/challenges-in-representation-learning-facial-expression-recognition-challenge",
    "document 003, question 1 (the Keras model.summary() table)",
)


class EmotionNet(Classifier):
    """SI100FaceNet: three conv blocks (conv -> max-pool 2 -> LeakyReLU), then three Linear
    layers 4096 -> 256 -> 64 -> classes.

    ``forward`` returns plain logits. The lab text asks for a LeakyReLU after *every* layer,
    the output one included; ``output_activation=True`` adds it (``act6``), as the lab's
    solutions do. Pooling before the activation equals the other order exactly, since LeakyReLU
    is monotonic.
    """

    head_name = "fc3"

    def __init__(
        self,
        *,
        num_classes: int = 3,
        in_chans: int = 3,
        negative_slope: float = 0.01,
        output_activation: bool = False,
    ) -> None:
        # 48 to 55 pixels a side all end in the same 4 x 4 map (see EMOTIONNET_CONVS).
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, 48, 48, 55))
        self.output_activation = output_activation
        chans = in_chans
        for i, (out, k, p) in enumerate(EMOTIONNET_CONVS, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(chans, out, k, stride=1, padding=p))
            setattr(self, f"pool{i}", nn.MaxPool2d(2))
            setattr(self, f"act{i}", nn.LeakyReLU(negative_slope))
            chans = out
        self.flatten = nn.Flatten()
        widths = (chans * 4 * 4, *EMOTIONNET_HIDDEN, num_classes)
        for i, (a, b) in enumerate(itertools.pairwise(widths), start=1):
            setattr(self, f"fc{i}", nn.Linear(a, b))
            if i < len(widths) - 1:
                setattr(self, f"act{len(EMOTIONNET_CONVS) + i}", nn.LeakyReLU(negative_slope))
        if output_activation:
            self.act6 = nn.LeakyReLU(negative_slope)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.pool1(self.conv1(x)))  # N x 64 x 24 x 24
        x = self.act2(self.pool2(self.conv2(x)))  # N x 128 x 11 x 11
        return self.act3(self.pool3(self.conv3(x)))  # N x 256 x 4 x 4

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.act4(self.fc1(self.flatten(x)))  # N x 256
        x = self.act5(self.fc2(x))  # N x 64
        if pre_logits:
            return x
        x = self.fc3(x)
        return self.act6(x) if self.output_activation else x


class FerCNN(Classifier):
    """Document 003's Keras FER2013 model in PyTorch (``padding="same"``).

    NOTE: BatchNorm uses Keras' defaults translated (``eps=1e-3``, ``momentum=0.01``). Keras'
    summary counts BatchNorm's moving mean and variance as (non-trainable) parameters; PyTorch
    keeps them as buffers, so this model has 318,055 parameters where Keras prints 319,975.
    """

    head_name = "out"

    def __init__(self, *, num_classes: int = 7, in_chans: int = 1, dropout: float = 0.25) -> None:
        # 48 to 63 pixels a side all pool down to the 3 x 3 map the first Dense layer expects.
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, 48, 48, 63))
        p = check_dropout("dropout", dropout)
        chans = in_chans
        for i, (filters, k) in enumerate(FER_CONVS):
            unit = OrderedDict(
                conv=nn.Conv2d(chans, filters, k, padding="same"),
                bn=nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
                relu=nn.ReLU(),
                pool=nn.MaxPool2d(2),
                drop=nn.Dropout(p),
            )
            setattr(self, f"conv{i}", nn.Sequential(unit))
            chans = filters
        self.flatten = nn.Flatten()
        width = chans * 3 * 3
        for i, units in enumerate(FER_DENSE):
            dense = OrderedDict(
                fc=nn.Linear(width, units),
                bn=nn.BatchNorm1d(units, eps=1e-3, momentum=0.01),
                relu=nn.ReLU(),
                drop=nn.Dropout(p),
            )
            setattr(self, f"dense{i}", nn.Sequential(dense))
            width = units
        self.out = nn.Linear(width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(x))  # N x 64 x 12 x 12
        return self.conv3(self.conv2(x))  # N x 32 x 3 x 3

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dense1(self.dense0(self.flatten(x)))  # N x 512
        # The Keras model ends in softmax; cnnzoo returns logits for CrossEntropyLoss.
        return x if pre_logits else self.out(x)


@register_model(
    family="emotion",
    input_size=(3, 48, 48),
    num_classes=3,
    aliases=("si100facenet",),
    labels={3: EMOTION3, 7: FER2013},
    # The course's utility.py: ToTensor() then Normalize((0.5,) * 3, (0.5,) * 3) -> [-1, 1].
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
    source=_EMOTION_SOURCE,
)
def emotionnet(
    *,
    num_classes: int = 3,
    in_chans: int = 3,
    negative_slope: float = 0.01,
    output_activation: bool = False,
) -> EmotionNet:
    """emotionNet / SI100FaceNet, 3x48x48 faces -> happy, neutral, sad (document 000, Figure 2)."""
    return EmotionNet(
        num_classes=num_classes,
        in_chans=in_chans,
        negative_slope=negative_slope,
        output_activation=output_activation,
    )


@register_model(
    family="emotion",
    input_size=(1, 48, 48),
    num_classes=7,
    aliases=("fer2013_cnn",),
    labels={7: FER2013},
    source=_FER_SOURCE,
)
def fer_cnn(*, num_classes: int = 7, in_chans: int = 1, dropout: float = 0.25) -> FerCNN:
    """Keras FER2013 CNN: four Conv-BN-ReLU-MaxPool-Dropout units, two Dense (document 003)."""
    return FerCNN(num_classes=num_classes, in_chans=in_chans, dropout=dropout)
