"""What training and evaluation return and report: results, events, the interrupt."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["EvalReport", "TrainEvent", "TrainResult", "TrainingInterrupted"]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during [`train`][cnnzoo.training.train], after ``last.pth`` was saved.

    Attributes:
        checkpoint: the ``last.pth`` to resume from (``None`` on ranks other than 0).
        epoch: the number of epochs completed in it.
    """

    def __init__(self, checkpoint: Path | None, epoch: int) -> None:
        super().__init__(f"interrupted; {epoch} epoch(s) completed, saved in {checkpoint}")
        self.checkpoint = checkpoint
        self.epoch = epoch


@dataclass(frozen=True)
class TrainEvent:
    """What [`train`][cnnzoo.training.train] tells its ``progress`` callback.

    Attributes:
        kind: ``"begin"`` (once, ``info`` set), ``"epoch_start"``, ``"step"`` (running ``loss``
            and ``acc`` of the epoch so far), ``"epoch"`` (``record`` is the epoch's history
            entry) or ``"end"``.
        epoch: the current epoch, from 1.
        epochs: the total number of epochs.
        step: optimizer steps done in this epoch.
        steps: optimizer steps per epoch.
        loss: running mean training loss of this epoch.
        acc: running training accuracy of this epoch.
        record: the epoch's history entry (``kind == "epoch"``).
        info: the run's facts (``kind == "begin"``): device, images, classes, world size, out.
    """

    kind: str
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    acc: float | None = None
    record: dict[str, Any] | None = None
    info: dict[str, Any] | None = None


@dataclass
class TrainResult:
    """What [`train`][cnnzoo.training.train] returns.

    Attributes:
        model: the model name.
        out: the directory the run wrote to.
        best: ``best.pth`` (highest validation accuracy; lowest training loss without validation).
        last: ``last.pth`` (the last epoch).
        history: one dict per epoch (see ``cnnzoo.training`` for the keys).
        best_epoch: the epoch ``best.pth`` holds.
        labels: the class names, in the order of the model's outputs.
        confusion: the confusion matrix of ``best.pth`` on the validation images (rows: true
            class, columns: predicted), or ``None`` without validation.
        onnx: ``best.onnx`` when asked for.
        rank: this process's rank (0 without distribution).
        world_size: the number of processes.
    """

    model: str
    out: Path
    best: Path
    last: Path
    history: list[dict[str, Any]]
    best_epoch: int
    labels: list[str]
    confusion: list[list[int]] | None = None
    onnx: Path | None = None
    rank: int = 0
    world_size: int = 1

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's history entry."""
        return self.history[-1]

    def plot(self) -> tuple[Any, Any]:
        """The loss and accuracy curves (``loss.png``, ``accuracy.png``) as matplotlib Figures.

        A notebook shows them inline; ``fig.savefig(path)`` writes one. No window opens.
        """
        from ..plots import history_figures

        return history_figures(self.history, best_epoch=self.best_epoch)

    def plot_confusion(self) -> Any:
        """The validation confusion matrix of ``best.pth`` as a Figure (``None`` without one)."""
        from ..plots import confusion_figure

        if self.confusion is None:
            return None
        return confusion_figure(
            self.confusion,
            self.labels,
            title=f"best.pth (epoch {self.best_epoch}) on the validation images",
        )

    def _repr_html_(self) -> str:
        # A notebook shows the epochs and the confusion matrix as tables (cnnzoo.display).
        from ..display.training import train_html

        return train_html(self)


@dataclass
class EvalReport:
    """Accuracy, per-class precision and recall, and the confusion matrix of a checkpoint.

    Attributes:
        model: the model name.
        checkpoint: the weights file evaluated.
        split: which images were used (``"test"``, ``"validation"`` or ``"train"``).
        labels: the class names.
        num_images: how many images were evaluated.
        loss: mean cross-entropy.
        accuracy: fraction of images whose top prediction is right.
        precision: per class, right among those predicted as that class (0 when none were).
        recall: per class, right among those of that class (0 when there were none).
        support: per class, how many images were of that class.
        confusion: rows are true classes, columns predicted classes.
    """

    model: str
    checkpoint: str
    split: str
    labels: list[str]
    num_images: int
    loss: float
    accuracy: float
    precision: list[float]
    recall: list[float]
    support: list[int]
    confusion: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, for ``json.dumps``."""
        return asdict(self)

    def plot(self) -> Any:
        """The confusion matrix as a matplotlib Figure (shown inline in a notebook)."""
        from ..plots import confusion_figure

        return confusion_figure(
            self.confusion, self.labels, title=f"{self.checkpoint} on the {self.split} images"
        )

    def _repr_html_(self) -> str:
        # A notebook shows the metrics and the confusion matrix as tables (cnnzoo.display).
        from ..display.training import eval_html

        return eval_html(self)

    def _repr_markdown_(self) -> str:
        from ..display.training import eval_markdown

        return eval_markdown(self)

    def __str__(self) -> str:
        width = max(5, *(len(label) + len(str(i)) + 1 for i, label in enumerate(self.labels)))
        lines = [
            f"{self.model} ({self.checkpoint}) on {self.num_images} {self.split} images",
            f"accuracy {self.accuracy:.4f}  loss {self.loss:.4f}",
            "",
            f"{'class':<{width}}  precision  recall  support",
        ]
        for i, label in enumerate(self.labels):
            lines.append(
                f"{label:<{width}}  {self.precision[i]:>9.4f}  {self.recall[i]:>6.4f}  "
                f"{self.support[i]:>7d}"
            )
        cell = max(4, *(len(str(v)) for row in self.confusion for v in row))
        lines += ["", "confusion matrix (rows: true, columns: predicted)"]
        header = " ".join(f"{i:>{cell}d}" for i in range(len(self.labels)))
        lines.append(" " * width + "  " + header)
        for i, (label, row) in enumerate(zip(self.labels, self.confusion, strict=True)):
            name = label if label == str(i) else f"{i} {label}"
            lines.append(f"{name:<{width}}  " + " ".join(f"{v:>{cell}d}" for v in row))
        return "\n".join(lines)
