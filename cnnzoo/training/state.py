"""A run's directory and checkpoints: where it writes, what ``last.pth`` and ``best.pth`` hold,
and how a run resumes from them.

How it is reproducible: the model is initialised from ``seed``; every epoch's permutation (and
augmentation) depends only on ``(seed, epoch)``; the checkpoint holds the model's, the
optimizer's, the schedule's (and the AMP scaler's) state and the global RNG state. ``resume``
therefore continues with the same batches, the same learning rates and the same random draws,
and a run stopped and resumed gives the same history as one that was not stopped.

Ctrl-C: ``last.pth`` always holds the state at the end of the last *completed epoch* (at the
start of the run if none completed); an interrupt rewrites it from that state if needed.
"""

from __future__ import annotations

import copy
import os
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..checkpoint import Checkpoint, apply_state_dict, read_checkpoint, save_checkpoint
from ..errors import CheckpointError, InvalidArgumentError
from .device import rng_state, set_rng_state
from .history import METRIC_KEYS

__all__ = ["RunState", "check_out", "read_best", "resolve_out"]


def resolve_out(out: str | PathLike[str] | None, name: str, resume: Path | None) -> Path:
    if out is not None:
        return Path(out)
    if resume is not None:
        return resume.parent
    return Path("runs") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def check_out(out: Path, resume: Path | None) -> None:
    """Refuse an output directory that cannot be written, before anything is written."""
    if out.exists():
        if not out.is_dir():
            raise InvalidArgumentError(f"output directory {str(out)!r} is a file; choose --out DIR")
        if not os.access(out, os.W_OK | os.X_OK):
            raise InvalidArgumentError(
                f"output directory {str(out)!r} is not writable; choose another --out"
            )
        last = out / "last.pth"
        if last.exists() and (resume is None or resume.resolve() != last.resolve()):
            raise InvalidArgumentError(
                f"output directory {str(out)!r} already holds a training run (last.pth); "
                f"continue it with --resume {last} or choose another --out"
            )
        return
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidArgumentError(
            f"cannot create output directory {str(out)!r}: {str(parent)!r} is not a writable "
            "directory; choose another --out"
        )


class _StateHolder(nn.Module):
    """Presents a saved state_dict as a module, so ``save_checkpoint`` can write it."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self._state = state

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return dict(self._state)


def read_best(resume_path: Path | None, best: dict[str, Any]) -> dict[str, torch.Tensor] | None:
    """The weights of the best epoch so far, from ``best.pth`` beside ``last.pth``."""
    if resume_path is None or not best.get("epoch"):
        return None
    candidate = resume_path.parent / "best.pth"
    if not candidate.is_file():
        return None
    try:
        ck = read_checkpoint(candidate)
    except CheckpointError:
        return None
    return ck.state_dict if ck.extra.get("epoch") == best["epoch"] else None


class RunState:
    """Everything a run carries from epoch to epoch, and its snapshots at epoch boundaries.

    Attributes:
        history: one record per completed epoch.
        best: ``{"epoch": E, "score": [...]}`` of the best epoch so far.
        best_weights: that epoch's weights (``None`` before the first epoch).
        epoch: the number of completed epochs.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        scaler: Any,
        device: torch.device,
    ) -> None:
        self.model, self.optimizer = model, optimizer
        self.scheduler, self.scaler = scheduler, scaler
        self.device = device
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] = {"epoch": 0, "score": None}
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.epoch = 0

    def restore(self, ckpt: Checkpoint, source: Path) -> None:
        """Continue from a checkpoint of ``cnnzoo train`` (``last.pth`` or ``best.pth``)."""
        apply_state_dict(self.model, ckpt.state_dict, source=str(source))
        self.optimizer.load_state_dict(ckpt.extra["optimizer"])
        if ckpt.extra.get("scheduler") is not None:
            self.scheduler.load_state_dict(ckpt.extra["scheduler"])
        if self.scaler is not None and ckpt.extra.get("scaler") is not None:
            self.scaler.load_state_dict(ckpt.extra["scaler"])
        self.history = [dict(r) for r in ckpt.extra.get("history", [])]
        self.epoch = int(ckpt.extra["epoch"])
        self.best = dict(ckpt.extra.get("best") or self.best)
        self.best_weights = read_best(source, self.best)
        set_rng_state(ckpt.extra["rng"], self.device)

    def weights(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def record(self, record: dict[str, Any], score: tuple[float, ...]) -> bool:
        """Add an epoch's record; True when it is the best so far."""
        self.history.append(record)
        self.epoch = record["epoch"]
        improved = self.best["score"] is None or tuple(score) > tuple(self.best["score"])
        if improved:
            self.best = {"epoch": record["epoch"], "score": list(score)}
            self.best_weights = self.weights()
        return improved

    def snapshot(self) -> dict[str, Any]:
        """The state at this epoch boundary, as ``last.pth`` stores it."""
        return {
            "epoch": self.epoch,
            "state": self.weights(),
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "scheduler": copy.deepcopy(self.scheduler.state_dict()),
            "scaler": None if self.scaler is None else copy.deepcopy(self.scaler.state_dict()),
            "rng": rng_state(self.device),
            "history": [dict(r) for r in self.history],
            "best": dict(self.best),
        }


def save_snapshot(
    path: Path,
    snap: dict[str, Any],
    *,
    model_name: str,
    model_kwargs: dict[str, Any],
    common: dict[str, Any],
) -> None:
    """Write a snapshot as a cnnzoo checkpoint that ``cnnzoo.create(weights=)`` reads too."""
    metrics = {k: snap["history"][-1].get(k) for k in METRIC_KEYS} if snap["history"] else {}
    extra = {k: v for k, v in snap.items() if k != "state" and v is not None}
    save_checkpoint(
        path,
        _StateHolder(snap["state"]),
        model_name=model_name,
        model_kwargs=model_kwargs,
        metrics=metrics,
        **extra,
        **common,
    )
