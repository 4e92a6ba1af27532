"""The training options: defaults, checks, the optimizer, and experiments as TOML files.

A run's options resolve in this order: the defaults, then a ``--config`` file, then those given
on the command line (or as keyword arguments); a resumed run takes its checkpoint's options in
place of the defaults. Every run writes the resolved options to ``config.toml``, which
``cnnzoo train --config RUN/config.toml`` repeats.
"""

from __future__ import annotations

import math
import sys
from os import PathLike
from pathlib import Path
from typing import Any

import torch

from ..errors import InvalidArgumentError
from .batches import AUGMENTATIONS
from .schedules import SCHEDULES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "AUGMENT_NAMES",
    "CONFIG_KEYS",
    "DEFAULTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "check_options",
    "config_toml",
    "make_optimizer",
    "read_config",
]

#: The training options' defaults (a resumed run takes its checkpoint's values instead).
DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "batch_size": 64,
    "lr": 0.01,
    "optimizer": "sgd",
    "momentum": 0.9,
    "nesterov": False,
    "weight_decay": 0.0,
    "schedule": "constant",
    "warmup_epochs": 0,
    "step_epochs": None,  # step schedule: drop every this many epochs (default a third)
    "gamma": 0.1,
    "label_smoothing": 0.0,
    "grad_clip": None,
    "val_split": 0.2,
    "seed": 0,
    "augment": "none",
    "amp": False,
}
OPTIMIZERS = ("sgd", "adam", "adamw")
AUGMENT_NAMES = tuple(AUGMENTATIONS)
#: Fine-tuning published weights (cnnzoo.pretrained.finetune), off by default.
FINETUNE_KEYS = ("pretrained", "weights", "freeze_backbone", "image_size")
#: The keys of an experiment file: the model, the data, the device and every option above.
CONFIG_KEYS = ("model", "data", "device", "channels_last", *DEFAULTS, *FINETUNE_KEYS)


def normalise_augment(value: Any) -> Any:
    """``True``/``False`` (the old flag) as ``"affine"``/``"none"``."""
    if value is True:
        return "affine"
    if value is False:
        return "none"
    return value


def check_options(cfg: dict[str, Any]) -> None:
    """Raise [`InvalidArgumentError`][cnnzoo.errors.InvalidArgumentError] for the first bad
    option, naming it and what it accepts."""
    from ..divergence import check_finite_options

    check_finite_options(cfg)  # NaN, inf, a seed beyond 32 bits

    def number(key: str) -> float:
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidArgumentError(f"{key} must be a finite number, got {v!r}")
        return float(v)

    for key in ("epochs", "batch_size"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise InvalidArgumentError(f"{key} must be an integer >= 1, got {cfg[key]!r}")
    if not number("lr") > 0:
        raise InvalidArgumentError(f"lr must be positive, got {cfg['lr']!r}")
    if cfg["optimizer"] not in OPTIMIZERS:
        raise InvalidArgumentError(
            f"unknown optimizer {cfg['optimizer']!r}; use one of {', '.join(OPTIMIZERS)}"
        )
    if not 0 <= number("momentum") < 1:
        raise InvalidArgumentError(f"momentum must be in [0, 1), got {cfg['momentum']!r}")
    if not isinstance(cfg["nesterov"], bool):
        raise InvalidArgumentError(f"nesterov must be true or false, got {cfg['nesterov']!r}")
    if cfg["nesterov"] and (cfg["optimizer"] != "sgd" or cfg["momentum"] == 0):
        raise InvalidArgumentError(
            "nesterov is a variant of SGD with momentum; use it with --optimizer sgd and a "
            "--momentum above 0"
        )
    if number("weight_decay") < 0:
        raise InvalidArgumentError(f"weight_decay must be >= 0, got {cfg['weight_decay']!r}")
    if cfg["schedule"] not in SCHEDULES:
        raise InvalidArgumentError(
            f"unknown schedule {cfg['schedule']!r}; use one of {', '.join(SCHEDULES)}"
        )
    if not 0 <= number("warmup_epochs") < cfg["epochs"]:
        raise InvalidArgumentError(
            f"warmup_epochs must be in [0, epochs) = [0, {cfg['epochs']}), got "
            f"{cfg['warmup_epochs']!r}"
        )
    if cfg["step_epochs"] is not None and (
        not isinstance(cfg["step_epochs"], int)
        or isinstance(cfg["step_epochs"], bool)
        or cfg["step_epochs"] < 1
    ):
        raise InvalidArgumentError(
            f"step_epochs must be an integer >= 1, got {cfg['step_epochs']!r}"
        )
    if not 0 < number("gamma") <= 1:
        raise InvalidArgumentError(f"gamma must be in (0, 1], got {cfg['gamma']!r}")
    if not 0 <= number("label_smoothing") < 1:
        raise InvalidArgumentError(
            f"label_smoothing must be in [0, 1), got {cfg['label_smoothing']!r}"
        )
    if cfg["grad_clip"] is not None and not number("grad_clip") > 0:
        raise InvalidArgumentError(
            f"grad_clip must be positive (the largest gradient norm), got {cfg['grad_clip']!r}"
        )
    if not 0 <= number("val_split") < 1:
        raise InvalidArgumentError(f"val_split must be in [0, 1), got {cfg['val_split']!r}")
    if not isinstance(cfg["seed"], int) or isinstance(cfg["seed"], bool) or cfg["seed"] < 0:
        raise InvalidArgumentError(f"seed must be a whole number >= 0, got {cfg['seed']!r}")
    if cfg["augment"] not in AUGMENT_NAMES:
        raise InvalidArgumentError(
            f"unknown augment {cfg['augment']!r}; use one of {', '.join(AUGMENT_NAMES)}"
        )
    if not isinstance(cfg["amp"], bool):
        raise InvalidArgumentError(f"amp must be true or false, got {cfg['amp']!r}")


def resolve_step_epochs(cfg: dict[str, Any]) -> None:
    """The step schedule's default period: a third of the epochs after the warm-up."""
    if cfg["schedule"] == "step" and cfg["step_epochs"] is None:
        cfg["step_epochs"] = max(1, int(cfg["epochs"] - cfg["warmup_epochs"]) // 3)


def make_optimizer(cfg: dict[str, Any], params: Any) -> torch.optim.Optimizer:
    name, lr, wd = cfg["optimizer"], cfg["lr"], cfg["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=cfg["momentum"], nesterov=cfg["nesterov"], weight_decay=wd
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise InvalidArgumentError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")


def read_config(path: str | PathLike[str]) -> dict[str, Any]:
    """An experiment file: a TOML table of options (``model``, ``data``, ``epochs``, ...).

    Raises:
        InvalidArgumentError: the file is missing, is not TOML, or holds an unknown key or a
            value of the wrong type (the key and the accepted ones named).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read config file {str(p)!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(f"config file {str(p)!r} is not UTF-8 text") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgumentError(f"config file {str(p)!r} is not valid TOML: {exc}") from exc
    unknown = [k for k in data if k not in CONFIG_KEYS]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], CONFIG_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InvalidArgumentError(
            f"config file {str(p)!r}: unknown key {unknown[0]!r}{hint}; the keys are "
            f"{', '.join(CONFIG_KEYS)}"
        )
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            raise InvalidArgumentError(
                f"config file {str(p)!r}: {key} must be a single value, got a "
                f"{'table' if isinstance(value, dict) else 'list'}"
            )
        if key in ("model", "data", "device") and not isinstance(value, str):
            raise InvalidArgumentError(f"config file {str(p)!r}: {key} must be a string")
    # TOML has no null: an optional option is left out; an int where a float is meant is fine.
    return dict(data)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def config_toml(config: dict[str, Any]) -> str:
    """The resolved options as an experiment file (options that are unset are left out)."""
    lines = [
        "# The resolved options of this run; repeat it with:",
        "#   cnnzoo train --config config.toml --out NEW_DIR",
    ]
    for key in CONFIG_KEYS:
        if config.get(key) is not None:
            lines.append(f"{key} = {_toml_value(config[key])}")
    return "\n".join(lines) + "\n"
