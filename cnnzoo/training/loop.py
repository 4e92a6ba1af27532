"""The loop itself: one training epoch and one evaluation, as the labs write them.

``train_one_epoch`` is torchvision's reference loop (forward, loss, backward through the AMP
scaler when there is one, optional gradient clipping, optimizer step, schedule step, metrics);
``evaluate_split`` is its ``evaluate``. The batches come ready from
[`epoch_batches`][cnnzoo.training.batches.epoch_batches].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..divergence import NonFiniteLoss
from .batches import Normalizer
from .device import Precision, sum_dtype

__all__ = ["evaluate_split", "train_one_epoch"]


# --8<-- [start:train_one_epoch]
def train_one_epoch(
    model: nn.Module,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, int]],
    *,
    precision: Precision,
    grad_clip: float | None = None,
    world: int = 1,
    on_step: Callable[[int, torch.Tensor, torch.Tensor, int], None] | None = None,
) -> tuple[float, int, int]:
    """Train one epoch; returns this rank's loss sum, correct predictions and images seen.

    ``criterion`` sums over the batch: scaled by ``world / global batch size``, the gradient
    DDP averages over ranks is the global batch's mean gradient, as one process computes it.
    """
    model.train()
    device = precision.device
    loss_sum = torch.zeros((), dtype=sum_dtype(device), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    seen = 0
    for step, (x, y, n_global) in enumerate(batches):
        with precision.autocast():
            logits = model(x)
            loss = criterion(logits, y)
        if not bool(torch.isfinite(loss)):  # stop at the first non-finite loss (divergence.py)
            raise NonFiniteLoss(step + 1, float(loss) / max(len(y), 1))
        optimizer.zero_grad(set_to_none=True)
        scaled = loss * (world / n_global)
        if precision.scaler is not None:
            precision.scaler.scale(scaled).backward()
            if grad_clip is not None:
                precision.scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            precision.scaler.step(optimizer)
            precision.scaler.update()
        else:
            scaled.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
        scheduler.step()
        loss_sum += loss.detach().to(loss_sum.dtype)
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(y)
        if on_step is not None:
            on_step(step + 1, loss_sum, correct, seen)  # tensors: no device sync here
    return float(loss_sum), int(correct), seen


# --8<-- [end:train_one_epoch]


@torch.inference_mode()
def evaluate_split(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    norm: Normalizer,
    num_classes: int,
    *,
    precision: Precision | None = None,
    batch_size: int = 512,
    rank: int = 0,
    world: int = 1,
) -> tuple[float, int, int, torch.Tensor]:
    """Cross-entropy sum, correct, count and confusion counts of this rank's share (every
    ``world``-th image)."""
    was_training = model.training
    model.eval()
    precision = precision or Precision(norm.device)
    loss_sum = torch.zeros((), dtype=sum_dtype(norm.device), device=norm.device)
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=norm.device)
    idx_all = torch.arange(rank, len(labels), world)
    for start in range(0, len(idx_all), batch_size):
        idx = idx_all[start : start + batch_size]
        y = labels[idx].to(norm.device)
        with precision.autocast():
            out = model(norm(images[idx]))
        loss_sum += F.cross_entropy(out.float(), y, reduction="sum").to(loss_sum.dtype)
        confusion += torch.bincount(y * num_classes + out.argmax(1), minlength=num_classes**2)
    model.train(was_training)
    confusion = confusion.cpu()
    correct = int(confusion.view(num_classes, num_classes).diagonal().sum())
    return float(loss_sum), correct, len(idx_all), confusion
