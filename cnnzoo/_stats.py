"""Measured size and cost of each registered model at its default settings.

Measuring means a forward pass under torchinfo, which for all models together costs seconds;
``cnnzoo list`` must answer in a fraction of that. So the figures of the built-in models are
measured once by ``python -m cnnzoo._stats --write`` into ``measured/model_stats.json``, and
``tests/test_models.py`` measures every model again and fails if the file is stale. A model the
file does not know (a plugin's) is measured on first use.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["ModelStats", "measure", "model_stats"]

_FILE = "model_stats.json"


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
def _shipped() -> dict[str, ModelStats]:
    try:
        text = resources.files("cnnzoo").joinpath("measured", _FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    raw = json.loads(text)["models"]
    return {
        name: ModelStats(v["num_params"], v["mult_adds"], tuple(v["output_size"]))
        for name, v in raw.items()
    }


@functools.cache
def model_stats(name: str) -> ModelStats:
    """Shipped figures of a built-in model, measured ones for any other."""
    shipped = _shipped()
    from .registry import get_builder

    builder = get_builder(name)
    if name in shipped and builder.__module__.startswith("cnnzoo."):
        return shipped[name]
    return measure(name)


def write_stats(path: Path | None = None) -> Path:
    """Measure every built-in model and write the shipped file."""
    from .registry import get_builder, list_models

    names = [n for n in list_models() if get_builder(n).__module__.startswith("cnnzoo.")]
    data = {"models": {n: asdict(measure(n)) for n in names}}
    for v in data["models"].values():
        v["output_size"] = list(v["output_size"])
    target = path or Path(__file__).parent / "measured" / _FILE
    target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m cnnzoo._stats --write")
    sys.stdout.write(f"wrote {write_stats()}\n")
