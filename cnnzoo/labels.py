"""Class labels named by the sources of the models (data, not code)."""

from __future__ import annotations

__all__ = ["EMOTION3", "FASHION_MNIST", "FER2013", "MNIST"]

#: Document 000 (SI100B Lab 4): ImageFolder sorts the class folders, so 0 = happy.
EMOTION3: tuple[str, ...] = ("happy", "neutral", "sad")

#: FER2013's label order (the ``emotion`` column of fer2013.csv, 0 to 6).
FER2013: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

MNIST: tuple[str, ...] = tuple(str(d) for d in range(10))

#: Document 002 trains its MLP on FashionMNIST; torchvision's class order.
FASHION_MNIST: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
