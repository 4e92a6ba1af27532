"""The three splits of a run: training, validation held out of it (seeded), and test.

The validation images choose ``best.pth``; the test split is evaluated every epoch and reported,
never used to choose. The record kept in the checkpoint (the training split's size and
fingerprint, ``val_split``, ``seed``) lets ``evaluate`` rebuild exactly the held-out images, or
refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import Checkpoint
from ..errors import CheckpointError, DataError
from ..preprocess import Preprocess
from .batches import check_images, check_labels, fingerprint, split_train

__all__ = ["Split", "Splits"]

Split = tuple[torch.Tensor, torch.Tensor]


@dataclass
class Splits:
    """The three splits: training, validation (held out of the training split), test."""

    classes: list[str]
    train: Split
    val: Split | None
    test: Split | None
    source: str
    record: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        data: Any,
        pre: Preprocess,
        cfg: dict[str, Any],
        ckpt: Checkpoint | None,
        resume_path: Path | None,
        *,
        download: bool,
        strict: bool,
    ) -> Splits:
        if isinstance(data, (str, PathLike)):
            from ..data import load_data

            splits = load_data(str(data), pre, download=download, strict=strict)
        else:
            splits = data
        classes = [str(c) for c in splits.classes]
        if len(classes) < 2:
            raise DataError(f"the data has {len(classes)} class(es); training needs at least 2")
        if ckpt is not None:
            saved_labels = list(ckpt.extra.get("labels") or [])
            if saved_labels and saved_labels != classes:
                raise CheckpointError(
                    f"{str(resume_path)!r} was trained on classes {saved_labels}, this data has "
                    f"{classes}; resume on the same data"
                )
        images, labels = splits.train.images, splits.train.labels
        check_images(images, labels, pre, "training")
        check_labels(labels, len(classes), "the training data")
        test = None
        if splits.test is not None:
            check_images(splits.test.images, splits.test.labels, pre, "test")
            check_labels(splits.test.labels, len(classes), "the test data")
            test = (splits.test.images, splits.test.labels)
        train_set, val_set = split_train(images, labels, cfg["val_split"], cfg["seed"])
        if len(train_set[1]) == 0:
            raise DataError("the training split holds no images")
        # What evaluate needs to rebuild exactly these splits, or to refuse.
        record = {
            "train_images": len(labels),
            "train_fingerprint": fingerprint(images, labels),
            "val_split": cfg["val_split"],
            "seed": cfg["seed"],
            "validation_images": 0 if val_set is None else len(val_set[1]),
            "test_images": None if test is None else len(test[1]),
        }
        info = {
            "skipped": int(getattr(splits, "skipped", 0)),
            "problems": list(getattr(splits, "problems", []))[:5],
            "notes": list(getattr(splits, "notes", [])),
        }
        source = str(data) if isinstance(data, (str, PathLike)) else "in-memory"
        return cls(classes, train_set, val_set, test, source, record, info)
