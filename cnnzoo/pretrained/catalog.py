"""The published weights of each model, read from torchvision's weights API once and shipped.

``cnnzoo info`` and ``cnnzoo list`` answer without importing torch or torchvision, so what
torchvision's ``Weights`` enums say (URL, file name, hash prefix, ImageNet-1K acc@1/acc@5, file
size, recipe, transforms, categories count) is written by

    python -m cnnzoo._stats --write      # every generated file (this one: cnnzoo._generated)
    python -m cnnzoo.pretrained.catalog --write   # this one only

into ``cnnzoo/measured/weights.json``; the tests regenerate it from the installed torchvision
and fail on any difference. Nothing in it is typed by hand: the only
hand-made part is :data:`TORCHVISION_NAMES`, which says which cnnzoo model has torchvision's
layout (and the test checks each pair's ``state_dict`` keys against torchvision's model).

The category names (1000 of them) are not shipped: they come from torchvision's metadata at
run time (:func:`categories`), where torch is imported anyway.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "TORCHVISION_NAMES",
    "Transforms",
    "WeightsInfo",
    "categories",
    "generate",
    "models_with_weights",
    "weights_of",
]

FORMAT = "cnnzoo.weights/1"
_FILE = "weights.json"

#: cnnzoo model -> torchvision builder whose published weights fit it (same state_dict keys).
TORCHVISION_NAMES: dict[str, str] = {
    "alexnet_torchvision": "alexnet",
    "googlenet_torchvision": "googlenet",
    **{f"vgg{d}{bn}": f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    **{f"resnet{d}": f"resnet{d}" for d in (18, 34, 50, 101, 152)},
}


@dataclass(frozen=True)
class Transforms:
    """The weights' evaluation preprocessing, as torchvision's ``ImageClassification`` does it:
    resize the shorter side to ``resize``, centre-crop ``crop`` x ``crop``, scale to [0, 1],
    normalise with ``mean`` and ``std``."""

    resize: int
    crop: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str


@dataclass(frozen=True)
class WeightsInfo:
    """One published weights set of a model, as torchvision's ``Weights`` enum describes it.

    Attributes:
        model: the cnnzoo model.
        name: the set's name as torchvision names it (``"IMAGENET1K_V1"``).
        enum: torchvision's enum (``"ResNet18_Weights"``).
        torchvision_model: torchvision's builder name.
        url: where torchvision downloads it from.
        file_name: the file name in torch hub's cache (``checkpoints/<file_name>``).
        hash_prefix: the start of the file's sha256, from its name (as torch.hub checks it).
        acc1: torchvision's measured ImageNet-1K top-1 accuracy (%), ``None`` if not given.
        acc5: likewise top-5.
        file_size_mb: the file's size in MB, as torchvision gives it.
        recipe: the link to how the weights were trained.
        num_classes: the number of categories, ``None`` for a feature extractor.
        num_params: the parameter count torchvision gives.
        transforms: the evaluation preprocessing.
        default: whether this is the model's ``DEFAULT`` set.
        transform_input: torchvision's model converts its ImageNet-normalised input to the
            normalisation these weights were trained with (its GoogLeNet); cnnzoo's model has no
            such step, so its preprocessing applies the trained-with normalisation directly.
        unused_keys: prefixes of keys in the file that cnnzoo's model does not have (the
            auxiliary classifiers torchvision drops after loading).
        docs: torchvision's note about the set, if any.
    """

    model: str
    name: str
    enum: str
    torchvision_model: str
    url: str
    file_name: str
    hash_prefix: str
    acc1: float | None
    acc5: float | None
    file_size_mb: float | None
    recipe: str | None
    num_classes: int | None
    num_params: int | None
    transforms: Transforms
    default: bool
    transform_input: bool = False
    unused_keys: tuple[str, ...] = ()
    docs: str | None = None

    @property
    def mean(self) -> tuple[float, ...]:
        """The normalisation cnnzoo's model needs with these weights (see ``transform_input``)."""
        return (0.5, 0.5, 0.5) if self.transform_input else self.transforms.mean

    @property
    def std(self) -> tuple[float, ...]:
        """Likewise the standard deviation."""
        return (0.5, 0.5, 0.5) if self.transform_input else self.transforms.std

    @property
    def qualified(self) -> str:
        """``ResNet18_Weights.IMAGENET1K_V1``, as torchvision prints it."""
        return f"{self.enum}.{self.name}"

    def to_dict(self) -> dict[str, Any]:
        """Plain types, as the shipped file holds it."""
        t = self.transforms
        return {
            "name": self.name,
            "url": self.url,
            "file_name": self.file_name,
            "hash_prefix": self.hash_prefix,
            "acc1": self.acc1,
            "acc5": self.acc5,
            "file_size_mb": self.file_size_mb,
            "recipe": self.recipe,
            "num_classes": self.num_classes,
            "num_params": self.num_params,
            "transforms": {
                "resize": t.resize,
                "crop": t.crop,
                "mean": list(t.mean),
                "std": list(t.std),
                "interpolation": t.interpolation,
            },
            "default": self.default,
            "transform_input": self.transform_input,
            "unused_keys": list(self.unused_keys),
            "docs": self.docs,
        }


# --------------------------------------------------------------------------------------------
# reading the shipped file (no torch)


@functools.cache
def _shipped() -> dict[str, Any]:
    text = resources.files("cnnzoo").joinpath("measured", _FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _info(model: str, entry: dict[str, Any], w: dict[str, Any]) -> WeightsInfo:
    t = w["transforms"]
    return WeightsInfo(
        model=model,
        name=w["name"],
        enum=entry["enum"],
        torchvision_model=entry["torchvision"],
        url=w["url"],
        file_name=w["file_name"],
        hash_prefix=w["hash_prefix"],
        acc1=w["acc1"],
        acc5=w["acc5"],
        file_size_mb=w["file_size_mb"],
        recipe=w["recipe"],
        num_classes=w["num_classes"],
        num_params=w["num_params"],
        transforms=Transforms(
            resize=int(t["resize"]),
            crop=int(t["crop"]),
            mean=tuple(t["mean"]),
            std=tuple(t["std"]),
            interpolation=t["interpolation"],
        ),
        default=bool(w["default"]),
        transform_input=bool(w["transform_input"]),
        unused_keys=tuple(w["unused_keys"]),
        docs=w["docs"],
    )


def weights_of(model: str) -> tuple[WeightsInfo, ...]:
    """Every published weights set of canonical model name ``model`` (empty if none), the
    default first."""
    entry = _shipped()["models"].get(model)
    if entry is None:
        return ()
    infos = [_info(model, entry, w) for w in entry["weights"]]
    return tuple(sorted(infos, key=lambda i: not i.default))


def models_with_weights() -> list[str]:
    """The canonical names of the models that have published weights."""
    return list(_shipped()["models"])


def categories(info: WeightsInfo) -> list[str] | None:
    """The category names of ``info`` from torchvision's metadata (imports torchvision)."""
    from torchvision.models import get_model_weights

    enum = get_model_weights(info.torchvision_model)
    cats = enum[info.name].meta.get("categories")
    return list(cats) if cats is not None else None


# --------------------------------------------------------------------------------------------
# generating the file from torchvision


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _load_time_facts(tv_name: str, weights: Any) -> tuple[list[str], list[str], bool]:
    """(keys the weights file holds, keys of the model torchvision returns, transform_input).

    torchvision's builder is run on the ``meta`` device with its state_dict loading replaced
    by a recorder: the model it loads into has exactly the file's keys (it loads strictly),
    and what the builder does after loading (GoogLeNet drops its auxiliary heads) shows in the
    model it returns. Nothing is downloaded.
    """
    import torch
    from torchvision.models import get_model

    recorded: list[list[str]] = []
    original_load = torch.nn.Module.load_state_dict
    original_get = type(weights).get_state_dict

    def record(self: torch.nn.Module, state_dict: Any, *args: Any, **kwargs: Any) -> Any:
        recorded.append(list(self.state_dict().keys()))
        return None

    try:
        torch.nn.Module.load_state_dict = record  # type: ignore[method-assign,assignment]
        type(weights).get_state_dict = lambda self, *a, **k: {}  # type: ignore[method-assign]
        with torch.device("meta"):
            model = get_model(tv_name, weights=weights)
    finally:
        torch.nn.Module.load_state_dict = original_load  # type: ignore[method-assign]
        type(weights).get_state_dict = original_get  # type: ignore[method-assign]
    return recorded[0], list(model.state_dict().keys()), bool(getattr(model, "transform_input", 0))


def _prefixes(keys: list[str]) -> list[str]:
    return sorted({k.split(".")[0] + "." for k in keys})


def generate() -> dict[str, Any]:
    """The file's content, read from the installed torchvision (nothing downloaded)."""
    import torch.hub
    import torchvision
    from torchvision.models import get_model_weights

    from ..registry import create

    models: dict[str, Any] = {}
    for model, tv_name in TORCHVISION_NAMES.items():
        enum = get_model_weights(tv_name)
        ours = set(create(model, device="meta").state_dict())
        rows = []
        for w in enum:
            match = torch.hub.HASH_REGEX.search(Path(w.url).name)
            if match is None:
                raise RuntimeError(f"{w} has no hash prefix in its file name {w.url}")
            file_keys, returned, transform_input = _load_time_facts(tv_name, w)
            if set(returned) != ours:
                raise RuntimeError(
                    f"{model} does not have the keys of torchvision's {tv_name}: "
                    f"{sorted(set(returned) ^ ours)[:5]}"
                )
            t = w.transforms()
            metrics = w.meta.get("_metrics", {}).get("ImageNet-1K", {})
            cats = w.meta.get("categories")
            docs = " ".join(str(w.meta.get("_docs", "")).split()) or None
            info = {
                "name": w.name,
                "url": w.url,
                "file_name": Path(w.url).name,
                "hash_prefix": match.group(1),
                "acc1": _number(metrics.get("acc@1")),
                "acc5": _number(metrics.get("acc@5")),
                "file_size_mb": _number(w.meta.get("_file_size")),
                "recipe": w.meta.get("recipe"),
                "num_classes": len(cats) if cats is not None else None,
                "num_params": w.meta.get("num_params"),
                "transforms": {
                    "resize": int(t.resize_size[0]),
                    "crop": int(t.crop_size[0]),
                    "mean": [float(v) for v in t.mean],
                    "std": [float(v) for v in t.std],
                    "interpolation": t.interpolation.value,
                },
                "default": w is enum.DEFAULT,
                "transform_input": transform_input,
                "unused_keys": _prefixes([k for k in file_keys if k not in ours]),
                "docs": docs,
            }
            rows.append(info)
        models[model] = {"torchvision": tv_name, "enum": enum.__name__, "weights": rows}
    return {
        "format": FORMAT,
        "generated_by": "python -m cnnzoo._stats --write (cnnzoo.pretrained.catalog)",
        "torchvision": torchvision.__version__.split("+")[0],
        "models": models,
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"


def render_shipped() -> str:
    """The text of ``cnnzoo/measured/weights.json`` (see ``cnnzoo._generated``)."""
    return render(generate())


def _path() -> Path:
    return Path(__file__).resolve().parent.parent / "measured" / _FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnzoo.pretrained.catalog")
    parser.add_argument("--write", action="store_true", help=f"write cnnzoo/measured/{_FILE}")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.write:
        from ..checkpoint import atomic_write

        atomic_write(_path(), lambda tmp: tmp.write_text(text, encoding="utf-8"))
        sys.stdout.write(f"wrote {_path()}\n")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
