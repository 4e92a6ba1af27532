"""The figures of a training run: loss and accuracy curves, the confusion matrix, a grid of
sample predictions, runs side by side; each as a matplotlib Figure (``*_figure``), which a
notebook shows inline, and as a PNG file (``save_*``, drawn from that same Figure).

matplotlib is imported here only, on first use, and through its object API with the Agg canvas:
no window opens, and the backend of a user's own pyplot session is left alone. Every file is
written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import torch

from .checkpoint import atomic_write

__all__ = [
    "confusion_figure",
    "history_figures",
    "runs_figure",
    "samples_figure",
    "save_confusion_matrix",
    "save_history_plots",
    "save_runs_figure",
    "save_samples",
]


def _figure(width: float, height: float) -> Any:
    # Agg canvas, no pyplot; the figure draws itself inline in a notebook (cnnzoo.display).
    from .display.figure import new_figure

    return new_figure(width, height)


def _save(fig: Any, path: str | PathLike[str]) -> Path:
    def write(tmp: Path) -> None:
        fig.savefig(tmp, format="png", bbox_inches="tight")

    return atomic_write(path, write)


#: The curves of a run's figures: history key prefix and the legend saying which split it is.
CURVES = (
    ("train", "training"),
    ("val", "validation (held out of train; chooses best.pth)"),
    ("test", "test (reported, never used to choose)"),
)


def history_figures(
    history: Sequence[dict[str, Any]], *, best_epoch: int | None = None
) -> tuple[Any, Any]:
    """Loss per epoch and accuracy per epoch of every split the run has, as two Figures; the
    legend names each split, and a dotted line marks the epoch ``best.pth`` holds."""
    out = []
    for key, ylabel in (("loss", "cross-entropy loss"), ("acc", "accuracy")):
        fig = _figure(6, 4)
        ax = fig.add_subplot()
        for prefix, label in CURVES:
            points = [(r["epoch"], r[f"{prefix}_{key}"]) for r in history
                      if r.get(f"{prefix}_{key}") is not None]  # fmt: skip
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=label)
        if best_epoch:
            ax.axvline(
                best_epoch, color="grey", linestyle=":", label=f"best.pth (epoch {best_epoch})"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        out.append(fig)
    return out[0], out[1]


def save_history_plots(
    history: Sequence[dict[str, Any]],
    loss_path: str | PathLike[str],
    accuracy_path: str | PathLike[str],
    *,
    best_epoch: int | None = None,
) -> tuple[Path, Path]:
    """:func:`history_figures` as two PNG files."""
    loss, acc = history_figures(history, best_epoch=best_epoch)
    return _save(loss, loss_path), _save(acc, accuracy_path)


def runs_figure(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> Any:
    """Every run's validation accuracy and loss over epochs, side by side in one Figure (the
    test curve where a run has no validation, dashed and named so)."""
    fig = _figure(12, 4.5)
    axes = [fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)]
    for name, history in runs:
        for ax, key in zip(axes, ("acc", "loss"), strict=True):
            prefix = "val" if any(r.get(f"val_{key}") is not None for r in history) else "test"
            points = [(r["epoch"], r[f"{prefix}_{key}"]) for r in history
                      if r.get(f"{prefix}_{key}") is not None]  # fmt: skip
            if points:
                style = "-" if prefix == "val" else "--"
                label = name if prefix == "val" else f"{name} (test: no validation split)"
                ax.plot(*zip(*points, strict=True), style, marker="o", markersize=3, label=label)
    axes[0].set_ylabel("validation accuracy")
    axes[1].set_ylabel("validation cross-entropy loss")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def save_runs_figure(
    runs: Sequence[tuple[str, Sequence[dict[str, Any]]]], path: str | PathLike[str]
) -> Path:
    """:func:`runs_figure` as a PNG file."""
    return _save(runs_figure(runs), path)


def confusion_figure(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], *, title: str = ""
) -> Any:
    """The confusion matrix (rows: true class, columns: predicted) with counts in the cells."""
    k = len(labels)
    side = max(4.0, 0.55 * k + 2)
    fig = _figure(side, side)
    ax = fig.add_subplot()
    data = torch.tensor(matrix, dtype=torch.float64)
    im = ax.imshow(data.numpy(), cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), [str(v) for v in labels], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(v) for v in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    top = float(data.max()) if data.numel() else 0.0
    for i in range(k):
        for j in range(k):
            value = int(matrix[i][j])
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8,
                    color="white" if value > top / 2 else "black")  # fmt: skip
    return fig


def save_confusion_matrix(
    matrix: Sequence[Sequence[int]],
    labels: Sequence[str],
    path: str | PathLike[str],
    *,
    title: str = "",
) -> Path:
    """:func:`confusion_figure` as a PNG file."""
    return _save(confusion_figure(matrix, labels, title=title), path)


def samples_figure(
    images: torch.Tensor, true: Sequence[int], predicted: Sequence[int], labels: Sequence[str]
) -> Any:
    """A grid of uint8 images (N, C, H, W) titled "predicted (true)", wrong ones in red."""
    n = len(true)
    cols = min(n, 8) or 1
    rows = max(1, -(-n // cols))
    fig = _figure(1.6 * cols, 1.8 * rows)
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = images[i].cpu()
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=255)
        else:
            ax.imshow(img.permute(1, 2, 0).numpy())
        ok = predicted[i] == true[i]
        ax.set_title(
            f"{labels[predicted[i]]} ({labels[true[i]]})",
            fontsize=8,
            color="black" if ok else "red",
        )
        ax.axis("off")
    fig.suptitle("predicted (true); wrong ones in red", fontsize=9)
    return fig


def save_samples(
    images: torch.Tensor,
    true: Sequence[int],
    predicted: Sequence[int],
    labels: Sequence[str],
    path: str | PathLike[str],
) -> Path:
    """:func:`samples_figure` as a PNG file."""
    return _save(samples_figure(images, true, predicted, labels), path)
