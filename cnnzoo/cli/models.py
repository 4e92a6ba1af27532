"""``cnnzoo list`` and ``cnnzoo info``: the registry, read without building a model.

Both answer from the shipped cards (see :mod:`cnnzoo._cards`) without importing torch, unless a
plugin's entry point brings models of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from ..registry import list_families, list_models, model_info
from ._table import human, render_table

__all__ = ["add_info_arguments", "add_list_arguments", "run_info", "run_list"]


def add_list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pattern", nargs="*", default=["*"], help="fnmatch patterns, e.g. 'resnet*'")
    p.add_argument("--family", help="only this family (lenet, vgg, resnet, ...)")
    p.add_argument("--exclude", action="append", default=[], help="drop names matching this")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def run_list(args: argparse.Namespace) -> int:
    names = list_models(args.pattern, family=args.family, exclude=args.exclude)
    cards = [model_info(n) for n in names]
    if args.format == "json":
        rows = [
            {
                "name": c.name,
                "family": c.family,
                "input_size": list(c.input_size),
                "num_classes": c.num_classes,
                "num_params": c.num_params,
                "mult_adds": c.mult_adds,
            }
            for c in cards
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not cards:
        families = list_families()
        if args.family is not None and args.family.lower() not in families:
            sys.stderr.write(
                f"no family {args.family!r}; the families are: {', '.join(families)}\n"
            )
        else:
            sys.stderr.write(f"no model matches {' '.join(args.pattern)}; try `cnnzoo list`\n")
        return 1
    rows = [
        (
            c.name,
            c.family,
            "x".join(map(str, c.input_size)),
            f"{c.num_params:,}",
            human(c.mult_adds),
            c.description,
        )
        for c in cards
    ]
    headers = ("name", "family", "input", "params", "mult-adds", "description")
    sys.stdout.write(render_table(headers, rows, right=(3, 4)) + "\n")
    return 0


def add_info_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="model name or alias")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run_info(args: argparse.Namespace) -> int:
    card = model_info(args.name)
    if args.format == "json":
        data = asdict(card)
        data["known_labels"] = {str(k): list(v) for k, v in card.known_labels}
        data["options"] = dict(card.options)
        sys.stdout.write(json.dumps(data, indent=2, default=list) + "\n")
        return 0
    src = card.source
    lines = [
        ("name", card.name),
        ("aliases", ", ".join(card.aliases) or "-"),
        ("family", card.family),
        ("description", card.description),
        ("source", src.citation if src else "-"),
        ("link", (src.url if src else None) or "-"),
        ("course", (src.document if src else None) or "-"),
        ("input", "x".join(map(str, card.input_size)) + " (C x H x W)"),
        ("output", "x".join(map(str, card.output_size))),
        ("classes", str(card.num_classes) if card.num_classes else "- (a building block)"),
        ("labels", ", ".join(card.class_labels) if card.class_labels else "-"),
    ]
    for n, labels in card.known_labels:
        if n != card.num_classes:
            lines.append((f"labels ({n})", ", ".join(labels)))
    lines += [
        ("mean / std", f"{card.mean} / {card.std}" if card.mean else "- (not given by the source)"),
        ("params", f"{card.num_params:,}"),
        ("mult-adds", f"{card.mult_adds:,} ({human(card.mult_adds)}, batch 1)"),
        ("options", ", ".join(f"{k}={v!r}" for k, v in card.options) or "-"),
    ]
    width = max(len(k) for k, _ in lines)
    sys.stdout.write("\n".join(f"{k:<{width}}  {v}" for k, v in lines) + "\n")
    return 0
