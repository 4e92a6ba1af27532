"""``cnnzoo explain CKPT IMAGE``: a saliency map and a layer's feature maps, as PNG files."""

from __future__ import annotations

import argparse
import sys

from ._args import add_weights_arguments

__all__ = ["add_explain_arguments", "run_explain"]


def add_explain_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoint",
        metavar="CKPT|NAME",
        help="checkpoint (best.pth of cnnzoo train), or a model name with --pretrained/--weights",
    )
    p.add_argument("image", metavar="IMAGE", help="one image file")
    p.add_argument(
        "--layer",
        metavar="NAME",
        help="module whose feature maps to draw, e.g. conv1 or layer1.0.conv1 "
        "(default: the last convolution); `cnnzoo summary MODEL --depth 9 --format markdown` "
        "lists them",
    )
    p.add_argument("--out", metavar="DIR", default=".", help="existing directory for the PNGs (.)")
    p.add_argument("--model", metavar="NAME", help="model name, needed for a bare state_dict file")
    add_weights_arguments(p, "explain ImageNet's categories")


def run_explain(args: argparse.Namespace) -> int:
    from ..inspect import explain
    from .predict import weights_source

    source = weights_source(args)
    result = explain(
        source.pop("checkpoint"), args.image, layer=args.layer, out_dir=args.out, **source
    )
    maps = (
        f"feature maps of {result.layer} {tuple(result.features.shape)}"
        if result.features is not None
        else "no feature maps (the model has no convolution; name one with --layer)"
    )
    sys.stdout.write(f"{result.path}: {result.label} ({result.probability:.4f}); {maps}\n")
    for path in result.files:
        sys.stdout.write(f"wrote {path}\n")
    return 0
