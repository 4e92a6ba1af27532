"""How a model name is matched: one set of rules for the live registry and the shipped cards.

Both the registry (once the model modules are imported) and the shipped card file
(``cnnzoo/measured/cards.json``, read without torch) answer name look-ups through these
functions, given the same two mappings: canonical name -> family, and normalised name or alias
-> canonical name. The answers can only differ if the data does, and a test proves it does not.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["keys_of", "natural_key", "norm", "select", "unknown_message"]


def norm(name: str) -> str:
    """The key a name is matched by: lower case, without ``-`` and ``_``."""
    return name.lower().replace("-", "").replace("_", "")


def natural_key(name: str) -> list[Any]:
    """Sort key that puts ``resnet18`` before ``resnet101``, as timm sorts."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def keys_of(name: str, aliases: Iterable[str]) -> list[str]:
    """The keys that find a model: its name's and each alias's."""
    return [norm(name), *(norm(a) for a in aliases)]


def unknown_message(name: str, names: Iterable[str], keys: Mapping[str, str]) -> str:
    """The error for an unknown ``name``: up to three close names, and where to see them all."""
    by_key = {norm(n): n for n in names}
    by_key.update(keys)
    close = difflib.get_close_matches(norm(name), list(by_key), n=3, cutoff=0.6)
    found: list[str] = []
    for k in close:
        if by_key[k] not in found:
            found.append(by_key[k])
    hint = f"; did you mean {', '.join(repr(n) for n in found)}?" if found else "."
    return (
        f"unknown model {name!r}{hint} See cnnzoo.list_models() (or `cnnzoo list`) for all names."
    )


def select(
    families: Mapping[str, str],
    pattern: str | Iterable[str],
    family: str | None,
    exclude: str | Iterable[str],
) -> list[str]:
    """The names of ``families`` (name -> family) that :func:`cnnzoo.list_models` returns."""
    include = [pattern] if isinstance(pattern, str) else list(pattern)
    excluded = [exclude] if isinstance(exclude, str) else list(exclude)

    def matches(name: str, patterns: list[str]) -> bool:
        return any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)

    return sorted(
        (
            n
            for n, fam in families.items()
            if matches(n, include)
            and not matches(n, excluded)
            and (family is None or fam == family.lower())
        ),
        key=natural_key,
    )
