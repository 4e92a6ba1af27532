"""Train emotionNet on a folder of faces and save ``face_expression.pth``, as the emotion lab does.

The lab's dataset is a folder tree of 48x48 grey faces, ``DIR/train/<emotion>/*.png`` and
``DIR/test/<emotion>/*.png`` with the emotions happy, neutral and sad. This script is the lab's
loop, written out so it can be read: load the images, then for 10 epochs shuffle, cut batches,
forward, loss, backward, step; validate on the test images; save the weights.

``cnnzoo train emotionnet --data folder:DIR --epochs 10`` does all of this (and writes the
history, the plots and a resumable checkpoint); this file shows what it does.

    python examples/train_emotion_classifier.py DIR          # the lab: 10 epochs on DIR
    python examples/train_emotion_classifier.py --quick      # 4 epochs on generated faces

With ``--quick`` (or ``CNNZOO_QUICK=1``) and no DIR it draws a tiny dataset of cartoon faces
(mouth up, flat or down) in a temporary directory, so it runs anywhere in seconds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

import cnnzoo
from cnnzoo.checkpoint import save_checkpoint
from cnnzoo.data import load_data
from cnnzoo.preprocess import preprocess_for
from cnnzoo.training import pick_device

EMOTIONS = ("happy", "neutral", "sad")


def draw_faces(root: Path, per_class: int, seed: int = 0) -> Path:
    """Cartoon faces in the lab's layout: a mouth that curves up, stays flat or curves down."""
    from PIL import Image, ImageDraw

    g = torch.Generator().manual_seed(seed)
    for split, count in (("train", per_class), ("test", max(2, per_class // 4))):
        for label, emotion in enumerate(EMOTIONS):
            folder = root / split / emotion
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                dx, dy = (torch.randint(-3, 4, (2,), generator=g)).tolist()
                img = Image.new("L", (48, 48), color=int(torch.randint(20, 60, (1,), generator=g)))
                d = ImageDraw.Draw(img)
                d.ellipse((6 + dx, 4 + dy, 42 + dx, 44 + dy), fill=170)  # the face
                d.ellipse((15 + dx, 15 + dy, 19 + dx, 19 + dy), fill=30)  # the eyes
                d.ellipse((29 + dx, 15 + dy, 33 + dx, 19 + dy), fill=30)
                box = (15 + dx, 24 + dy, 33 + dx, 36 + dy)
                if label == 0:
                    d.arc(box, 20, 160, fill=30, width=2)  # smile
                elif label == 1:
                    d.line((16 + dx, 31 + dy, 32 + dx, 31 + dy), fill=30, width=2)
                else:
                    d.arc((box[0], box[1] + 8, box[2], box[3] + 8), 200, 340, fill=30, width=2)
                img.save(folder / f"{i:03d}.png")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", help="the lab's folder (DIR/train, DIR/test)")
    parser.add_argument("--quick", action="store_true", help="4 epochs, generated faces")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="face_expression.pth")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("CNNZOO_QUICK") == "1"
    epochs = 4 if quick else args.epochs
    with tempfile.TemporaryDirectory() as tmp:
        if args.data is None:
            if not quick:
                parser.error("give the dataset folder, or --quick for generated faces")
            data_dir = draw_faces(Path(tmp), per_class=24)
            print(f"no dataset given: drew cartoon faces in {data_dir}")
        else:
            data_dir = Path(args.data)
        train_and_save(data_dir, epochs, Path(args.out))


def train_and_save(data_dir: Path, epochs: int, out: Path) -> None:
    torch.manual_seed(0)
    device = pick_device("auto")  # cuda, then mps, then cpu

    # The lab's transforms (grey faces read as 3 channels, 48x48, normalised to [-1, 1]) come
    # from the model card; every image is decoded once into a uint8 tensor.
    pre = preprocess_for("emotionnet")
    data = load_data(f"folder:{data_dir}", pre)
    print(f"classes: {data.classes}; {len(data.train)} training and "
          f"{0 if data.test is None else len(data.test)} test images")  # fmt: skip

    model = cnnzoo.create("emotionnet", num_classes=len(data.classes)).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch_size = 16

    # --8<-- [start:train_loop]
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(data.train))  # shuffle every epoch
        running_loss, correct = 0.0, 0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            images = pre.normalize(data.train.images[idx]).to(device)
            labels = data.train.labels[idx].to(device)
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(idx)
            correct += (outputs.argmax(1) == labels).sum().item()
        line = (
            f"epoch {epoch}/{epochs}: loss {running_loss / len(order):.4f}, "
            f"accuracy {correct / len(order):.3f}"
        )
        if data.test is not None:
            model.eval()
            with torch.no_grad():
                outputs = model(pre.normalize(data.test.images).to(device))
            test_acc = (outputs.argmax(1).cpu() == data.test.labels).float().mean().item()
            line += f", test accuracy {test_acc:.3f}"
        print(line)
    # --8<-- [end:train_loop]

    # The lab saves the state_dict as face_expression.pth. A cnnzoo checkpoint is that
    # state_dict plus the labels and preprocessing, so `cnnzoo predict face_expression.pth
    # face.png` and cnnzoo.create("emotionnet", weights=...) know what the outputs mean.
    save_checkpoint(
        out,
        model,
        model_name="emotionnet",
        model_kwargs={"num_classes": len(data.classes)},
        labels=list(data.classes),
        preprocess=pre.to_dict(),
    )
    print(f"saved {out}")
    reloaded = cnnzoo.create("emotionnet", weights=out)
    print(f"reloaded: {type(reloaded).__name__} with {reloaded.num_classes} classes")


if __name__ == "__main__":
    main()
