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
    p.add_argument(
        "--pretrained", action="store_true", help="only models with published ImageNet weights"
    )


def run_list(args: argparse.Namespace) -> int:
    names = list_models(args.pattern, family=args.family, exclude=args.exclude)
    cards = [model_info(n) for n in names]
    if args.pretrained:
        cards = [c for c in cards if c.has_weights]
    families = list_families()
    if args.family is not None and args.family.lower() not in families:
        # an unknown family is a mistake, not an empty answer (also with --format json)
        import difflib

        close = difflib.get_close_matches(args.family.lower(), families, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        sys.stderr.write(
            f"no family {args.family!r}; the families are: {', '.join(families)}{hint}\n"
        )
        return 1
    if args.format == "json":
        rows = [
            {
                "name": c.name,
                "family": c.family,
                "input_size": list(c.input_size),
                "num_classes": c.num_classes,
                "num_params": c.num_params,
                "mult_adds": c.mult_adds,
                "weights": [w.name for w in c.weights],
            }
            for c in cards
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not cards:
        which = "model with published weights" if args.pretrained else "model"
        sys.stderr.write(f"no {which} matches {' '.join(args.pattern)}; try `cnnzoo list`\n")
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
    p.add_argument(
        "--weights",
        metavar="NAME",
        help="show only this published weights set (IMAGENET1K_V1, DEFAULT), with its "
        "normalisation and where its file goes in the cache",
    )


def run_info(args: argparse.Namespace) -> int:
    card = model_info(args.name)
    chosen = None
    if args.weights is not None:
        from ..pretrained import get_weights

        chosen = get_weights(card.name, args.weights)
    if args.format == "json":
        data = asdict(card)
        data["known_labels"] = {str(k): list(v) for k, v in card.known_labels}
        data["options"] = dict(card.options)
        data["weights"] = [
            w.to_dict() for w in card.weights if chosen is None or w.name == chosen.name
        ]
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
    lines += _weights_lines(card, chosen)
    width = max(len(k) for k, _ in lines)
    sys.stdout.write("\n".join(f"{k:<{width}}  {v}" for k, v in lines) + "\n")
    return 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _weights_lines(card: object, chosen: object = None) -> list[tuple[str, str]]:
    from ..pretrained.download import cache_dir

    weights = getattr(card, "weights", ())
    if chosen is not None:
        weights = [w for w in weights if w.name == chosen.name]
    if not weights:
        return [("weights", "- (no published weights; `cnnzoo list --pretrained` lists those)")]
    lines = []
    for i, w in enumerate(weights):
        t = w.transforms
        size = f"{w.file_size_mb:.1f} MB" if w.file_size_mb is not None else "size unknown"
        classes = f"{w.num_classes} classes" if w.num_classes else "no classifier"
        lines.append(
            (
                "weights" if i == 0 else "",
                f"{w.name}{' (default)' if w.default else ''}: ImageNet-1K val acc@1 "
                f"{_pct(w.acc1)}, acc@5 {_pct(w.acc5)} (torchvision, 1 crop); {size}; {classes}",
            )
        )
        lines.append(("", f"  resize {t.resize}, crop {t.crop}, {t.interpolation}; {w.url}"))
        if w.recipe:
            lines.append(("", f"  recipe {w.recipe}"))
        path = cache_dir() / w.file_name
        there = "in the cache" if path.is_file() else "not downloaded yet"
        lines.append(("", f"  file {path} ({there})"))
        if chosen is not None:
            lines.append(
                ("", f"  mean {list(w.mean)}, std {list(w.std)}, sha256 {w.hash_prefix}...")
            )
            if w.docs:
                lines.append(("", f"  note: {w.docs}"))
    return lines
