"""List cnnzoo's models, read their cards, and build them.

Big models are built on the "meta" device on the quick path (shapes, no weights).

    python examples/list_and_create.py            # builds every model and runs it once
    python examples/list_and_create.py --quick    # seconds (CNNZOO_QUICK=1 does the same)
"""

from __future__ import annotations

import argparse
import os

import torch

import cnnzoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="build big models on meta only")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("CNNZOO_QUICK") == "1"

    # Every registered model, with its card: nothing is built to answer this.
    for name in cnnzoo.list_models():
        card = cnnzoo.model_info(name)
        size = "x".join(map(str, card.input_size))
        print(f"{name:22} {card.family:10} {size:>10} {card.num_params:>12,} params")

    # Patterns and filters, as in timm: fnmatch patterns, a family, exclusions.
    print(cnnzoo.list_models("resnet*"))
    print(cnnzoo.list_models(family="vgg", exclude="*_bn"))

    # One card in full.
    card = cnnzoo.model_info("lenet5")
    print(card.description)
    print("source:", card.source)
    print("input:", card.input_size, "classes:", card.num_classes, card.class_labels)
    print("normalise with mean", card.mean, "std", card.std)
    print(f"{card.num_params:,} parameters, {card.mult_adds:,} mult-adds per image")

    # Build it. Names ignore case, "-" and "_": "LeNet-5" is lenet5.
    model = cnnzoo.create("LeNet-5").eval()
    with torch.no_grad():
        logits = model(torch.randn(2, *card.input_size))  # a batch of 2 images
    print("logits:", tuple(logits.shape))
    print("parameters counted:", sum(p.numel() for p in model.parameters()))

    # Options are keyword arguments of the model's builder.
    model = cnnzoo.create("resnet18", num_classes=10, in_chans=1, device="meta")
    print("resnet18 for 10 grey classes, head:", model.get_classifier())

    # Run each model once at its default input. A big model on the "meta" device has shapes
    # but no weights: it costs no memory and no time, and still checks every shape.
    for name in cnnzoo.list_models():
        card = cnnzoo.model_info(name)
        device = "meta" if quick and card.num_params > 2_000_000 else "cpu"
        model = cnnzoo.create(name, device=device).eval()
        with torch.no_grad():
            out = model(torch.zeros(1, *card.input_size, device=device))
        if tuple(out.shape[1:]) != card.output_size:
            raise SystemExit(f"{name}: output {tuple(out.shape)}, card says {card.output_size}")
        print(f"{name:22} on {device:4}: output {tuple(out.shape)}")

    # A misspelt name is an error that suggests the right one.
    try:
        cnnzoo.create("resnet81")
    except cnnzoo.UnknownModelError as exc:
        print("error, as expected:", exc)


if __name__ == "__main__":
    main()
