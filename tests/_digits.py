"""Small real and generated datasets written to disk for tests (no network).

``sklearn.datasets.load_digits`` is a real handwritten-digits set (1,797 images of 8x8, values
0..16). These helpers write it in the layouts ``cnnzoo.load_data`` reads, plus a small FER2013
csv and a learnable 3-class "emotion" folder dataset.
"""

from __future__ import annotations

import csv
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "EMOTIONS",
    "digits_arrays",
    "digits_split",
    "write_cifar10",
    "write_digits_folder",
    "write_digits_mnist",
    "write_emotion_folder",
    "write_fer_csv",
    "write_idx",
]

EMOTIONS = ("happy", "neutral", "sad")

#: The kinds of bad row ``write_fer_csv(bad=...)`` can write.
FER_BAD_KINDS = ("columns", "count", "nonint", "emotion", "range", "usage")


def digits_arrays(size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's digits as uint8 ``(1797, S, S)`` (0..16 scaled to 0..255) and int64 labels.

    ``size`` upscales with PIL's bilinear resize (None keeps 8x8); this is exactly what the
    writers below store, so tests can compare what ``load_data`` reads with it.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    if size is not None and size != images.shape[-1]:
        images = np.stack(
            [
                np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BILINEAR))
                for im in images
            ]
        )
    return images, digits.target.astype(np.int64)


def digits_split(
    n: int, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded random train/test split of ``n`` items."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(n * test_fraction)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _limit(labels: np.ndarray, index: np.ndarray, n_per_class: int | None) -> np.ndarray:
    if n_per_class is None:
        return index
    keep = [index[labels[index] == c][:n_per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def write_digits_folder(
    root: str | Path,
    *,
    size: int | None = None,
    n_per_class: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Path:
    """Write the digits as an ImageFolder tree ``root/{train,test}/<digit>/<index>.png``.

    Args:
        root: where to write (created).
        size: side of the PNGs (None: the original 8x8).
        n_per_class: at most this many images per class and split (None: all).
        test_fraction: share of the images that go to ``test/``.
        seed: seed of the split.

    Returns:
        ``root``, for ``folder:ROOT``. File names are the index in ``load_digits()``.
    """
    from PIL import Image

    root = Path(root)
    images, labels = digits_arrays(size)
    train, test = digits_split(len(labels), test_fraction, seed)
    for split, index in (("train", train), ("test", test)):
        for i in _limit(labels, index, n_per_class):
            folder = root / split / str(labels[i])
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(folder / f"{i:04d}.png")
    return root


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an (uncompressed) idx file, MNIST's format."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        # magic: two zero bytes, type 0x08 (uint8), number of dimensions; then big-endian sizes
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.tobytes())
    return path


def write_mnist_raw(
    root: str | Path,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    folder: str = "MNIST",
) -> Path:
    """Write images (N, 28, 28) and labels (N,) as torchvision's ``root/<folder>/raw/`` files."""
    raw = Path(root) / folder / "raw"
    for prefix, (images, labels) in (("train", train), ("t10k", test)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return Path(root)


def write_digits_mnist(
    root: str | Path, *, folder: str = "MNIST", test_fraction: float = 0.2, seed: int = 0
) -> Path:
    """Write the digits upscaled to 28x28 as MNIST idx files in ``root/<folder>/raw/``.

    ``folder="FashionMNIST"`` writes the layout ``fashion-mnist:`` reads. Returns ``root``, for
    ``mnist:ROOT``.
    """
    images, labels = digits_arrays(28)
    train, test = digits_split(len(labels), test_fraction, seed)
    return write_mnist_raw(
        root, (images[train], labels[train]), (images[test], labels[test]), folder
    )


def write_cifar10(root: str | Path, n_per_batch: int = 4, seed: int = 0) -> Path:
    """A tiny fake CIFAR-10 in torchvision's ``root/cifar-10-batches-py/`` layout.

    Returns ``root``; the images are random, labels cycle through 0..9.
    """
    import pickle

    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        batch_labels = [(start + k) % 10 for k in range(n_per_batch)]
        start += n_per_batch
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "data": data, "labels": batch_labels}, f)
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": names, "num_vis": 3072}, f)
    return Path(root)


def write_fer_csv(
    path: str | Path,
    n: int = 40,
    seed: int = 0,
    *,
    bad: Sequence[str] = (),
    usage: bool = True,
) -> dict[str, int]:
    """Write a small valid FER2013 csv (header ``emotion,pixels,Usage``), with bad rows if asked.

    Rows cycle through the 7 emotions; Usage is Training for 70%, then PublicTest and
    PrivateTest. Each kind in ``bad`` (see ``FER_BAD_KINDS``) adds one malformed row after the
    valid ones.

    Returns:
        The line number (header = line 1) of each bad row, by kind, plus ``"Training"``,
        ``"PublicTest"`` and ``"PrivateTest"`` counts of the valid rows.
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info: dict[str, int] = {"Training": 0, "PublicTest": 0, "PrivateTest": 0}
    n_train = int(n * 0.7)
    n_public = (n - n_train) // 2
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["emotion", "pixels", "Usage"] if usage else ["emotion", "pixels"])
        line = 1
        for i in range(n):
            use = "Training"
            if usage and i >= n_train:
                use = "PublicTest" if i < n_train + n_public else "PrivateTest"
            info[use] += 1
            pixels = " ".join(map(str, rng.integers(0, 256, size=48 * 48)))
            writer.writerow([i % 7, pixels, use] if usage else [i % 7, pixels])
            line += 1
        good = " ".join(["128"] * (48 * 48))
        rows = {
            "columns": ["3", good],
            "count": ["3", " ".join(["128"] * (48 * 48 - 1)), "Training"],
            "nonint": ["3", good.replace("128", "12.5", 1), "Training"],
            "emotion": ["7", good, "Training"],
            "range": ["3", good.replace("128", "256", 1), "Training"],
            "usage": ["3", good, "Validation"],
        }
        for kind in bad:
            row = rows[kind]
            writer.writerow(row[:2] if not usage and len(row) == 3 else row)
            line += 1
            info[kind] = line
    return info


def _emotion_image(kind: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A grey face-like pattern: two eyes and a mouth that smiles, is flat, or frowns."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    dx, dy = rng.uniform(-0.03, 0.03, size=2)
    img = rng.normal(90, 15, size=(size, size)).astype(np.float32)
    for ex in (0.32, 0.68):
        eye = (xx - ex - dx) ** 2 + (yy - 0.35 - dy) ** 2 < 0.006
        img[eye] = 230
    x = xx - 0.5 - dx
    # happy: the mouth's ends are higher than its middle (a smile); sad: lower; neutral: flat
    bend = {0: -1.0, 1: 0.0, 2: 1.0}[kind]
    curve = 0.70 + bend * (4.0 * x**2 - 0.08)
    mouth = (np.abs(yy - dy - curve) < 0.04) & (np.abs(x) < 0.27)
    img[mouth] = 230
    return np.clip(img, 0, 255).astype(np.uint8)


def write_emotion_folder(
    root: str | Path,
    n_per_class: int = 20,
    size: int = 48,
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> Path:
    """A generated 3-class (happy, neutral, sad) grey ImageFolder tree, learnable by a small CNN.

    Writes ``root/train/<class>/*.png`` and ``root/test/<class>/*.png`` (mode L, size x size),
    the emotion lab's layout. ``n_per_class`` counts both splits. Returns ``root``.
    """
    from PIL import Image

    root = Path(root)
    rng = np.random.default_rng(seed)
    n_test = max(1, round(n_per_class * test_fraction))
    for kind, name in enumerate(EMOTIONS):
        for i in range(n_per_class):
            split = "test" if i < n_test else "train"
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_emotion_image(kind, size, rng)).save(folder / f"{i:03d}.png")
    return root
