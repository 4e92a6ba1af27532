"""Datasets for ``cnnzoo train`` and ``cnnzoo evaluate``, decoded once into memory.

A data spec names a format and where it lies:

| spec | reads |
|---|---|
| ``mnist:DIR`` | ``DIR/MNIST/raw/`` idx files, through ``torchvision.datasets.MNIST`` |
| ``fashion-mnist:DIR`` | ``DIR/FashionMNIST/raw/``, through ``torchvision.datasets.FashionMNIST`` |
| ``cifar10:DIR`` | ``DIR/cifar-10-batches-py/`` (torchvision's layout of the python batches) |
| ``folder:DIR`` | ImageFolder tree ``DIR/train/<class>/*.png``, optional ``DIR/test/<class>/`` |
| ``fer2013:CSV`` | the FER2013 csv (``emotion,pixels,Usage``) |

Every split is decoded once into a uint8 tensor ``(N, C, H, W)`` at the model's input size and
channels (`cnnzoo.preprocess.Preprocess`); training then cuts normalised batches
from it instead of decoding and transforming every image through PIL on every step.
"""

from __future__ import annotations

import csv
import difflib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import torch

from . import labels as _labels
from .errors import DataError
from .preprocess import Preprocess

__all__ = [
    "IMAGE_EXTENSIONS",
    "SCHEMES",
    "DataError",
    "DataSplits",
    "ImageSet",
    "check_labels",
    "load_data",
    "parse_spec",
]

#: File suffixes ``folder:`` reads as images (torchvision's ImageFolder list).
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".jpg",
    ".jpeg",
    ".png",
    ".ppm",
    ".bmp",
    ".pgm",
    ".tif",
    ".tiff",
    ".webp",
)

#: Folder names ``folder:DIR`` takes as the held-out split, first found wins.
_TEST_DIRS: tuple[str, ...] = ("test", "val", "valid", "validation")

#: FER2013's ``Usage`` column: which rows train and which test.
_FER_TRAIN = "Training"
_FER_TEST: tuple[str, ...] = ("PublicTest", "PrivateTest")
_FER_SIDE = 48
_FER_PIXELS = _FER_SIDE * _FER_SIDE

#: Images resized per call, so no temporary copy grows with the dataset.
_RESIZE_CHUNK = 8192


@dataclass
class ImageSet:
    """One split, decoded once into memory.

    Attributes:
        images: uint8 ``(N, C, H, W)`` at the preprocessing's size and channels.
        labels: int64 ``(N,)``, indices into ``classes``.
        classes: class names, index = label.
        source: what the split was read from, for messages.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    source: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class DataSplits:
    """The splits of a dataset as ``load_data`` returns them.

    Attributes:
        train: the training split.
        test: the held-out split the dataset ships with, or None if it has none.
        classes: class names shared by both splits, index = label.
        skipped: malformed rows or unreadable images skipped (0 with ``strict=True``).
        problems: one line per skipped row or image, naming the file or row.
        notes: facts worth telling the user (which FER2013 parts form the test split, ...).
        seconds: wall time spent reading and decoding.
    """

    train: ImageSet
    test: ImageSet | None
    classes: list[str]
    skipped: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _Problems:
    """Bad rows and images: collected and skipped, or the first one raised under ``strict``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.items: list[tuple[int, str]] = []

    def add(self, message: str, order: int = 0) -> None:
        if self.strict and order == 0:
            raise DataError(f"{message} (strict mode stops at the first bad item)")
        self.items.append((order, message))

    def raise_if_strict(self) -> None:
        # Row problems found out of file order (the pixels are parsed in bulk) are sorted, so
        # strict mode names the first bad row of the file.
        if self.strict and self.items:
            self.items.sort(key=lambda item: item[0])
            more = len(self.items) - 1
            tail = f"; {more} more bad row(s) after it" if more else ""
            raise DataError(
                f"{self.items[0][1]}{tail} (strict mode; without it bad rows are skipped)"
            )

    def messages(self) -> list[str]:
        return [message for _, message in sorted(self.items, key=lambda item: item[0])]


# ---------------------------------------------------------------------------------------------
# public API


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``"scheme:PATH"`` into its scheme and path, checking the scheme.

    Raises:
        DataError: no scheme, an unknown one (the message lists the accepted ones and the
            closest match), or no path.
    """
    scheme, sep, rest = str(spec).partition(":")
    scheme_key = scheme.strip().lower()
    accepted = ", ".join(f"{name}:{arg}" for name, (arg, _) in SCHEMES.items())
    if not sep:
        raise DataError(
            f"data spec {spec!r} has no format; write it as one of {accepted} "
            f"(for a folder of class folders: folder:{spec})"
        )
    if scheme_key not in SCHEMES:
        close = difflib.get_close_matches(scheme_key, list(SCHEMES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(f"unknown data format {scheme!r} in {spec!r}{hint} Accepted: {accepted}")
    if not rest.strip():
        raise DataError(
            f"data spec {spec!r} names no path: write {scheme_key}:{SCHEMES[scheme_key][0]}"
        )
    return scheme_key, rest.strip()


def load_data(
    spec: str,
    preprocess: Preprocess,
    *,
    download: bool = False,
    strict: bool = False,
    root_hint: str | PathLike[str] | None = None,
) -> DataSplits:
    """Read and decode a dataset into memory at the size and channels ``preprocess`` asks for.

    Args:
        spec: ``mnist:DIR``, ``fashion-mnist:DIR``, ``cifar10:DIR``, ``folder:DIR`` or
            ``fer2013:CSV`` (see the module's table).
        preprocess: the model's preprocessing; only ``size`` and ``channels`` are used here
            (normalisation is applied per batch by
            `Preprocess.normalize`).
        download: let torchvision fetch MNIST, FashionMNIST or CIFAR-10 into ``DIR`` when the
            files are not there (needs a network).
        strict: fail on the first unreadable image or malformed csv row instead of skipping it
            (skipped ones are counted in ``skipped`` and listed in ``problems``).
        root_hint: directory that a relative path in ``spec`` is relative to (default: the
            current directory).

    Returns:
        The train split, the test split if the dataset has one, the class names, and what was
        skipped.

    Raises:
        DataError: the files are missing, empty or malformed (the message names the file or
            row), there is a single class, the test split's classes differ from the train
            split's, or the decoded tensors would not fit in half the available memory.

    Notes:
        Resizing: ``folder:`` images go through PIL exactly as ``cnnzoo predict`` does
        (`Preprocess.image_to_uint8`).
        The tensor datasets (MNIST, FashionMNIST, CIFAR-10, FER2013) are resized as whole
        uint8 batches with ``torch.nn.functional.interpolate`` (bilinear, antialiased), which
        gives PIL's bilinear result (bit for bit when upscaling, within one grey level when
        shrinking), about 0.5 s of CPU for 60,000 MNIST images.
        For LeNet-5 that is the labs' ``transforms.Resize((32, 32))`` of MNIST's 28x28 digits
        (document 004 calls it padding; it is a bilinear resize): when upscaling, antialiasing
        changes nothing, so this is also plain bilinear with ``antialias=False``.
    """
    scheme, rest = parse_spec(spec)
    path = Path(rest).expanduser()
    if not path.is_absolute() and root_hint is not None:
        path = Path(root_hint) / path
    problems = _Problems(strict)
    notes: list[str] = []
    start = time.perf_counter()
    loader = SCHEMES[scheme][1]
    train, test = loader(path, preprocess, problems, download, notes)
    problems.raise_if_strict()
    if test is not None and list(test.classes) != list(train.classes):
        raise DataError(_class_mismatch(train, test))
    present = train.labels.unique() if len(train) else train.labels
    if len(present) == 1:
        only = int(present[0])
        name = train.classes[only] if 0 <= only < len(train.classes) else str(only)
        raise DataError(
            f"{scheme}:{rest}: every training image is of one class ({name!r}, label {only}); "
            "a classifier needs images of at least two classes"
        )
    messages = problems.messages()
    return DataSplits(
        train=train,
        test=test,
        classes=list(train.classes),
        skipped=len(messages),
        problems=messages,
        notes=notes,
        seconds=time.perf_counter() - start,
    )


def check_labels(splits: DataSplits, num_classes: int) -> None:
    """Check that every label of ``splits`` is a valid class index of a ``num_classes`` model.

    Raises:
        DataError: a label is negative or ``>= num_classes``; the message names the label, its
            class and the split.
    """
    for part in (splits.train, splits.test):
        if part is None or part.labels.numel() == 0:
            continue
        low, high = int(part.labels.min()), int(part.labels.max())
        if low < 0:
            raise DataError(f"label {low} in {part.source} is negative; labels start at 0")
        if high >= num_classes:
            name = part.classes[high] if high < len(part.classes) else "?"
            raise DataError(
                f"label {high} ({name!r}) in {part.source} is beyond the model's {num_classes} "
                f"classes (labels 0..{num_classes - 1}); the data has {len(splits.classes)} "
                f"classes: use a model with num_classes={len(splits.classes)}"
            )


# ---------------------------------------------------------------------------------------------
# tensors: memory, channels, size


def _available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable``), or None where it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


def _check_memory(count: int, preprocess: Preprocess, source: str) -> None:
    """Refuse to decode ``count`` images when they would take over half the free memory."""
    h, w = preprocess.size
    need = count * preprocess.channels * h * w
    available = _available_memory()
    if available is not None and need > available // 2:
        raise DataError(
            f"{source}: {count:,} images at {preprocess.channels}x{h}x{w} need {_gib(need)} "
            f"decoded (uint8), more than half of the {_gib(available)} of memory available; "
            f"use a smaller input size or fewer images"
        )


def _to_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (N, c, H, W) with c in (1, 3) to ``channels``: grey repeated, or RGB to PIL's L."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1:
        return images.expand(-1, channels, -1, -1).contiguous()
    # PIL's "L" conversion (ITU-R 601-2 luma, in its 16-bit fixed point), so a colour image
    # becomes the same grey here as through Preprocess.image_to_uint8 in predict.
    rgb = images.to(torch.int32)
    grey = (rgb[:, 0] * 19595 + rgb[:, 1] * 38470 + rgb[:, 2] * 7471 + 0x8000) >> 16
    return grey.unsqueeze(1).to(torch.uint8)


def _resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of uint8 (N, C, h, w) to ``size``, as PIL's ``resize(BILINEAR)`` does.

    torch's uint8 kernel with ``antialias=True`` gives PIL's result bit for bit when upscaling
    (MNIST 28 -> 32, checked in the tests) and within one grey level when shrinking, at about
    8 us per MNIST image; when upscaling, antialiasing changes nothing (it is the labs'
    ``transforms.Resize((32, 32))`` of a 28x28 digit).
    """
    if tuple(images.shape[-2:]) == tuple(size):
        return images.contiguous()
    import torch.nn.functional as F

    out = torch.empty((images.shape[0], images.shape[1], *size), dtype=torch.uint8)
    for i in range(0, images.shape[0], _RESIZE_CHUNK):
        out[i : i + _RESIZE_CHUNK] = F.interpolate(
            images[i : i + _RESIZE_CHUNK].contiguous(),
            size=size,
            mode="bilinear",
            align_corners=False,
            antialias=True,
        )
    return out


def _prepare(images: torch.Tensor, preprocess: Preprocess, source: str) -> torch.Tensor:
    """uint8 (N, c, h, w) to (N, C, H, W) at the preprocessing's channels and size."""
    _check_memory(int(images.shape[0]), preprocess, source)
    if preprocess.channels == 1:
        # to grey first: less to resize
        return _resize(_to_channels(images, 1), preprocess.size)
    return _to_channels(_resize(images, preprocess.size), preprocess.channels)


def _image_set(
    images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str], source: str
) -> ImageSet:
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{source}: {images.shape[0]} images but {labels.shape[0]} labels; the files do "
            "not belong together"
        )
    labels = labels.to(torch.int64)
    outside = (labels < 0) | (labels >= len(classes))
    if labels.numel() and bool(outside.any()):
        index = int(outside.nonzero()[0, 0])
        raise DataError(
            f"{source}: label {int(labels[index])} of image {index} is outside "
            f"0..{len(classes) - 1} ({len(classes)} classes: {', '.join(classes)})"
        )
    return ImageSet(
        images=images, labels=labels.to(torch.int64), classes=list(classes), source=source
    )


def _class_mismatch(train: ImageSet, test: ImageSet) -> str:
    only_train = sorted(set(train.classes) - set(test.classes))
    only_test = sorted(set(test.classes) - set(train.classes))
    parts = []
    if only_train:
        parts.append(f"only in train: {', '.join(only_train)}")
    if only_test:
        parts.append(f"only in test: {', '.join(only_test)}")
    if not parts:
        parts.append("same names in another order")
    return (
        f"the test split's classes differ from the train split's ({'; '.join(parts)}): "
        f"{test.source} has {test.classes}, {train.source} has {train.classes}; give both the "
        "same class folders"
    )


# ---------------------------------------------------------------------------------------------
# mnist, fashion-mnist (torchvision)


def _torchvision_root(path: Path, folder: str) -> Path:
    """The root torchvision wants, also when given ``ROOT/<folder>`` or ``ROOT/<folder>/raw``."""
    if path.name == "raw" and path.parent.name == folder:
        return path.parent.parent
    if path.name == folder and not (path / folder).exists():
        return path.parent
    return path


def _mnist_loader(class_name: str, scheme: str, classes: Sequence[str]) -> Callable[..., tuple]:
    def load(
        path: Path,
        preprocess: Preprocess,
        problems: _Problems,
        download: bool,
        notes: list[str],
    ) -> tuple[ImageSet, ImageSet | None]:
        from torchvision import datasets

        cls = getattr(datasets, class_name)
        root = _torchvision_root(path, class_name)
        raw = root / class_name / "raw"
        expected = [os.path.splitext(os.path.basename(url))[0] for url, _ in cls.resources]
        missing = [name for name in expected if not (raw / name).is_file()]
        if missing and not download:
            where = f"{raw}" if root.is_dir() else f"{raw} ({root} does not exist)"
            gzipped = [name for name in missing if (raw / f"{name}.gz").is_file()]
            hint = (
                f" ({', '.join(n + '.gz' for n in gzipped)} found: decompress them with gunzip, "
                "or pass --download, which extracts them without fetching)"
                if gzipped
                else ". Pass --download (download=True) to let torchvision fetch them"
            )
            raise DataError(
                f"{scheme}:{path}: the {class_name} files are not there; expected "
                f"{', '.join(expected)} (uncompressed) in {where}{hint}"
            )
        sets = []
        for train in (True, False):
            split = "train" if train else "test"
            try:
                ds = cls(str(root), train=train, download=download)
                images, targets = ds.data, ds.targets
            except Exception as exc:  # torchvision raises RuntimeError, AssertionError, URLError
                what = "download" if missing else "read"
                first = " ".join(str(exc).split())[:200] or type(exc).__name__
                hint = "" if missing else "; they are damaged or not idx files: fetch them again"
                raise DataError(
                    f"{scheme}:{path}: cannot {what} the {split} files in {raw}: {first}{hint}"
                ) from exc
            source = f"{class_name} {split} ({raw})"
            if images.dtype != torch.uint8 or images.ndim != 3:
                raise DataError(f"{source}: expected uint8 images (N, H, W), got {images.shape}")
            prepared = _prepare(images.unsqueeze(1), preprocess, source)
            sets.append(_image_set(prepared, targets, classes, source))
        return sets[0], sets[1]

    return load


# ---------------------------------------------------------------------------------------------
# cifar10 (torchvision's cifar-10-batches-py layout)

_CIFAR_FOLDER = "cifar-10-batches-py"
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = ("test_batch",)
_CIFAR_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def _read_cifar_batch(file: Path) -> tuple[np.ndarray, list[int]]:
    import pickle

    try:
        with open(file, "rb") as f:
            # NOTE: a pickle, as torchvision reads it; only open CIFAR batches you trust.
            entry = pickle.load(f, encoding="latin1")
    except Exception as exc:
        first = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise DataError(
            f"cannot read CIFAR-10 batch {file}: damaged or not a pickle ({first})"
        ) from exc
    if not isinstance(entry, dict) or "data" not in entry:
        raise DataError(
            f"CIFAR-10 batch {file} holds a {type(entry).__name__}, not the batch dict with "
            "'data' and 'labels'; use the python version of CIFAR-10 (cifar-10-python.tar.gz)"
        )
    raw = entry.get("labels", entry.get("fine_labels"))
    if not isinstance(raw, (list, tuple, np.ndarray)):
        raise DataError(
            f"CIFAR-10 batch {file}: its labels are a {type(raw).__name__}, expected a list "
            "of integers 0..9"
        )
    targets: list[int] = []
    for i, label in enumerate(raw):
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
            raise DataError(
                f"CIFAR-10 batch {file}: label {i} is {str(label)[:20]!r}, not an integer 0..9"
            )
        if not 0 <= int(label) < 2**31:
            raise DataError(f"CIFAR-10 batch {file}: label {i} is {int(label)}, outside 0..9")
        targets.append(int(label))
    try:
        data = np.asarray(entry["data"])
    except Exception as exc:
        raise DataError(f"CIFAR-10 batch {file}: its data is not an array ({exc})") from exc
    if data.dtype != np.uint8:
        if data.dtype.kind not in "iu" or (data.size and (data.min() < 0 or data.max() > 255)):
            raise DataError(
                f"CIFAR-10 batch {file}: data of type {data.dtype}, expected bytes (uint8 0..255)"
            )
        data = data.astype(np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"CIFAR-10 batch {file}: data of shape {data.shape}, expected (N, 3072)")
    if len(targets) != data.shape[0]:
        raise DataError(f"CIFAR-10 batch {file}: {data.shape[0]} images but {len(targets)} labels")
    return data, targets


def _load_cifar10(
    path: Path, preprocess: Preprocess, problems: _Problems, download: bool, notes: list[str]
) -> tuple[ImageSet, ImageSet | None]:
    """CIFAR-10's python batches, read as torchvision reads them.

    The files are read here rather than through ``torchvision.datasets.CIFAR10`` because that
    class insists on the md5 of the full files; ``download=True`` still goes through it.
    """
    root = path.parent if path.name == _CIFAR_FOLDER else path
    folder = root / _CIFAR_FOLDER
    names = (*_CIFAR_TRAIN, *_CIFAR_TEST)
    missing = [n for n in names if not (folder / n).is_file()]
    if missing and download:
        from torchvision import datasets

        try:
            datasets.CIFAR10(str(root), train=True, download=True)
        except Exception as exc:
            raise DataError(f"cifar10:{path}: cannot download CIFAR-10 into {root}: {exc}") from exc
        missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(
            f"cifar10:{path}: the CIFAR-10 files are not there; expected "
            f"{', '.join(names)} (and batches.meta) in {folder}; missing {', '.join(missing)}. "
            "Pass --download (download=True) to let torchvision fetch them"
        )
    classes: Sequence[str] = _CIFAR_CLASSES
    meta = folder / "batches.meta"
    if meta.is_file():
        import pickle

        try:
            with open(meta, "rb") as f:
                classes = list(pickle.load(f, encoding="latin1")["label_names"])
        except Exception as exc:
            first = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise DataError(f"cannot read CIFAR-10 class names from {meta}: {first}") from exc
        if len(classes) < 2 or not all(isinstance(c, str) and c for c in classes):
            raise DataError(
                f"{meta}: label_names should be the class names (strings), got {classes[:12]!r}"
            )
    sets = []
    for split, files in (("train", _CIFAR_TRAIN), ("test", _CIFAR_TEST)):
        batches = [_read_cifar_batch(folder / n) for n in files]
        data = np.concatenate([b[0] for b in batches]).reshape(-1, 3, 32, 32)
        targets = torch.tensor([t for b in batches for t in b[1]], dtype=torch.int64)
        source = f"CIFAR-10 {split} ({folder})"
        images = _prepare(torch.from_numpy(data), preprocess, source)
        sets.append(_image_set(images, targets, classes, source))
    return sets[0], sets[1]


# ---------------------------------------------------------------------------------------------
# folder (ImageFolder tree)


def _visible(p: Path) -> bool:
    # .ipynb_checkpoints and .DS_Store are not classes or images
    return not p.name.startswith(".")


def _scan_classes(directory: Path, spec_dir: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Sorted class folders of ``directory`` and their image files, as ImageFolder sees them."""
    classes = sorted(p.name for p in directory.iterdir() if p.is_dir() and _visible(p))
    if not classes:
        loose = [p for p in directory.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS]
        if loose:
            raise DataError(
                f"folder:{spec_dir}: {directory} holds images but no class folders; put each "
                f"class's images in its own folder, {directory}/<class>/*.png"
            )
        raise DataError(
            f"folder:{spec_dir}: {directory} is empty; expected class folders "
            f"{spec_dir}/train/<class>/*.png (and optionally {spec_dir}/test/<class>/)"
        )
    files: list[tuple[Path, int]] = []
    for index, name in enumerate(classes):
        found = sorted(
            p
            for p in (directory / name).iterdir()
            if p.is_file() and _visible(p) and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not found:
            raise DataError(
                f"folder:{spec_dir}: class folder {directory / name} has no images "
                f"({', '.join(IMAGE_EXTENSIONS)}); remove it or add its images"
            )
        files.extend((p, index) for p in found)
    return classes, files


def _decode_files(
    files: list[tuple[Path, int]],
    classes: list[str],
    preprocess: Preprocess,
    problems: _Problems,
    source: str,
) -> ImageSet:
    from PIL import Image

    _check_memory(len(files), preprocess, source)
    h, w = preprocess.size
    images = torch.empty((len(files), preprocess.channels, h, w), dtype=torch.uint8)
    labels = torch.empty(len(files), dtype=torch.int64)
    n = 0
    for file, label in files:
        try:
            with Image.open(file) as img:
                img.load()
                images[n] = preprocess.image_to_uint8(img)
        except Exception as exc:  # PIL raises UnidentifiedImageError, OSError, ValueError, ...
            problems.add(f"cannot read image {file}: {exc}")
            continue
        labels[n] = label
        n += 1
    if n == 0:
        raise DataError(f"{source}: none of its {len(files)} images could be read")
    return ImageSet(
        images=images[:n].clone() if n < len(files) else images,
        labels=labels[:n].clone(),
        classes=classes,
        source=source,
    )


def _load_folder(
    path: Path, preprocess: Preprocess, problems: _Problems, download: bool, notes: list[str]
) -> tuple[ImageSet, ImageSet | None]:
    """ImageFolder tree: ``DIR/train/<class>/*`` and optional ``DIR/test/<class>/*``.

    Without ``DIR/train`` the class folders of ``DIR`` itself are the train split. The held-out
    split is the first of ``test``, ``val``, ``valid``, ``validation`` that exists. Classes are
    the folder names in sorted order (ImageFolder's: happy, neutral, sad = 0, 1, 2). Grey images
    (the emotion lab's 48x48 JPEGs) become 3 identical channels when the model takes 3, as
    ImageFolder's RGB loader makes them.
    """
    if not path.exists():
        raise DataError(f"folder:{path}: no such directory")
    if not path.is_dir():
        raise DataError(f"folder:{path}: not a directory (folder: takes an ImageFolder tree)")
    train_dir = path / "train"
    test_dir: Path | None = None
    if train_dir.is_dir():
        test_dir = next((path / d for d in _TEST_DIRS if (path / d).is_dir()), None)
    else:
        train_dir = path
    classes, files = _scan_classes(train_dir, path)
    if len(classes) < 2:
        raise DataError(
            f"folder:{path}: only one class folder ({classes[0]!r}) in {train_dir}; a classifier "
            "needs at least two"
        )
    train = _decode_files(files, classes, preprocess, problems, f"{train_dir}")
    test = None
    if test_dir is not None:
        test_classes, test_files = _scan_classes(test_dir, path)
        if test_classes != classes:
            raise DataError(
                _class_mismatch(
                    train,
                    ImageSet(torch.empty(0), torch.empty(0), test_classes, str(test_dir)),
                )
            )
        test = _decode_files(test_files, classes, preprocess, problems, f"{test_dir}")
        if test_dir.name != "test":
            notes.append(f"held-out split read from {test_dir}")
    return train, test


# ---------------------------------------------------------------------------------------------
# fer2013 csv


#: Bytes that may not appear in a pixels field (anything but digits and blanks).
_NOT_PIXEL_TEXT = np.ones(256, dtype=bool)
_NOT_PIXEL_TEXT[[*range(48, 58), 32, 9, 10, 13]] = False


def _parse_pixel_rows(rows: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse rows of space-separated integers in bulk (numpy over the bytes, no Python loop).

    Returns:
        ``(values, ok)``: uint8 ``(number of ok rows, 2304)`` and a bool mask of the rows that
        hold exactly 2304 integers in 0..255 separated by blanks.
    """
    n = len(rows)
    ok = np.zeros(n, dtype=bool)
    if not n:
        return np.empty((0, _FER_PIXELS), dtype=np.uint8), ok
    text = "\n".join(rows) + "\n"
    if not text.isascii():
        text = _ascii_pixels(text)
    buf = text.encode("ascii")
    # Whole-array operations on the bytes and their shifted views only: index arrays as long as
    # the text (np.flatnonzero of every digit) cost more than the parsing itself.
    c = np.frombuffer(buf, dtype=np.uint8)
    dv = c - np.uint8(48)  # digit values; every other byte wraps to >= 10
    digit = dv < 10
    dz = (dv * digit).astype(np.uint16)
    newlines = np.flatnonzero(c == 10)  # one per row, at its end
    bad_at = np.flatnonzero(_NOT_PIXEL_TEXT[c])
    # at each digit: the number it ends, read back over at most three digits
    value = dz.copy()
    value[1:] += dz[:-1] * np.uint16(10)
    value[2:] += dz[:-2] * digit[1:-1] * np.uint16(100)
    too_long = np.zeros_like(digit)
    too_long[3:] = digit[3:] & digit[2:-1] & digit[1:-2] & digit[:-3]
    end = digit.copy()
    end[:-1] &= ~digit[1:]
    value[too_long] = 1000
    numbers = value[end]
    # numbers per row: the running count of number ends, read at each row's newline
    count = np.diff(np.cumsum(end, dtype=np.int32)[newlines], prepend=0)
    ok = count == _FER_PIXELS
    ok[np.searchsorted(newlines, bad_at)] = False
    big = np.flatnonzero(numbers > 255)
    ok[np.searchsorted(np.cumsum(count), big, side="right")] = False
    if ok.all():
        return numbers.astype(np.uint8).reshape(n, _FER_PIXELS), ok
    keep = np.repeat(ok, count)
    return numbers[keep].astype(np.uint8).reshape(-1, _FER_PIXELS), ok


def _ascii_pixels(text: str) -> str:
    """``text`` in ASCII, one character for one: a Unicode blank (the no-break space that
    editors and spreadsheets put between numbers) becomes a space, as ``str.split`` takes it;
    anything else becomes ``?``, which marks its row as malformed. Row boundaries stay where
    they are (a Unicode line break inside a field is not one)."""
    return "".join(
        c if c.isascii() else (" " if c.isspace() and c not in _LINE_BREAKS else "?") for c in text
    )


#: Characters ``str.splitlines`` breaks at beyond ``\n``; inside a pixels field they are junk.
_LINE_BREAKS = frozenset("\x85\u2028\u2029")
#: What a pixels field may hold once in ASCII (``_NOT_PIXEL_TEXT``'s complement).
_PIXEL_TEXT = frozenset("0123456789 \t\r\n")


def _odd_character(c: str) -> bool:
    # a character no number token explains: non-ASCII junk, or an ASCII control character
    if c.isascii():
        return not c.isprintable() and c not in _PIXEL_TEXT
    return _ascii_pixels(c) == "?"


def _pixel_problem(text: str) -> str:
    """Why one pixels field is malformed (called for bad rows only)."""
    odd = next((c for c in text if _odd_character(c)), None)
    if odd is not None:
        return f"character {odd!r} (U+{ord(odd):04X}) among the pixel values; expected digits"
    tokens = text.split()
    for token in tokens:
        if not token.isdigit() or not token.isascii():
            return f"pixel value {token[:20]!r} is not an integer 0..255"
        if int(token) > 255:
            return f"pixel value {token} is outside 0..255"
    return f"{len(tokens)} pixel values, expected {_FER_PIXELS} (48x48)"


def _fer_header(row: list[str]) -> tuple[int, int, int, int] | None:
    """Column indices (emotion, pixels, usage or -1) and count when ``row`` is a header."""
    names = [cell.strip().lower() for cell in row]
    if "emotion" in names and "pixels" in names:
        usage = names.index("usage") if "usage" in names else -1
        return names.index("emotion"), names.index("pixels"), usage, len(names)
    return None


def _split_csv_line(line: str) -> list[str]:
    # FER2013's fields hold no commas or quotes; a quoted line goes through the csv module
    if '"' in line:
        return next(csv.reader([line]), [])
    return line.split(",")


def _load_fer2013(
    path: Path, preprocess: Preprocess, problems: _Problems, download: bool, notes: list[str]
) -> tuple[ImageSet, ImageSet | None]:
    """FER2013's csv: ``emotion`` (0..6), ``pixels`` (2304 grey values, 48x48), ``Usage``.

    ``Training`` rows form the train split; ``PublicTest`` and ``PrivateTest`` rows together form
    the test split (the note in ``DataSplits.notes`` and the test split's ``source`` say how many
    of each). A csv without a ``Usage`` column (Kaggle's ``train.csv``) is all train. The header
    row is optional; columns are found by name when it is there. Labels are FER2013's: angry,
    disgust, fear, happy, sad, surprise, neutral. Line numbers in messages count the header as
    line 1, as an editor shows them.

    The pixels are parsed in bulk, 1,024 rows at a time, straight from the text's bytes.
    """
    if not path.exists():
        raise DataError(f"fer2013:{path}: no such file")
    if not path.is_file():
        raise DataError(f"fer2013:{path}: not a file (fer2013: takes the csv file)")
    emotion_col, pixels_col, usage_col, ncols = 0, 1, 2, 3
    usage_names = (_FER_TRAIN, *_FER_TEST)
    chunk = 1024  # rows per bulk parse: about 8 MB of text at a time
    emotions: list[int] = []
    usages: list[str] = []
    pending: list[str] = []
    pending_lines: list[int] = []
    values: list[np.ndarray] = []
    keep: list[np.ndarray] = []

    def flush() -> None:
        v, ok = _parse_pixel_rows(pending)
        values.append(v)
        keep.append(ok)
        for j in np.flatnonzero(~ok):
            line = pending_lines[j]
            problems.add(f"{path}, line {line}: {_pixel_problem(pending[j])}", line)
        pending.clear()
        pending_lines.clear()

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            first = True
            for line, text in enumerate(f, start=1):
                text = text.rstrip("\r\n")
                if not text.strip():
                    continue
                row = _split_csv_line(text)
                if first:
                    first = False
                    header = _fer_header(row)
                    if header is not None:
                        emotion_col, pixels_col, usage_col, ncols = header
                        continue
                    if len(row) == 2:  # no header and no Usage column: all train
                        usage_col, ncols = -1, 2
                where = f"{path}, line {line}"
                if len(row) != ncols:
                    expected = "emotion, pixels, Usage" if usage_col >= 0 else "emotion, pixels"
                    problems.add(
                        f"{where}: {len(row)} columns, expected {ncols} ({expected})", line
                    )
                    continue
                cell = row[emotion_col].strip()
                try:
                    emotion = int(cell)
                except ValueError:
                    problems.add(f"{where}: emotion {cell[:20]!r} is not an integer 0..6", line)
                    continue
                if not 0 <= emotion < len(_labels.FER2013):
                    problems.add(f"{where}: emotion {emotion} is outside 0..6", line)
                    continue
                usage = row[usage_col].strip() if usage_col >= 0 else _FER_TRAIN
                if usage not in usage_names:
                    problems.add(
                        f"{where}: Usage {usage[:30]!r} is not one of {', '.join(usage_names)}",
                        line,
                    )
                    continue
                emotions.append(emotion)
                usages.append(usage)
                pending.append(row[pixels_col].strip())
                pending_lines.append(line)
                if len(pending) == chunk:
                    flush()
            flush()
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"fer2013:{path}: cannot read the csv: {exc}") from exc
    problems.raise_if_strict()
    kept = np.concatenate(keep) if keep else np.zeros(0, dtype=bool)
    if not kept.any():
        skipped = len(problems.items)
        first_problem = f"; first: {problems.messages()[0]}" if skipped else ""
        raise DataError(f"fer2013:{path}: no valid rows ({skipped} malformed){first_problem}")
    pixels = np.concatenate(values)
    kept_usage = np.array(usages, dtype=object)[kept]
    kept_emotion = np.array(emotions, dtype=np.int64)[kept]
    classes = list(_labels.FER2013)
    sets: list[ImageSet | None] = []
    for split, wanted in (("train", (_FER_TRAIN,)), ("test", _FER_TEST)):
        mask = np.isin(kept_usage, wanted)
        if not mask.any():
            if split == "train":
                raise DataError(
                    f"fer2013:{path}: no valid Training rows (Usage column); nothing to train on"
                )
            sets.append(None)
            continue
        counts = {u: int((kept_usage == u).sum()) for u in wanted}
        parts = " + ".join(f"{u} {n:,}" for u, n in counts.items())
        source = f"{path} ({parts} rows)"
        if split == "test":
            notes.append(f"FER2013 test split = {parts} rows")
        grey = torch.from_numpy(pixels[mask].reshape(-1, 1, _FER_SIDE, _FER_SIDE))
        images = _prepare(grey, preprocess, source)
        sets.append(_image_set(images, torch.from_numpy(kept_emotion[mask]), classes, source))
    train = sets[0]
    if train is None:  # unreachable: no Training rows raised above
        raise DataError(f"fer2013:{path}: no valid Training rows")
    return train, sets[1]


#: The accepted data formats: scheme -> (argument, loader).
SCHEMES: dict[str, tuple[str, Callable[..., tuple]]] = {
    "mnist": ("DIR", _mnist_loader("MNIST", "mnist", _labels.MNIST)),
    "fashion-mnist": ("DIR", _mnist_loader("FashionMNIST", "fashion-mnist", _labels.FASHION_MNIST)),
    "cifar10": ("DIR", _load_cifar10),
    "folder": ("DIR", _load_folder),
    "fer2013": ("CSV", _load_fer2013),
}
