"""The shipped model cards: every built-in model's card, generated from the registry.

``cnnzoo list``, ``cnnzoo info`` and :func:`cnnzoo.model_info` answer from
``cnnzoo/measured/cards.json`` without importing torch or any model module. The file is not
typed in: :func:`render` makes it from the live registry (each built-in model's
[`ModelCard`][cnnzoo.ModelCard], with its size and cost measured by torchinfo), and
``python -m cnnzoo._stats --write`` writes it. A test renders it again and fails on any
difference, so it cannot drift from the code.

The file holds every field of ``ModelCard``, written and read back by the fields' types, so a
new model or a new card field needs nothing but regenerating the file. A file that lacks a field
of the current ``ModelCard`` (or cannot be read) is not used: the look-ups then import the model
modules and answer from the registry, slower but right.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ._names import keys_of

__all__ = ["PATH", "Catalog", "decode", "encode", "parse", "render", "shipped"]

#: The file, relative to the ``cnnzoo`` package.
PATH = "measured/cards.json"


@dataclass(frozen=True)
class Catalog:
    """Cards by canonical name, with the two mappings that name look-ups read."""

    cards: dict[str, Any]  # name -> ModelCard
    #: canonical name -> family
    families: dict[str, str]
    #: normalised name or alias -> canonical name
    keys: dict[str, str]

    @classmethod
    def of(cls, cards: Mapping[str, Any]) -> Catalog:
        keys: dict[str, str] = {}
        for name, card in cards.items():
            for key in keys_of(name, card.aliases):
                keys[key] = name
        return cls(dict(cards), {n: c.family for n, c in cards.items()}, keys)


def encode(card: Any) -> dict[str, Any]:
    """A card as JSON-ready data (tuples become lists when dumped)."""
    return dataclasses.asdict(card)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner, value)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in value)
        return tuple(_decode(a, v) for a, v in zip(args, value, strict=True))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value)
    if tp is Any or tp is object:
        return _plain(value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def _plain(value: Any) -> Any:
    # Data of no declared type (an option's default): lists back to tuples, as registered.
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return value


def _decode_dataclass(cls: type, data: Mapping[str, Any]) -> Any:
    # Every field must be there: a field missing from the file would silently take its
    # default, which is not what the registry says.
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    if set(data) != set(names):
        raise ValueError(
            f"{cls.__name__} fields differ: the file has {sorted(data)}, the code {sorted(names)}"
        )
    return cls(**{n: _decode(hints[n], data[n]) for n in names})


def decode(data: Mapping[str, Any]) -> Any:
    """A card from :func:`encode`'s data.

    Raises:
        ValueError: the data's fields are not the current ``ModelCard``'s.
    """
    from .registry import ModelCard

    return _decode_dataclass(ModelCard, data)


@functools.cache
def shipped() -> Catalog | None:
    """The shipped cards, or ``None`` when the file is missing or not of the current format."""
    try:
        text = resources.files("cnnzoo").joinpath(PATH).read_text(encoding="utf-8")
    except OSError:
        return None
    return parse(text)


def parse(text: str) -> Catalog | None:
    """The cards of a file's text, or ``None`` unless every card has exactly the current
    ``ModelCard`` fields."""
    from .registry import ModelCard

    try:
        raw = json.loads(text)
        if set(raw["fields"]) != {f.name for f in dataclasses.fields(ModelCard)}:
            return None
        cards = {name: decode(data) for name, data in raw["models"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, NameError):
        return None
    if any(card.name != name for name, card in cards.items()):
        return None
    return Catalog.of(cards)


def render() -> str:
    """The text of the shipped file, made from the live registry (measuring every model)."""
    from . import registry
    from ._stats import measure
    from .registry import ModelCard

    cards = {n: registry.builtin_card(n, measure(n)) for n in registry.builtin_names()}
    fields = [f.name for f in dataclasses.fields(ModelCard)]
    # JSON, laid out one card field a line, so that a change to a card is a one-line diff.
    lines = [
        "{",
        f' "about": {_dump(ABOUT)},',
        f' "fields": {_dump(fields)},',
        ' "models": {',
    ]
    for i, (name, card) in enumerate(cards.items()):
        data = encode(card)
        body = ",\n".join(f"   {_dump(k)}: {_dump(data[k])}" for k in fields)
        lines.append(f"  {_dump(name)}: {{\n{body}\n  }}" + ("," if i < len(cards) - 1 else ""))
    lines += [" }", "}", ""]
    return "\n".join(lines)


ABOUT = "generated by `python -m cnnzoo._stats --write` from the registry; do not edit"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
