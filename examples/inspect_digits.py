"""Look inside a small trained network: predictions, a saliency map and feature maps.

Trains LeNet-5 on scikit-learn's handwritten digits (1,797 real 8x8 scans, shipped with
scikit-learn, so nothing is downloaded), saves a checkpoint the way ``cnnzoo train`` does, then
asks it about two held-out digits saved as PNG files, named after their label (the seed is
fixed, so they are always ``digit_6.png`` and ``digit_5.png``):

    cnnzoo predict digits_lenet5.pth digit_6.png digit_5.png --topk 3
    cnnzoo explain digits_lenet5.pth digit_6.png              # saliency + conv2's maps
    cnnzoo explain digits_lenet5.pth digit_6.png --layer conv1

It writes, in ``--out``: ``digits_lenet5.pth``, ``digit_6.png``, ``digit_5.png``,
``digit_6_saliency.png``, ``digit_6_features_conv2.png`` and ``digit_6_features_conv1.png``.
With ``--docs DIR`` (created if needed) the three pictures are also copied there as
``inspect_saliency.png``, ``inspect_features_conv2.png`` and ``inspect_features_conv1.png``.

The pictures of docs/guide/inspect.md were made with ``python examples/inspect_digits.py
--out /tmp/digits --docs docs/guide/img``. ``--quick`` (or ``CNNZOO_QUICK=1``) trains for one
epoch only (the path CI runs).
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torch import nn

import cnnzoo
from cnnzoo.checkpoint import save_checkpoint
from cnnzoo.preprocess import preprocess_for


def digits_as_images() -> tuple[list[Image.Image], np.ndarray]:
    """The digits as 8x8 grey PIL images (0..16 scaled to 0..255) and their labels."""
    data = load_digits()
    pixels = (data.images * (255.0 / 16.0)).round().astype(np.uint8)
    return [Image.fromarray(p) for p in pixels], data.target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for the checkpoint and pictures")
    parser.add_argument("--epochs", type=int, help="training epochs (default 8; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="one epoch only (seconds)")
    parser.add_argument("--docs", help="also copy the pictures here as inspect_*.png")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("CNNZOO_QUICK") == "1"
    epochs = args.epochs if args.epochs is not None else (1 if quick else 8)
    if epochs < 1:
        parser.error(f"--epochs must be at least 1, got {epochs}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    docs = Path(args.docs) if args.docs else None
    if docs is not None:
        docs.mkdir(parents=True, exist_ok=True)  # before training, so a bad path fails at once
    torch.manual_seed(0)

    images, targets = digits_as_images()
    pre = preprocess_for("lenet5")  # 1 x 32 x 32, MNIST's mean and std
    # Decode once: every image resized to 32x32 exactly as `cnnzoo predict` will resize it.
    x = pre.normalize(torch.stack([pre.image_to_uint8(im) for im in images]))
    y = torch.from_numpy(targets).long()
    order = torch.randperm(len(y))
    test_idx, train_idx = order[:300], order[300:]

    model = cnnzoo.create("lenet5", num_classes=10)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(1, epochs + 1):
        model.train()
        for batch in train_idx[torch.randperm(len(train_idx))].split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x[test_idx]).argmax(1) == y[test_idx]).float().mean().item()
        print(f"epoch {epoch}: held-out accuracy {acc:.1%}")

    ckpt = out / "digits_lenet5.pth"
    labels = [str(d) for d in range(10)]
    save_checkpoint(
        ckpt,
        model,
        model_name="lenet5",
        model_kwargs={"num_classes": 10},
        labels=labels,
        preprocess=pre.to_dict(),
        epoch=epochs,
    )
    print(f"saved {ckpt}")

    # Two held-out digits as PNG files, as a user would have them.
    files = []
    for i in test_idx[:2].tolist():
        path = out / f"digit_{targets[i]}.png"
        images[i].save(path)
        files.append(path)

    for p in cnnzoo.predict(ckpt, files, topk=3):
        ranked = ", ".join(f"{label} {prob:.3f}" for label, prob in p.topk)
        print(f"{p.path}: {ranked}")
    for layer in (None, "conv1"):
        result = cnnzoo.explain(ckpt, files[0], layer=layer, out_dir=out)
        print(f"explain {files[0]} ({result.layer}): {result.label} {result.probability:.3f}")
        for f in result.files:
            print(f"  wrote {f}")
            if docs is not None:
                # digit_6_saliency.png -> inspect_saliency.png: stable names for the docs.
                shutil.copyfile(f, docs / ("inspect" + f.name[len(files[0].stem) :]))


if __name__ == "__main__":
    main()
