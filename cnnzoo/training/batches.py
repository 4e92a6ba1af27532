"""The data side of the loop: checks, the seeded held-out split, and whole-batch tensors.

How the loop is fast: the whole dataset is decoded once into a uint8 tensor at the model's size.
Every epoch shuffles indices with a generator seeded by ``(seed, epoch)`` and cuts normalised
float batches from that tensor, so no image goes through PIL during training. Augmentation runs
on whole batches too, with its own generator seeded by ``(seed, epoch)``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

from ..errors import DataError, InvalidArgumentError
from ..preprocess import Preprocess

__all__ = [
    "AUGMENTATIONS",
    "Normalizer",
    "augment_affine",
    "augment_crop_flip",
    "check_images",
    "check_labels",
    "epoch_batches",
    "epoch_generator",
    "fingerprint",
    "split_train",
]


def check_images(images: torch.Tensor, labels: torch.Tensor, pre: Preprocess, where: str) -> None:
    want = (pre.channels, *pre.size)
    if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != want:
        raise InvalidArgumentError(
            f"{where} images must be uint8 (N, {want[0]}, {want[1]}, {want[2]}) for this model, "
            f"got {str(images.dtype).replace('torch.', '')} {tuple(images.shape)}; load them "
            "with cnnzoo.data.load_data and the model's preprocessing"
        )
    if labels.dim() != 1 or len(labels) != len(images):
        raise InvalidArgumentError(
            f"{where} labels must be one per image ({len(images)}), got shape {tuple(labels.shape)}"
        )


def check_labels(labels: torch.Tensor, num_classes: int, where: str) -> None:
    if len(labels) == 0:
        return
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_classes:
        bad = hi if hi >= num_classes else lo
        raise DataError(
            f"{where} has label {bad}, outside the {num_classes} classes (0..{num_classes - 1}); "
            "the labels must index the class list"
        )


def split_train(
    images: torch.Tensor, labels: torch.Tensor, val_split: float, seed: int
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
    """Hold out ``val_split`` of the training images, chosen by a generator seeded by ``seed``."""
    n = len(labels)
    n_val = round(n * val_split)
    if val_split > 0 and n_val == 0:
        n_val = 1
    if n_val == 0:
        return (images, labels), None
    if n_val >= n:
        raise InvalidArgumentError(
            f"val_split {val_split} leaves no training images out of {n}; use a smaller value"
        )
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = perm[:n_val].sort().values, perm[n_val:].sort().values
    return (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx])


def fingerprint(images: torch.Tensor, labels: torch.Tensor) -> str:
    """A short digest of a split's images and labels: evaluate checks it to rebuild exactly the
    validation images a run held out."""
    h = hashlib.blake2b(digest_size=12)
    h.update(str((tuple(images.shape), len(labels))).encode())
    h.update(images.contiguous().numpy().tobytes())
    h.update(labels.to(torch.int64).contiguous().numpy().tobytes())
    return h.hexdigest()


def epoch_generator(seed: int, epoch: int, stream: int = 0) -> torch.Generator:
    """One independent stream per (seed, epoch, purpose): an epoch's batches do not depend on
    what earlier epochs consumed, which is what makes resume exact."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 7 + stream)


class Normalizer:
    """uint8 (N, C, H, W) to normalised float32 on ``device``, as ``Preprocess.normalize``."""

    def __init__(self, pre: Preprocess, device: torch.device, channels_last: bool) -> None:
        mean = torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1)
        self.scale = (1.0 / (255.0 * std)).to(device)
        self.shift = (-mean / std).to(device)
        self.device = device
        self.channels_last = channels_last

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.to(self.device, non_blocking=True).to(torch.float32)
        x = torch.addcmul(self.shift, x, self.scale)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


def augment_affine(x: torch.Tensor, generator: torch.Generator, norm: Normalizer) -> torch.Tensor:
    """A random small affine map per image (rotation up to 10 degrees, scale 0.9 to 1.1, shift
    up to 10% of a side), one ``grid_sample`` for the batch: for digits and faces."""
    n = x.shape[0]
    r = torch.rand(n, 4, generator=generator) * 2 - 1
    angle = r[:, 0] * math.radians(10)
    scale = 1 + 0.1 * r[:, 1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, 0.2 * r[:, 2]], 1), torch.stack([sin, cos, 0.2 * r[:, 3]], 1)], 1
    ).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Border padding repeats the edge, which is the background of digit and face images.
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def augment_crop_flip(
    x: torch.Tensor, generator: torch.Generator, norm: Normalizer, pad: int = 4
) -> torch.Tensor:
    """The standard CIFAR augmentation (He et al. 2015, sec. 4.2): pad every side by ``pad``
    black pixels, take a random crop of the original size, flip horizontally with probability
    1/2; one gather for the whole batch."""
    n, c, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    # Black (pixel value 0) after normalisation is the normaliser's shift.
    padded = norm.shift.to(x.dtype).expand(n, c, h + 2 * pad, w + 2 * pad).clone()
    padded[:, :, pad : pad + h, pad : pad + w] = x
    rows = (offsets[:, :1] + torch.arange(h)).to(x.device)  # (N, H)
    cols = torch.arange(w).expand(n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols) + offsets[:, 1:]  # (N, W)
    cols = cols.to(x.device)
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    out = out.permute(0, 3, 1, 2)
    if x.is_contiguous(memory_format=torch.channels_last):
        return out.contiguous(memory_format=torch.channels_last)
    return out.contiguous()


Augmentation = Callable[[torch.Tensor, torch.Generator, Normalizer], torch.Tensor]

#: The augmentations by name: what each does to a batch.
AUGMENTATIONS: dict[str, Augmentation | None] = {
    "none": None,
    "affine": augment_affine,
    "crop-flip": augment_crop_flip,
}


def epoch_batches(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    seed: int,
    epoch: int,
    batch_size: int,
    norm: Normalizer,
    augment: str = "none",
    rank: int = 0,
    world: int = 1,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, int]]:
    """One epoch's batches in the order of ``(seed, epoch)``: ``(x, y, global batch size)``.

    Every rank gets every ``world``-th image of each global batch.
    """
    perm = torch.randperm(len(labels), generator=epoch_generator(seed, epoch))
    transform = AUGMENTATIONS[augment]
    gen = epoch_generator(seed, epoch, stream=1 + rank) if transform is not None else None
    if norm.device.type != "cpu":
        perm = perm.to(norm.device)
    for start in range(0, len(perm), batch_size):
        global_idx = perm[start : start + batch_size]
        idx = global_idx[rank::world]
        x = norm(images[idx])
        if transform is not None and gen is not None:
            x = transform(x, gen, norm)
        yield x, labels[idx].to(norm.device), len(global_idx)
