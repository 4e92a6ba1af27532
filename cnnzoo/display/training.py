"""The displays of a training run (``TrainResult``) and of an evaluation (``EvalReport``).

The confusion matrix is a table, rows the true class and columns the predicted one, the diagonal
(right answers) green and the largest mistake red, so a student sees at once which classes the
model confuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import html as h
from .markdown import escape_md, table_md

__all__ = ["confusion_html", "eval_html", "eval_markdown", "train_html"]


def _f(value: Any, spec: str = ".4f") -> str:
    return "—" if value is None else format(value, spec)


def confusion_html(matrix: Sequence[Sequence[int]], labels: Sequence[str], caption: str) -> str:
    """The confusion matrix as a table: the diagonal green, the largest wrong cell red."""
    worst = max((v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j), default=0)
    headers: list[Any] = [h.Cell("true \\ predicted")]
    headers += [h.Cell(label, align="right") for label in labels]
    rows = []
    for i, (label, row) in enumerate(zip(labels, matrix, strict=True)):
        cells: list[Any] = [h.Cell(label, strong=True)]
        for j, value in enumerate(row):
            if i == j:
                colors: tuple[str, str] | None = h.GOOD
            elif value and value == worst:
                colors = h.BAD
            else:
                colors = None
            cells.append(h.Cell(f"{int(value):,}", colors=colors, align="right", mono=True))
        rows.append(cells)
    return h.table(headers, rows, align=["left"] * (len(labels) + 1), caption=caption)


def eval_html(report: Any) -> str:
    per_class = [
        [
            label,
            h.Cell(f"{report.precision[i]:.4f}", align="right", mono=True),
            h.Cell(f"{report.recall[i]:.4f}", align="right", mono=True),
            h.Cell(f"{report.support[i]:,}", align="right", mono=True),
        ]
        for i, label in enumerate(report.labels)
    ]
    return h.block(
        h.heading(
            f"{report.model} on {report.num_images:,} {report.split} images",
            h.badge(f"accuracy {report.accuracy:.4f}", h.GOOD),
        ),
        h.paragraph(f"checkpoint {report.checkpoint} · mean loss {report.loss:.4f}"),
        h.table(
            ["class", "precision", "recall", "support"],
            per_class,
            align=["left", "right", "right", "right"],
        ),
        confusion_html(
            report.confusion,
            report.labels,
            "confusion matrix (rows: true class, columns: predicted class)",
        ),
    )


def eval_markdown(report: Any) -> str:
    lines = [
        f"**{escape_md(report.model)}** on {report.num_images:,} {escape_md(report.split)} images: "
        f"accuracy {report.accuracy:.4f}, loss {report.loss:.4f}",
        "",
        table_md(
            ["class", "precision", "recall", "support"],
            [
                [label, f"{report.precision[i]:.4f}", f"{report.recall[i]:.4f}", report.support[i]]
                for i, label in enumerate(report.labels)
            ],
            align=["left", "right", "right", "right"],
        ),
        "",
        "Confusion matrix (rows: true class, columns: predicted class)",
        "",
        table_md(
            ["true \\ predicted", *report.labels],
            [[label, *row] for label, row in zip(report.labels, report.confusion, strict=True)],
            align=["left", *["right"] * len(report.labels)],
        ),
    ]
    return "\n".join(lines)


_HISTORY = (
    ("epoch", "epoch", "d"),
    ("train_loss", "train loss", ".4f"),
    ("train_acc", "train acc", ".4f"),
    ("val_loss", "val loss", ".4f"),
    ("val_acc", "val acc", ".4f"),
    ("test_loss", "test loss", ".4f"),
    ("test_acc", "test acc", ".4f"),
    ("lr", "lr", ".3g"),
    ("seconds", "seconds", ".1f"),
)


def train_html(result: Any) -> str:
    history = list(result.history)
    keys = [k for k in _HISTORY if any(r.get(k[0]) is not None for r in history)]
    rows = []
    for r in history:
        best = r.get("epoch") == result.best_epoch
        rows.append(
            [
                h.Cell(
                    _f(r.get(key), spec) if key != "epoch" else f"{r['epoch']}{' (best)' * best}",
                    align="right",
                    mono=True,
                    colors=h.GOOD if best else None,
                )
                for key, _, spec in keys
            ]
        )
    files = [("run directory", h.Cell(result.out, mono=True))]
    files.append(("best", h.Cell(f"{result.best} (epoch {result.best_epoch})", mono=True)))
    files.append(("last", h.Cell(result.last, mono=True)))
    if result.onnx is not None:
        files.append(("onnx", h.Cell(result.onnx, mono=True)))
    parts = [
        h.heading(
            f"{result.model}: {len(history)} epoch(s), {len(result.labels)} classes",
            h.badge(f"best epoch {result.best_epoch}", h.GOOD),
        ),
        h.table([label for _, label, _ in keys], rows, align=["right"] * len(keys)),
        h.definitions(files),
    ]
    if result.confusion is not None:
        parts.append(
            confusion_html(
                result.confusion,
                result.labels,
                f"best.pth (epoch {result.best_epoch}) on the validation images "
                "(rows: true class, columns: predicted class)",
            )
        )
    return h.block(*parts)
