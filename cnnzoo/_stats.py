"""Measured size and cost of each registered model at its default settings.

Measuring means a forward pass under torchinfo, which for all models together costs seconds;
``cnnzoo list`` must answer in a fraction of that, without importing torch. So the figures of
the built-in models are measured once, into the shipped cards (``measured/cards.json``, see
:mod:`cnnzoo._cards`), by::

    python -m cnnzoo._stats --write

which regenerates every generated data file (:mod:`cnnzoo._generated`); a test measures every
model again and fails if the file is stale. A model the file does not know (a plugin's, or one
registered at run time) is measured on first use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["ModelStats", "measure", "model_stats"]


@dataclass(frozen=True)
class ModelStats:
    num_params: int
    mult_adds: int
    output_size: tuple[int, ...]


def build_for_shapes(name: str, **kwargs: Any) -> Any:
    """Build ``name`` with uninitialised CPU weights: right shapes, no init cost.

    Building on ``meta`` skips weight initialisation, and empty CPU storage lets a forward pass
    run with the CPU kernels instead of the meta ones, whose first use imports sympy (about a
    second); see :mod:`cnnzoo._shapes`.
    """
    from ._shapes import materialize
    from .registry import create

    return materialize(create(name, device="meta", **kwargs)).eval()


def measure(name: str) -> ModelStats:
    """Measure ``name`` at its default settings with torchinfo (batch 1)."""
    import torch
    import torchinfo

    from ._shapes import shapes_only
    from .registry import entry_input_size

    model = build_for_shapes(name)
    with torch.no_grad(), shapes_only():
        stats = torchinfo.summary(
            model, input_size=(1, *entry_input_size(name)), verbose=0, device="cpu", depth=1
        )
    out = stats.summary_list[0].output_size
    return ModelStats(
        num_params=int(stats.total_params),
        mult_adds=int(stats.total_mult_adds),
        output_size=tuple(int(v) for v in out[1:]),
    )


@functools.cache
def model_stats(name: str) -> ModelStats:
    """Shipped figures of a built-in model, measured ones for any other."""
    from ._cards import shipped
    from .registry import get_builder

    cards = shipped()
    builder = get_builder(name)
    if cards is not None and name in cards.cards and builder.__module__.startswith("cnnzoo."):
        card = cards.cards[name]
        return ModelStats(card.num_params, card.mult_adds, card.output_size)
    return measure(name)


if __name__ == "__main__":
    import sys

    from ._generated import main

    raise SystemExit(main(sys.argv[1:]))
