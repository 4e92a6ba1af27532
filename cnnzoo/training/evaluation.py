"""``cnnzoo.evaluate``: a checkpoint's accuracy, per-class precision and recall, and confusion
matrix, on exactly the split asked for.

The validation images are rebuilt from what the checkpoint recorded (the training split's
fingerprint, ``val_split`` and ``seed``), so evaluate scores exactly the images the run held
out, or refuses; it never scores training images as validation ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import Any

import torch

from ..errors import CheckpointError, DataError, InvalidArgumentError
from ..trained import open_trained
from .batches import Normalizer, check_images, check_labels, fingerprint, split_train
from .device import pick_device
from .loop import evaluate_split
from .results import EvalReport

__all__ = ["SPLITS", "evaluate"]

SPLITS = ("auto", "test", "validation", "train")


def evaluate(
    checkpoint: str | PathLike[str] | None,
    data: Any,
    *,
    model: str | None = None,
    weights: str | None = None,
    split: str = "auto",
    batch_size: int = 256,
    device: str | torch.device = "auto",
    download: bool = False,
    strict: bool = False,
) -> EvalReport:
    """Evaluate a checkpoint on ``data``: accuracy, per-class precision and recall, confusion.

    Args:
        checkpoint: a ``best.pth``/``last.pth`` from ``cnnzoo train``, or a bare state_dict
            (then ``model`` names the architecture; its card's labels and preprocessing apply).
        data: a data spec or a loaded ``DataSplits``.
        model: the model name, needed only for a bare state_dict or published weights.
        weights: published weights of ``model`` (``"DEFAULT"``, ``"IMAGENET1K_V1"``) instead
            of a checkpoint: their ImageNet categories (a folder's class names must be among
            them) and their own preprocessing.
        split: ``"auto"`` (the test split if the data has one, else the validation images),
            ``"test"``, ``"validation"`` (exactly the images the training run held out of the
            training split, rebuilt from its record) or ``"train"`` (the images the run trained
            on; all training images for a bare state_dict).
        batch_size: images per forward pass.
        device: as for [`train`][cnnzoo.training.train].
        download: let torchvision download a named dataset that is missing.
        strict: fail on a malformed item instead of skipping it.

    Raises:
        CheckpointError: the checkpoint is unreadable or names no model.
        DataError: labels outside the checkpoint's classes, classes it does not know, or data
            that is not the data the run held its validation images out of.
    """
    if split not in SPLITS:
        raise InvalidArgumentError(f"unknown split {split!r}; use {', '.join(SPLITS)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgumentError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    dev = pick_device(device)
    t = open_trained(checkpoint, model=model, device=dev, weights=weights)
    if isinstance(data, (str, PathLike)):
        from ..data import load_data

        splits = load_data(str(data), t.preprocess, download=download, strict=strict)
    else:
        splits = data
    images, y, split_name = pick_split(splits, split, t.checkpoint.extra, t.source)
    check_images(images, y, t.preprocess, split_name)
    y = map_labels(y, [str(c) for c in splits.classes], t.labels)
    k = t.num_classes
    check_labels(y, k, f"the {split_name} data")
    norm = Normalizer(t.preprocess, dev, channels_last=False)
    loss_sum, correct, count, counts = evaluate_split(
        t.model, images, y, norm, k, batch_size=batch_size
    )
    if count == 0:
        raise DataError(f"the {split_name} split holds no images")
    cm = counts.view(k, k)
    tp = cm.diagonal().double()
    predicted, actual = cm.sum(0).double(), cm.sum(1).double()
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
    return EvalReport(
        model=t.name,
        checkpoint=t.source,
        split=split_name,
        labels=t.labels,
        num_images=count,
        loss=loss_sum / count,
        accuracy=correct / count,
        precision=precision.tolist(),
        recall=recall.tolist(),
        support=actual.long().tolist(),
        confusion=cm.tolist(),
    )


def pick_split(
    splits: Any, split: str, extra: dict[str, Any], source: str
) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The images of ``split``, exactly as the training run recorded them, or a clear refusal."""
    if split == "test" or (split == "auto" and splits.test is not None):
        if splits.test is None:
            raise DataError("the data has no test split; use split 'validation' or 'train'")
        return splits.test.images, splits.test.labels, "test"
    images, labels = splits.train.images, splits.train.labels
    record = extra.get("splits")
    if record is None and "config" not in extra:
        if split == "train":  # a bare state_dict or published weights: no run to be exact about
            return images, labels, "train"
        raise CheckpointError(
            f"{source!r} was not trained by cnnzoo train (a bare state_dict or published "
            "weights), so it held out no validation images; evaluate with --split test or "
            "--split train"
        )
    if record is None:
        raise CheckpointError(
            f"{source!r} does not record which images its run held out (a checkpoint of an "
            "older cnnzoo), so validation images cannot be told from training ones; evaluate "
            "with --split test" + (" or --split train" if split == "train" else "")
        )
    if fingerprint(images, labels) != record.get("train_fingerprint"):
        raise DataError(
            f"this data's training split ({len(labels)} images) is not the one {source!r} was "
            f"trained on ({record.get('train_images')} images); evaluate on the same data (or "
            "use --split test)"
        )
    val_split, seed = float(record["val_split"]), int(record["seed"])
    train_set, val_set = split_train(images, labels, val_split, seed)
    if split == "train":
        return train_set[0], train_set[1], "train"
    if val_set is None:
        raise DataError(
            f"the run of {source!r} held out no validation images (val_split 0); use --split "
            "test or train"
        )
    return val_set[0], val_set[1], "validation"


def map_labels(y: torch.Tensor, data_classes: Sequence[str], labels: Sequence[str]) -> torch.Tensor:
    """Renumber the data's labels into the checkpoint's class order, matching class names."""
    if list(data_classes) == list(labels):
        return y
    if all(c in labels for c in data_classes):
        table = torch.tensor([list(labels).index(c) for c in data_classes], dtype=torch.int64)
        return table[y]
    if len(data_classes) == len(labels):
        return y  # differently named but as many classes: taken in order
    missing = [c for c in data_classes if c not in labels]
    raise DataError(
        f"the data has classes {missing} that the checkpoint does not know (it has {list(labels)})"
    )
