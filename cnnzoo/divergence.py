"""Non-finite numbers in training: refused in the options, caught in the loss, kept out of JSON.

A training run whose loss becomes NaN or infinite learns nothing more, so it stops at the first
such batch with a [`TrainingDivergedError`][cnnzoo.errors.TrainingDivergedError] naming the
epoch and the batch; ``last.pth`` then holds the last finite epoch (see ``cnnzoo.training``).
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidArgumentError, TrainingDivergedError

__all__ = [
    "MAX_SEED",
    "NonFiniteLoss",
    "check_finite_options",
    "diverged",
    "json_safe",
    "use_given_lr",
]

#: Seeds are whole numbers in ``0 .. MAX_SEED`` (numpy's range; every epoch's generator is
#: seeded from the seed, the epoch and a stream number, which must stay within 64 bits).
MAX_SEED = 2**32 - 1

_FLOAT_OPTIONS = ("lr", "momentum", "weight_decay", "val_split")


def check_finite_options(cfg: dict[str, Any]) -> None:
    """Refuse NaN, infinite or non-numeric float options and a seed out of range.

    Raises:
        InvalidArgumentError: naming the option and the value.
    """
    for key in _FLOAT_OPTIONS:
        value = cfg.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidArgumentError(f"{key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise InvalidArgumentError(f"{key} must be a finite number, got {value!r}")
    seed = cfg.get("seed")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise InvalidArgumentError(
            f"seed must be a whole number from 0 to {MAX_SEED:,} (2**32 - 1), got {seed!r}"
        )


def diverged(
    *,
    epoch: int,
    epochs: int,
    batch: int | None,
    steps: int,
    value: float,
    lr: float,
    completed: int,
    checkpoint: Any,
) -> TrainingDivergedError:
    """The error for a non-finite loss at ``batch`` of ``epoch`` (``batch=None``: validation)."""
    where = (
        f"epoch {epoch}/{epochs}, batch {batch}/{steps}"
        if batch is not None
        else f"epoch {epoch}/{epochs}, on the validation images"
    )
    kept = (
        f"; {checkpoint} holds the last finite state ({completed} epoch(s) completed)"
        if checkpoint is not None
        else ""
    )
    smaller = f"{lr / 10:g}"
    return TrainingDivergedError(
        f"training diverged: the loss is {value} at {where}{kept}; try a smaller --lr "
        f"(it was {lr:g}; e.g. --lr {smaller}), and check the data's labels and normalisation",
        epoch=epoch,
        batch=batch,
        checkpoint=checkpoint,
        completed=completed,
    )


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class NonFiniteLoss(Exception):
    """Raised inside the training loop at the first non-finite loss; the run turns it into a
    [`TrainingDivergedError`][cnnzoo.errors.TrainingDivergedError] once ``last.pth`` is safe.

    Attributes:
        batch: the batch of the epoch, from 1; ``None`` for the validation loss.
        value: the loss (per image).
        epoch: set by the epoch loop.
    """

    def __init__(self, batch: int | None, value: float, epoch: int = 0) -> None:
        super().__init__(batch, value)
        self.batch, self.value, self.epoch = batch, value, epoch


def use_given_lr(optimizer: Any, scheduler: Any, lr: float, weight_decay: float) -> None:
    """After a resume, make a given ``--lr`` (and weight decay) apply: the optimizer's saved
    state holds the earlier run's rates, and the scheduler's base rates too."""
    for group in optimizer.param_groups:
        base = group.get("initial_lr") or group["lr"]
        factor = group["lr"] / base if base else 1.0
        group["initial_lr"] = lr
        group["lr"] = lr * factor
        group["weight_decay"] = weight_decay
    if hasattr(scheduler, "base_lrs"):
        scheduler.base_lrs = [lr for _ in scheduler.base_lrs]
