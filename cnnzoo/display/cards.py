"""The display of a :class:`~cnnzoo.registry.ModelCard`: what ``cnnzoo info`` prints, as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import html as h
from .markdown import escape_md

if TYPE_CHECKING:
    from ..registry import ModelCard

__all__ = ["card_html", "card_markdown", "card_rows"]


def _x(shape: Any) -> str:
    return "x".join(str(v) for v in shape)


def _human(n: float) -> str:
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return str(int(n))


def card_rows(card: ModelCard) -> list[tuple[str, str]]:
    """The card's facts as (name, plain text) pairs, in ``cnnzoo info``'s order."""
    rows = [("name", card.name)]
    if card.aliases:
        rows.append(("aliases", ", ".join(card.aliases)))
    rows += [("family", card.family), ("description", card.description)]
    if card.source is not None:
        rows.append(("source", card.source.citation))
        if card.source.url:
            rows.append(("link", card.source.url))
        if card.source.document:
            rows.append(("course", card.source.document))
    rows.append(("input", f"{_x(card.input_size)} (C x H x W)"))
    rows.append(("output", _x(card.output_size)))
    if card.num_classes is not None:
        rows.append(("classes", str(card.num_classes)))
    if card.class_labels:
        rows.append(("labels", ", ".join(card.class_labels)))
    for count, labels in card.known_labels:
        if count != card.num_classes:
            rows.append((f"labels ({count})", ", ".join(labels)))
    if card.mean is not None and card.std is not None:
        rows.append(("mean / std", f"{card.mean} / {card.std}"))
    rows.append(("params", f"{card.num_params:,}"))
    rows.append(("mult-adds", f"{card.mult_adds:,} ({_human(card.mult_adds)}, batch 1)"))
    if card.options:
        rows.append(("options", ", ".join(f"{k}={v!r}" for k, v in card.options)))
    for w in getattr(card, "weights", ()):
        default = " (default)" if w.default else ""
        rows.append(
            (
                "weights",
                f"{w.name}{default}: ImageNet-1K val acc@1 {w.acc1:.2f}%, acc@5 {w.acc5:.2f}%; "
                f"{w.file_size_mb:.1f} MB; {w.num_classes} classes",
            )
        )
    return rows


def card_html(card: ModelCard) -> str:
    pairs: list[tuple[str, Any]] = []
    for name, value in card_rows(card):
        if name in ("name", "aliases", "options", "input", "output"):
            pairs.append((name, h.Cell(value, mono=True)))
        elif name == "link":
            # A link only for a web address: a javascript: URL must not become one.
            if value.startswith(("https://", "http://")):
                pairs.append(
                    (name, h.Cell(html=f'<a href="{h.escape(value)}">{h.escape(value)}</a>'))
                )
            else:
                pairs.append((name, value))
        else:
            pairs.append((name, value))
    kind = "building block" if card.num_classes is None else f"{card.num_classes} classes"
    return h.block(
        h.heading(card.name, h.badge(card.family, h.MUTED), h.badge(kind, h.MUTED)),
        h.definitions(pairs),
    )


def card_markdown(card: ModelCard) -> str:
    lines = [f"**{escape_md(card.name)}** — {escape_md(card.description)}", ""]
    lines += ["| | |", "|---|---|"]
    for name, value in card_rows(card):
        if name in ("name", "description"):
            continue
        lines.append(f"| {escape_md(name)} | {escape_md(value)} |")
    return "\n".join(lines)
