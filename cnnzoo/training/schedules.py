"""Learning-rate schedules, composed from ``torch.optim.lr_scheduler`` and stepped per batch.

Every schedule is stepped after every optimizer step, so a warm-up rises batch by batch and a
cosine falls batch by batch (as torchvision's reference does with ``--lr-warmup-epochs``); the
step schedule's drops land on epoch boundaries. With ``W`` warm-up epochs, ``S`` steps per epoch,
``E`` epochs and the base rate ``lr``, at step ``t`` (from 0):

- warm-up, ``t < W*S``: ``lr * (0.01 + 0.99 * t / (W*S))`` (``LinearLR``);
- ``constant``: ``lr``;
- ``step``: ``lr * gamma ** ((t - W*S) // (step_epochs*S))`` (``StepLR``);
- ``cosine``: ``lr * (1 + cos(pi * (t - W*S) / ((E-W)*S))) / 2`` (``CosineAnnealingLR``);
- ``onecycle``: ``OneCycleLR`` up to ``lr`` and down again, its warm-up the first ``W`` epochs
  (30% of the run when ``W`` is 0).

The scheduler's ``state_dict`` goes into every checkpoint, so a run resumes mid-schedule.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler

from ..errors import InvalidArgumentError

__all__ = ["SCHEDULES", "WARMUP_START", "make_scheduler", "schedule_plan"]

SCHEDULES = ("constant", "step", "cosine", "onecycle")
#: The warm-up's first factor of the base rate (torchvision's ``--lr-warmup-decay``).
WARMUP_START = 0.01


def schedule_plan(cfg: dict[str, Any], steps_per_epoch: int) -> dict[str, Any]:
    """What determines the schedule's curve; a resumed run must have the same one."""
    return {
        "schedule": cfg["schedule"],
        "epochs": cfg["epochs"] if cfg["schedule"] != "constant" else None,
        "warmup_epochs": cfg["warmup_epochs"],
        "step_epochs": cfg["step_epochs"] if cfg["schedule"] == "step" else None,
        "gamma": cfg["gamma"] if cfg["schedule"] == "step" else None,
        "steps_per_epoch": steps_per_epoch,
    }


def make_scheduler(
    optimizer: torch.optim.Optimizer, cfg: dict[str, Any], steps_per_epoch: int
) -> lr_scheduler.LRScheduler:
    """The per-batch scheduler of ``cfg["schedule"]`` with ``cfg["warmup_epochs"]`` of warm-up."""
    name, epochs, lr = cfg["schedule"], cfg["epochs"], cfg["lr"]
    warm = round(cfg["warmup_epochs"] * steps_per_epoch)
    total = epochs * steps_per_epoch
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=total, pct_start=warm / total if warm else 0.3
        )
    main: lr_scheduler.LRScheduler
    if name == "constant":
        main = lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    elif name == "step":
        main = lr_scheduler.StepLR(
            optimizer, step_size=cfg["step_epochs"] * steps_per_epoch, gamma=cfg["gamma"]
        )
    elif name == "cosine":
        main = lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total - warm))
    else:
        raise InvalidArgumentError(f"unknown schedule {name!r}; use one of {', '.join(SCHEDULES)}")
    if warm == 0:
        return main
    warmup = lr_scheduler.LinearLR(
        optimizer, start_factor=WARMUP_START, end_factor=1.0, total_iters=warm
    )
    return lr_scheduler.SequentialLR(optimizer, [warmup, main], milestones=[warm])
