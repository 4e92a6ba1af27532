"""LeNet-5 (documents 004 and 001) and the FashionMNIST MLP of document 002."""

from __future__ import annotations

import torch
from torch import nn

from ..labels import FASHION_MNIST, MNIST
from ..registry import Source, register_model
from ._base import Classifier, InputSpec, check_positive_int

__all__ = ["MLP", "LeNet5", "lenet5", "lenet5_3x3", "mlp"]

# kernel size of both convolutions -> (side of the last feature map, accepted input range).
# 32 -> 28 -> 14 -> 10 -> 5 with 5x5 kernels; 32 -> 30 -> 15 -> 13 -> 6 with 3x3 ones, where
# floor(13 / 2) = 6 gives fc1 its 576 inputs. The ranges are every side that gives that map.
CFGS: dict[str, dict[str, int]] = {
    "lenet5": {"kernel_size": 5, "feature_side": 5, "min_size": 32, "max_size": 35},
    "lenet5_3x3": {"kernel_size": 3, "feature_side": 6, "min_size": 30, "max_size": 33},
}

_LECUN = Source(
    "LeCun, Bottou, Bengio & Haffner, Gradient-Based Learning Applied to Document "
    "Recognition (1998)",
    "https://doi.org/10.1109/5.726791",
)


class LeNet5(Classifier):
    """LeNet-5 as the course labs write it: ReLU and max-pooling instead of 1998's tanh and
    sub-sampling, and C5 as a Linear layer (same 48,120 parameters on a 5x5 map).

    Module names are the labs' (``conv1``, ``conv2``, ``fc1``..``fc3``), so a state_dict saved
    from the labs' ``Net`` loads as it is.
    """

    head_name = "fc3"

    def __init__(
        self,
        *,
        kernel_size: int = 5,
        feature_side: int = 5,
        min_size: int = 32,
        max_size: int = 35,
        num_classes: int = 10,
        in_chans: int = 1,
    ) -> None:
        spec = InputSpec(in_chans, 32, min_size, max_size)
        super().__init__(num_classes=num_classes, input_spec=spec)
        self.conv1 = nn.Conv2d(in_chans, 6, kernel_size)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2, 2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * feature_side * feature_side, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))  # N x 6 x 14 x 14 (5x5 kernels)
        return self.pool2(self.relu2(self.conv2(x)))  # N x 16 x 5 x 5

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.relu4(self.fc2(self.relu3(self.fc1(self.flatten(x)))))  # N x 84
        return x if pre_logits else self.fc3(x)


class MLP(Classifier):
    """Document 002's ``NeuralNetwork``: Flatten, 784-512-512-10 with ReLU.

    Module names are the document's (``flatten``, ``linear_relu_stack``), so its state_dict loads.
    """

    head_name = "linear_relu_stack.4"

    def __init__(self, *, num_classes: int = 10, in_chans: int = 1, hidden: int = 512) -> None:
        super().__init__(num_classes=num_classes, input_spec=InputSpec(in_chans, 28, 28, 28))
        check_positive_int("hidden", hidden)
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(in_chans * 28 * 28, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_relu_stack[:4](self.flatten(x))  # N x 512

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return x if pre_logits else self.linear_relu_stack[4](x)


def _lenet(variant: str, num_classes: int, in_chans: int) -> LeNet5:
    return LeNet5(**CFGS[variant], num_classes=num_classes, in_chans=in_chans)


@register_model(
    family="lenet",
    input_size=(1, 32, 32),
    num_classes=10,
    aliases=("lenet",),
    labels={10: MNIST},
    # NOTE: document 004 normalises MNIST with mean 0.1307 and a std cut off in the text;
    # 0.3081 is MNIST's usual std that goes with that mean.
    mean=(0.1307,),
    std=(0.3081,),
    source=Source(
        _LECUN.citation, _LECUN.url, "document 004, section 3.4 (MNIST resized to 32x32)"
    ),
)
def lenet5(*, num_classes: int = 10, in_chans: int = 1) -> LeNet5:
    """LeNet-5 with 5x5 convolutions, 32x32 grey input (document 004, LeCun et al. 1998)."""
    return _lenet("lenet5", num_classes, in_chans)


@register_model(
    family="lenet",
    input_size=(1, 32, 32),
    num_classes=10,
    source=Source(
        "PyTorch tutorial 'Neural Networks' (LeNet with 3x3 convolutions)",
        "https://pytorch.org/tutorials/beginner/blitz/neural_networks_tutorial.html",
        "document 001, section II (Lab 6): 'the input's size can be from 30 to 33'",
    ),
)
def lenet5_3x3(*, num_classes: int = 10, in_chans: int = 1) -> LeNet5:
    """LeNet with 3x3 convolutions and a 576-input fc1, 30 to 33 pixel input (document 001)."""
    return _lenet("lenet5_3x3", num_classes, in_chans)


@register_model(
    family="mlp",
    input_size=(1, 28, 28),
    num_classes=10,
    labels={10: FASHION_MNIST},
    # Document 002 applies ToTensor() only: pixels in [0, 1], no normalisation.
    mean=(0.0,),
    std=(1.0,),
    source=Source(
        "PyTorch 'Quickstart' NeuralNetwork on FashionMNIST",
        "https://pytorch.org/tutorials/beginner/basics/quickstart_tutorial.html",
        "document 002 (CS 4391 Convolutional Neural Networks III, PyTorch example)",
    ),
)
def mlp(*, num_classes: int = 10, in_chans: int = 1) -> MLP:
    """Three fully connected layers 784-512-512-10 for 28x28 FashionMNIST (document 002)."""
    return MLP(num_classes=num_classes, in_chans=in_chans)
