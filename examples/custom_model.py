"""Register your own model with cnnzoo and use it like a built-in one.

A model is a builder function with the ``@cnnzoo.register_model`` decorator. Once the module
that holds it is imported, ``cnnzoo.create``, ``cnnzoo.model_info`` and ``cnnzoo.list_models``
know it: the card's parameter count and mult-adds are measured on first use.

The model here is a small CNN for scikit-learn's 8x8 handwritten digits (bundled with
scikit-learn, nothing to download), trained for a few epochs at the end.

    python examples/custom_model.py            # ten epochs (about ten seconds on 2 cores)
    python examples/custom_model.py --quick    # one epoch on a few hundred images (CNNZOO_QUICK=1)
"""

from __future__ import annotations

import argparse
import os

import torch
from torch import nn

import cnnzoo
from cnnzoo.models import Classifier, InputSpec


# Subclassing cnnzoo's Classifier is optional (any nn.Module works), but it brings the checks
# and methods of the built-in models: the input guard with its clear error, forward_features /
# forward_head, get_classifier and reset_classifier.
class DigitNet(Classifier):
    """Two 3x3 conv blocks, a global average pool and a linear head."""

    head_name = "fc"  # the final nn.Linear, which reset_classifier replaces

    def __init__(self, *, num_classes: int = 10, in_chans: int = 1, width: int = 16) -> None:
        # Default 8x8; the adaptive pool lets anything from 4x4 up through. Classifier checks
        # num_classes and in_chans and keeps the spec for its input guard.
        spec = InputSpec(channels=in_chans, default_size=8, min_size=4)
        super().__init__(num_classes=num_classes, input_spec=spec)
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # N x width x 4 x 4
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),  # N x 2*width x 1 x 1
            nn.Flatten(),
        )
        self.fc = nn.Linear(2 * width, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return x if pre_logits else self.fc(x)


# The decorator registers the builder under its function name. Options must be keyword
# arguments; the first line of the docstring becomes the description `cnnzoo list` shows.
@cnnzoo.register_model(
    family="examples",
    input_size=(1, 8, 8),
    num_classes=10,
    labels={10: tuple(str(d) for d in range(10))},
    source=cnnzoo.Source("cnnzoo's examples/custom_model.py"),
)
def digit_net(*, num_classes: int = 10, in_chans: int = 1, width: int = 16) -> DigitNet:
    """A small CNN for scikit-learn's 8x8 digits."""
    return DigitNet(num_classes=num_classes, in_chans=in_chans, width=width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short epoch (a second)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("CNNZOO_QUICK") == "1"

    # The registry knows the new model, under any spelling of its name.
    print("models in family 'examples':", cnnzoo.list_models(family="examples"))
    card = cnnzoo.model_info("Digit-Net")
    print(f"{card.name}: {card.description}")
    print(
        f"  input {card.input_size}, {card.num_params:,} parameters, {card.mult_adds:,} mult-adds"
    )

    # Its options are checked like a built-in model's: a misspelt keyword is an error that
    # names the keywords the builder takes, before anything is built.
    try:
        cnnzoo.create("digit_net", widht=8)
    except cnnzoo.UnknownArgumentError as exc:
        print("error, as expected:", exc)

    # Train it on the digits. X holds 8x8 images with values 0..16.
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # N x 1 x 8 x 8
    y = torch.tensor(digits.target)
    perm = torch.randperm(len(x))
    train, test = perm[:1500], perm[1500:]
    if quick:
        train = train[:384]
    epochs = 1 if quick else 10

    model = cnnzoo.create("digit_net", width=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        model.train()
        for batch in train[torch.randperm(len(train))].split(64):
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x[test]).argmax(1) == y[test]).float().mean().item()
        print(f"epoch {epoch:2d}: loss {loss.item():.3f}, test accuracy {accuracy:.1%}")


if __name__ == "__main__":
    main()
