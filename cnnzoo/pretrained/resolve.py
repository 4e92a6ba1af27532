"""Which weights a name means: ``pretrained=True``, ``weights="IMAGENET1K_V1"`` or a file path.

Torch-free: ``cnnzoo info`` and ``cnnzoo list --pretrained`` use it.
"""

from __future__ import annotations

import difflib
import re
from os import PathLike
from pathlib import Path

from ..errors import InvalidArgumentError, WeightsError
from .catalog import WeightsInfo, models_with_weights, weights_of

__all__ = ["get_weights", "has_weights", "is_weights_name", "list_weights", "split_weights"]

#: File suffixes that make a ``weights=`` string a path even when no such file exists.
_NAME_LIKE = re.compile(r"^(?:[A-Za-z0-9]+_Weights\.)?[A-Z0-9_]+$")
_FILE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt", ".pkl", ".tar", ".safetensors")


def _canonical(name: str) -> str:
    from ..registry import resolve_name

    return resolve_name(name)


def list_weights(name: str) -> tuple[WeightsInfo, ...]:
    """The published weights sets of model ``name``, the default first (empty: none)."""
    return weights_of(_canonical(name))


def has_weights(name: str) -> bool:
    """Whether model ``name`` has published weights."""
    return bool(list_weights(name))


def _no_weights(canonical: str) -> WeightsError:
    from ..registry import _entry

    with_weights = models_with_weights()
    family = _entry(canonical).family
    kin = [m for m in with_weights if _entry(m).family == family]
    hint = f" Its family's {', '.join(kin)} has them." if kin else ""
    return WeightsError(
        f"{canonical} has no published weights.{hint} The models with weights are: "
        f"{', '.join(with_weights)} (`cnnzoo list --pretrained`); or pass a weights file "
        "(weights=PATH, --weights PATH)"
    )


def _strip_enum(canonical: str, text: str) -> str:
    infos = weights_of(canonical)
    if "." in text and infos:
        enum, _, rest = text.partition(".")
        if enum == infos[0].enum:
            return rest
    return text


def is_weights_name(name: str, value: object) -> bool:
    """Whether ``value`` names a weights set of ``name`` (or is ``"DEFAULT"``), rather than a
    file: a string that is not an existing file, has no directory part and no weights-file
    suffix."""
    if not isinstance(value, str):
        return False
    p = Path(value)
    if p.exists() or "/" in value or "\\" in value or p.suffix.lower() in _FILE_SUFFIXES:
        return False
    if weights_of(_canonical(name)):
        return True
    # A model without published weights: only what reads like torchvision's names is a name.
    return bool(_NAME_LIKE.match(value))


def get_weights(name: str, weights: str = "DEFAULT") -> WeightsInfo:
    """The weights set ``weights`` of model ``name`` (``"DEFAULT"``: torchvision's default;
    ``"IMAGENET1K_V1"`` or ``"ResNet18_Weights.IMAGENET1K_V1"``: that set).

    Raises:
        WeightsError: the model has no published weights (the message lists those that do),
            or no set of that name (the message lists its sets).
    """
    canonical = _canonical(name)
    infos = weights_of(canonical)
    if not infos:
        raise _no_weights(canonical)
    wanted = _strip_enum(canonical, str(weights)).upper()
    if wanted == "DEFAULT":
        return next(i for i in infos if i.default)
    for info in infos:
        if info.name == wanted:
            return info
    names = [i.name for i in infos]
    close = difflib.get_close_matches(wanted, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise WeightsError(
        f"{canonical} has no weights named {weights!r}; {hint}its weights are "
        f"{', '.join(names)} (DEFAULT is {infos[0].name}), or pass a file that exists"
    )


def split_weights(
    name: str, *, pretrained: bool = False, weights: str | PathLike[str] | None = None
) -> tuple[WeightsInfo | None, str | PathLike[str] | None]:
    """``(published set, None)`` or ``(None, file)`` or ``(None, None)`` for ``create``'s
    ``pretrained`` and ``weights`` arguments.

    Raises:
        WeightsError: as [`get_weights`][cnnzoo.pretrained.resolve.get_weights].
        InvalidArgumentError: ``pretrained=True`` together with a weights file.
    """
    if isinstance(pretrained, str) or not isinstance(pretrained, bool):
        raise InvalidArgumentError(
            f"pretrained must be True or False, got {pretrained!r}; name a weights set with "
            "weights=NAME"
        )
    if weights is not None and is_weights_name(name, weights):
        return get_weights(name, str(weights)), None
    if weights is not None:
        if pretrained:
            raise InvalidArgumentError(
                f"pretrained=True loads published weights, weights={str(weights)!r} a file; "
                "give one of them"
            )
        return None, weights
    if pretrained:
        return get_weights(name), None
    return None, None
