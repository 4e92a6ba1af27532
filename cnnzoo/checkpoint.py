"""Reading and writing weights: plain state_dicts (cnnzoo's or torchvision's) and cnnzoo
checkpoints, always with ``weights_only=True`` and always written atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import CheckpointError

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "apply_state_dict",
    "atomic_write",
    "read_checkpoint",
    "save_checkpoint",
    "usual_mode",
]

#: The ``format`` key of a checkpoint that cnnzoo wrote.
CHECKPOINT_FORMAT = "cnnzoo.checkpoint/1"


@dataclass
class Checkpoint:
    """What a weights file holds. ``model`` is ``None`` for a bare state_dict.

    Attributes:
        state_dict: the weights, by module name.
        model: the canonical name of the model a cnnzoo checkpoint was saved from.
        model_kwargs: the keyword arguments that model was built with.
        extra: everything else a cnnzoo checkpoint carries (labels, preprocessing, epoch,
            metrics, ...).
    """

    state_dict: dict[str, torch.Tensor]
    model: str | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    #: Everything else a cnnzoo checkpoint carries (labels, preprocessing, epoch, metrics, ...).
    extra: dict[str, Any] = field(default_factory=dict)


def read_checkpoint(path: str | PathLike[str]) -> Checkpoint:
    """Read ``path`` safely (``weights_only=True``) as a state_dict or a cnnzoo checkpoint.

    Raises:
        CheckpointError: the file is missing, unreadable, damaged, or holds no state_dict.
    """
    p = Path(path)
    if not p.is_file():
        what = "is a directory" if p.is_dir() else "does not exist"
        raise CheckpointError(f"weights file {str(p)!r} {what}")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(_load_failure(p, exc)) from exc
    if isinstance(obj, Mapping) and isinstance(obj.get("format"), str):
        from ._ckpt_fields import check_format

        check_format(obj["format"], p)
    if isinstance(obj, Mapping) and obj.get("format") == CHECKPOINT_FORMAT:
        from ._ckpt_fields import check_fields

        check_fields(obj, p)
        sd = obj["state_dict"]
        extra = {
            k: v
            for k, v in obj.items()
            if k not in ("format", "state_dict", "model", "model_kwargs")
        }
        return Checkpoint(dict(sd), obj.get("model"), dict(obj.get("model_kwargs") or {}), extra)
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]  # the common {"state_dict": ..., "epoch": ...} layout
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(
            f"weights file {str(p)!r} holds a {type(obj).__name__}, not a state_dict of tensors; "
            "save weights with torch.save(model.state_dict(), path)"
        )
    return Checkpoint(dict(obj))


def _load_failure(p: Path, exc: BaseException) -> str:
    text = str(exc).strip()
    if "weights only load failed" in text.lower() or "unsupported global" in text.lower():
        # torch's own advice (load with weights_only=False) would run the file's code.
        return (
            f"weights file {str(p)!r} holds Python objects besides tensors (a pickled model, "
            "numpy arrays, ...), which cnnzoo does not load: unpickling them can run any code. "
            "Save the weights alone with torch.save(model.state_dict(), path)"
        )
    if isinstance(exc, EOFError) or not text:
        first = "the file is empty" if p.stat().st_size == 0 else "it ends too early"
    else:
        first = text.splitlines()[0][:200]
    return (
        f"cannot read weights file {str(p)!r}: it is damaged or not a PyTorch file saved "
        f"with torch.save ({first})"
    )


def _listing(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" (and {len(keys) - limit} more)" if len(keys) > limit else "")


def apply_state_dict(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], *, source: str
) -> None:
    """Load ``state_dict`` into ``model`` strictly, or explain in one message why it does not fit.

    Raises:
        CheckpointError: naming the first missing and unexpected keys and mismatched shapes.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [
        f"{k} (file {list(state_dict[k].shape)}, model {list(own[k].shape)})"
        for k in own
        if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or mismatched:
        name = getattr(model, "model_name", type(model).__name__)
        problems = []
        if missing:
            problems.append(f"missing keys: {_listing(missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {_listing(unexpected)}")
        if mismatched:
            problems.append(f"shape mismatch: {_listing(mismatched)}")
        hint = (
            "it was saved with another num_classes or in_chans"
            if mismatched and not missing and not unexpected
            else "it was saved from another architecture"
        )
        raise CheckpointError(
            f"weights file {source!r} does not fit {name}: {'; '.join(problems)}. Probably {hint}."
        )
    model.load_state_dict(state_dict, strict=True)


def atomic_write(path: str | PathLike[str], write: Any) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` only if it succeeded.

    The temporary file sits in the target's directory, so the final rename is atomic and a
    failure leaves neither a partial file nor a changed old one behind.

    Raises:
        FileNotFoundError: the directory is missing (the message names it).
        PermissionError: the directory is not writable (the message names it).
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist; create it first")
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"directory {str(directory)!r} is not writable")
    from ._files import sweep_stale, temp_prefix

    sweep_stale(directory, target.name)  # what a killed process left behind
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp's file is private (0600); the result gets the mode of the file it replaces,
        # or the usual one for a new file (0666 less the umask), as open() would give it.
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def usual_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (0666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return usual_mode()


def save_checkpoint(
    path: str | PathLike[str],
    model: nn.Module,
    *,
    model_name: str,
    model_kwargs: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """Write a cnnzoo checkpoint atomically; [`cnnzoo.create`][cnnzoo.create] reads it back
    with ``weights=path``. ``extra`` must hold only what ``weights_only=True`` can load (tensors,
    numbers, strings, lists, dicts)."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model": model_name,
        "model_kwargs": dict(model_kwargs or {}),
        "state_dict": model.state_dict(),
        **extra,
    }
    return atomic_write(path, lambda tmp: torch.save(payload, tmp))
