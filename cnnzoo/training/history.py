"""The history of a run: one record per epoch, ``history.json`` and ``history.csv``, and the
choice of ``best.pth``.

A record holds the epoch, its learning rate (``lr``, the rate of its first batch), the training
loss and accuracy, ``val_loss``/``val_acc`` on the validation images held out of the training
split, ``test_loss``/``test_acc`` on the data's test split (reported, never used to choose),
its time and its speed. A split the run does not have is ``null``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..checkpoint import atomic_write
from ..divergence import json_safe

__all__ = ["HISTORY_KEYS", "METRIC_KEYS", "score", "write_history"]

HISTORY_KEYS = (
    "epoch",
    "lr",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "test_loss",
    "test_acc",
    "seconds",
    "images_per_s",
)
METRIC_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")


def score(record: dict[str, Any]) -> tuple[float, float]:
    """What ``best.pth`` maximises: validation accuracy, then the lower validation loss; the
    training figures without validation. Never the test split."""
    if record.get("val_acc") is not None:
        return (record["val_acc"], -record["val_loss"])
    return (record["train_acc"], -record["train_loss"])


def write_history(out: Path, history: list[dict[str, Any]]) -> None:
    text = json.dumps(json_safe(history), indent=2, allow_nan=False) + "\n"  # JSON has no NaN
    atomic_write(out / "history.json", lambda tmp: tmp.write_text(text))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(HISTORY_KEYS), lineterminator="\n")
    writer.writeheader()
    for rec in history:
        writer.writerow({k: "" if rec.get(k) is None else rec.get(k) for k in HISTORY_KEYS})
    csv_text = buf.getvalue()
    atomic_write(out / "history.csv", lambda tmp: tmp.write_text(csv_text))
