"""Training and evaluation: the labs' loop as one function, fast, reproducible and resumable.

[`train`][cnnzoo.training.train] is what ``cnnzoo train`` runs;
[`evaluate`][cnnzoo.training.evaluate] is what ``cnnzoo evaluate`` runs. Both take the data as
a spec string (``"mnist:DIR"``, ``"folder:DIR"``, ...; see
[`load_data`][cnnzoo.data.load_data]) or as an already loaded ``DataSplits``.

How the loop is fast: the whole dataset is decoded once into a uint8 tensor at the model's size.
Every epoch shuffles indices with a generator seeded by ``(seed, epoch)`` and cuts normalised
float batches from that tensor, so no image goes through PIL during training.

How it is reproducible: the model is initialised from ``seed``; every epoch's permutation (and
augmentation) depends only on ``(seed, epoch)``; the global RNG state is stored in every
checkpoint. ``resume`` therefore continues with the same batches in the same order, and a run
stopped and resumed gives the same history as one that was not stopped.

Ctrl-C: ``last.pth`` always holds the state at the end of the last *completed epoch* (at the
start of the run if none completed); an interrupt rewrites it from that state if needed, then
raises [`TrainingInterrupted`][cnnzoo.training.TrainingInterrupted]. Resuming from it repeats
the interrupted epoch from its first batch, exactly as the uninterrupted run did.

Several processes: under ``torchrun`` (``RANK``/``WORLD_SIZE`` in the environment) the same call
joins the process group (gloo on CPU, nccl on CUDA), wraps the model in
``DistributedDataParallel``, and gives each rank every ``world_size``-th image of each global
batch; the loss is scaled so that the averaged gradient is the global batch's mean gradient,
exactly what one process with the same ``batch_size`` computes. Only rank 0 writes files.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import atomic_write, read_checkpoint, save_checkpoint
from .errors import CheckpointError, CnnzooError, DataError, InvalidArgumentError
from .preprocess import Preprocess, preprocess_for

__all__ = [
    "DEFAULTS",
    "OPTIMIZERS",
    "EvalReport",
    "TrainEvent",
    "TrainResult",
    "TrainingInterrupted",
    "evaluate",
    "pick_device",
    "train",
]

#: The training options' defaults (a resumed run takes its checkpoint's values instead).
DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "batch_size": 64,
    "lr": 0.01,
    "optimizer": "sgd",
    "momentum": 0.9,
    "weight_decay": 0.0,
    "val_split": 0.2,
    "seed": 0,
    "augment": False,
}
OPTIMIZERS = ("sgd", "adam", "adamw")
_HISTORY_KEYS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "images_per_s",
)


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
        from .plots import history_figures

        return history_figures(self.history)

    def plot_confusion(self) -> Any:
        """The validation confusion matrix of ``best.pth`` as a Figure (``None`` without one)."""
        from .plots import confusion_figure

        if self.confusion is None:
            return None
        return confusion_figure(
            self.confusion,
            self.labels,
            title=f"best.pth (epoch {self.best_epoch}) on the validation images",
        )

    def _repr_html_(self) -> str:
        # A notebook shows the epochs and the confusion matrix as tables (cnnzoo.display).
        from .display.training import train_html

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
        from .plots import confusion_figure

        return confusion_figure(
            self.confusion, self.labels, title=f"{self.checkpoint} on the {self.split} images"
        )

    def _repr_html_(self) -> str:
        # A notebook shows the metrics and the confusion matrix as tables (cnnzoo.display).
        from .display.training import eval_html

        return eval_html(self)

    def _repr_markdown_(self) -> str:
        from .display.training import eval_markdown

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


# ----------------------------------------------------------------------------------------------
# devices, data, batches


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA if available, then Apple's MPS, then the CPU.

    Raises:
        InvalidArgumentError: an unknown device, or one this machine does not have.
    """
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    kind = name.split(":")[0]
    if kind not in ("cpu", "cuda", "mps"):
        raise InvalidArgumentError(f"unknown device {device!r}; use auto, cpu, cuda or mps")
    if kind == "cuda" and not torch.cuda.is_available():
        raise InvalidArgumentError("device 'cuda' asked for, but torch sees no CUDA GPU here")
    if kind == "mps" and not has_mps:
        raise InvalidArgumentError("device 'mps' asked for, but torch.backends.mps is unavailable")
    return torch.device(name)


def _load_data(data: Any, preprocess: Preprocess, *, download: bool, strict: bool) -> Any:
    if isinstance(data, (str, PathLike)):
        from .data import load_data

        return load_data(str(data), preprocess, download=download, strict=strict)
    return data


def _check_images(images: torch.Tensor, labels: torch.Tensor, pre: Preprocess, where: str) -> None:
    want = (pre.channels, *pre.size)
    if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != want:
        raise InvalidArgumentError(
            f"{where} images must be uint8 (N, {want[0]}, {want[1]}, {want[2]}) for this model, "
            f"got {str(images.dtype).replace('torch.', '')} {tuple(images.shape)}; load them "
            "with cnnzoo.data.load_data and the model's preprocessing"
        )
    if labels.dim() != 1 or len(labels) != len(images):
        raise InvalidArgumentError(
            f"{where} labels must be one per image ({len(images)}), got shape {tuple(labels.shape)}"
        )


def _check_labels(labels: torch.Tensor, num_classes: int, where: str) -> None:
    if len(labels) == 0:
        return
    lo, hi = int(labels.min()), int(labels.max())
    if lo < 0 or hi >= num_classes:
        bad = hi if hi >= num_classes else lo
        raise _data_error(
            f"{where} has label {bad}, outside the {num_classes} classes (0..{num_classes - 1}); "
            "the labels must index the class list"
        )


def _data_error(message: str) -> Exception:
    return DataError(message)


def _split_train(
    images: torch.Tensor, labels: torch.Tensor, val_split: float, seed: int
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
    """Hold out ``val_split`` of the training images, chosen by a generator seeded by ``seed``."""
    n = len(labels)
    n_val = round(n * val_split)
    if val_split > 0 and n_val == 0:
        n_val = 1
    if n_val == 0:
        return (images, labels), None
    if n_val >= n:
        raise InvalidArgumentError(
            f"val_split {val_split} leaves no training images out of {n}; use a smaller value"
        )
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = perm[:n_val].sort().values, perm[n_val:].sort().values
    return (images[train_idx], labels[train_idx]), (images[val_idx], labels[val_idx])


def _epoch_generator(seed: int, epoch: int, stream: int = 0) -> torch.Generator:
    # One independent stream per (seed, epoch, purpose): an epoch's batches do not depend on what
    # earlier epochs consumed, which is what makes resume exact.
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 7 + stream)


class _Normalizer:
    """uint8 (N, C, H, W) to normalised float32 on ``device``, as ``Preprocess.normalize``."""

    def __init__(self, pre: Preprocess, device: torch.device, channels_last: bool) -> None:
        mean = torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1)
        self.scale = (1.0 / (255.0 * std)).to(device)
        self.shift = (-mean / std).to(device)
        self.device = device
        self.channels_last = channels_last

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.to(self.device, non_blocking=True).to(torch.float32)
        x = torch.addcmul(self.shift, x, self.scale)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Whole-batch augmentation: a random small affine map per image (rotation up to 10
    degrees, scale 0.9 to 1.1, shift up to 10% of a side), one ``grid_sample`` for the batch."""
    n = x.shape[0]
    r = torch.rand(n, 4, generator=generator) * 2 - 1
    angle = r[:, 0] * math.radians(10)
    scale = 1 + 0.1 * r[:, 1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, 0.2 * r[:, 2]], 1), torch.stack([sin, cos, 0.2 * r[:, 3]], 1)], 1
    ).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Border padding repeats the edge, which is the background of digit and face images.
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def _channels_last_helps(device: torch.device, model: nn.Module) -> bool:
    # Measured (benchmarks/bench_train.py): on the CPU, channels_last speeds LeNet-5 training up;
    # on CUDA, cuDNN picks its layout itself for float32.
    return device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in model.modules())


# ----------------------------------------------------------------------------------------------
# distribution


@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world > 1

    def all_sum(self, values: list[float]) -> list[float]:
        if not self.active:
            return values
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return t.cpu().tolist()

    def broadcast(self, obj: Any) -> Any:
        if not self.active:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def _init_distributed(device_arg: str | torch.device) -> tuple[_Dist, torch.device]:
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 and not (dist.is_available() and dist.is_initialized()):
        return _Dist(), pick_device(device_arg)
    if not dist.is_available():
        raise InvalidArgumentError("WORLD_SIZE > 1 but this torch has no torch.distributed")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_arg)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    elif device.type == "mps":
        raise InvalidArgumentError(
            "distributed training runs on CUDA (nccl) or the CPU (gloo); use --device cpu"
        )
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        owns = True
    return _Dist(dist.get_rank(), dist.get_world_size(), local_rank, owns), device


# ----------------------------------------------------------------------------------------------
# the loop


def _resolve_out(out: str | PathLike[str] | None, name: str, resume: Path | None) -> Path:
    if out is not None:
        return Path(out)
    if resume is not None:
        return resume.parent
    return Path("runs") / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _check_out(out: Path, resume: Path | None) -> None:
    """Refuse an output directory that cannot be written, before anything is written."""
    if out.exists():
        if not out.is_dir():
            raise InvalidArgumentError(f"output directory {str(out)!r} is a file; choose --out DIR")
        if not os.access(out, os.W_OK | os.X_OK):
            raise InvalidArgumentError(
                f"output directory {str(out)!r} is not writable; choose another --out"
            )
        last = out / "last.pth"
        if last.exists() and (resume is None or resume.resolve() != last.resolve()):
            raise InvalidArgumentError(
                f"output directory {str(out)!r} already holds a training run (last.pth); "
                f"continue it with --resume {last} or choose another --out"
            )
        return
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidArgumentError(
            f"cannot create output directory {str(out)!r}: {str(parent)!r} is not a writable "
            "directory; choose another --out"
        )


def _make_optimizer(
    name: str, params: Any, *, lr: float, momentum: float, weight_decay: float
) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise InvalidArgumentError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")


def _rng_state(device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


@torch.inference_mode()
def _eval_arrays(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    norm: _Normalizer,
    num_classes: int,
    *,
    batch_size: int = 512,
    rank: int = 0,
    world: int = 1,
) -> tuple[float, int, int, torch.Tensor]:
    """Loss sum, correct, count and confusion counts of this rank's share (every
    ``world``-th image)."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=_sum_dtype(norm.device), device=norm.device)
    confusion = torch.zeros(num_classes * num_classes, dtype=torch.int64, device=norm.device)
    idx_all = torch.arange(rank, len(labels), world)
    for start in range(0, len(idx_all), batch_size):
        idx = idx_all[start : start + batch_size]
        y = labels[idx].to(norm.device)
        out = model(norm(images[idx]))
        loss_sum += F.cross_entropy(out.float(), y, reduction="sum").to(loss_sum.dtype)
        confusion += torch.bincount(y * num_classes + out.argmax(1), minlength=num_classes**2)
    model.train(was_training)
    confusion = confusion.cpu()
    correct = int(confusion.view(num_classes, num_classes).diagonal().sum())
    return float(loss_sum), correct, len(idx_all), confusion


def _sum_dtype(device: torch.device) -> torch.dtype:
    # Loss sums in float64 (an epoch adds up many numbers); MPS has no float64.
    return torch.float32 if device.type == "mps" else torch.float64


def _score(record: dict[str, Any]) -> tuple[float, float]:
    if record.get("val_acc") is not None:
        return (record["val_acc"], -record["val_loss"])
    return (record["train_acc"], -record["train_loss"])


def _write_history(out: Path, history: list[dict[str, Any]]) -> None:
    text = json.dumps(history, indent=2) + "\n"
    _write_text(out / "history.json", text)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(_HISTORY_KEYS), lineterminator="\n")
    writer.writeheader()
    for rec in history:
        writer.writerow({k: "" if rec.get(k) is None else rec.get(k) for k in _HISTORY_KEYS})
    csv_text = buf.getvalue()
    _write_text(out / "history.csv", csv_text)


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def _progress_callback(progress: Any) -> Callable[[TrainEvent], None] | None:
    if progress is True:
        from .display.progress import ProgressBar

        return ProgressBar()
    if progress is False or progress is None:
        return None
    if not callable(progress):
        raise InvalidArgumentError(
            f"progress must be a callable, True (a progress bar) or None; got {progress!r}"
        )
    return progress


def train(
    name: str,
    data: Any,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    optimizer: str | None = None,
    momentum: float | None = None,
    weight_decay: float | None = None,
    val_split: float | None = None,
    seed: int | None = None,
    augment: bool | None = None,
    device: str | torch.device = "auto",
    out: str | PathLike[str] | None = None,
    resume: str | PathLike[str] | None = None,
    onnx: bool = False,
    strict: bool = False,
    download: bool = False,
    plots: bool = True,
    channels_last: bool | None = None,
    progress: Callable[[TrainEvent], None] | bool | None = None,
    pretrained: bool = False,
    weights: str | None = None,
    freeze_backbone: bool = False,
    image_size: int | None = None,
) -> TrainResult:
    """Train registered model ``name`` on ``data`` and write the run to ``out``.

    Args:
        name: a registered model name or alias.
        data: a data spec (``"mnist:DIR"``, ``"folder:DIR"``, ``"fer2013:CSV"``, ...) or a loaded
            ``DataSplits`` whose images are at the model's preprocessing size.
        epochs: total epochs (a resumed run continues up to this number). Default 10.
        batch_size: images per optimizer step, over all processes together. Default 64.
        lr: learning rate. Default 0.01.
        optimizer: ``"sgd"`` (default, with ``momentum``), ``"adam"`` or ``"adamw"``.
        momentum: SGD momentum. Default 0.9.
        weight_decay: L2 penalty. Default 0.
        val_split: the fraction of the training images held out for validation when the data
            has no test split (chosen with ``seed``). Default 0.2; 0 means no validation.
        seed: seeds the initial weights, the split, every epoch's order and augmentation.
        augment: random small affine maps on whole batches. Default off.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"mps"``.
        out: the output directory; default ``runs/NAME-<timestamp>/`` (the checkpoint's own
            directory when resuming).
        resume: a ``last.pth`` to continue from; options not given are taken from it.
        onnx: also export ``best.pth`` to ``best.onnx`` through ``cnnzoo.export_onnx``.
        strict: fail on a malformed item instead of skipping it (data specs only).
        download: let torchvision download a named dataset that is missing.
        plots: write the PNG figures (``loss.png``, ``accuracy.png``, ``confusion_matrix.png``,
            ``samples.png``).
        channels_last: the memory format of the batches and weights; default: where it was
            measured faster (convolutional models on the CPU).
        progress: called with a [`TrainEvent`][cnnzoo.training.TrainEvent] at the start, on
            every step, at every epoch's end and at the end (rank 0 only); ``True`` shows a
            ``tqdm.auto`` bar per epoch (a widget in a notebook with ipywidgets, text otherwise).
        pretrained: fine-tune the default published weights: backbone loaded, a new head for
            the data's classes, images brought to the backbone's size, channels and
            normalisation (see [`cnnzoo.pretrained.finetune`][cnnzoo.pretrained.finetune]).
        weights: fine-tune the published weights set of this name instead.
        freeze_backbone: train the head only; the backbone's parameters and BatchNorm
            statistics stay bit-identical to the published weights.
        image_size: the side images are resized to when fine-tuning (default the weights'
            crop, 224).

    Returns:
        A [`TrainResult`][cnnzoo.training.TrainResult].

    Raises:
        InvalidArgumentError: a bad option or an unusable output directory (checked before
            anything is written).
        DataError: unreadable data, or labels outside the class list.
        CheckpointError: ``resume`` is unreadable or belongs to another model.
        TrainingInterrupted: on Ctrl-C, after saving ``last.pth`` (a ``KeyboardInterrupt``).
    """
    from .registry import create, model_info

    card = model_info(name)
    model_name = card.name
    resume_path = Path(resume) if resume is not None else None
    ckpt = read_checkpoint(resume_path) if resume_path is not None else None
    if ckpt is not None and ckpt.model is not None and ckpt.model != model_name:
        raise CheckpointError(
            f"{str(resume_path)!r} was trained as {ckpt.model!r}, not {model_name!r}; "
            f"resume it with: cnnzoo train {ckpt.model} --resume {resume_path}"
        )
    if ckpt is not None and "epoch" not in ckpt.extra:
        raise CheckpointError(
            f"{str(resume_path)!r} is not a checkpoint written by cnnzoo train (no epoch and "
            "optimizer state); resume from a run's last.pth"
        )
    saved_cfg: dict[str, Any] = dict(ckpt.extra.get("config", {})) if ckpt else {}
    given: dict[str, Any] = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "optimizer": optimizer,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "val_split": val_split,
        "seed": seed,
        "augment": augment,
    }
    cfg = {k: v if v is not None else saved_cfg.get(k, DEFAULTS[k]) for k, v in given.items()}
    _check_options(cfg)
    # Fine-tuning published weights (cnnzoo.pretrained.finetune); a resumed run repeats its plan.
    from .pretrained import finetune

    tune = (
        finetune.FineTune.from_record(ckpt.extra["finetune"])
        if ckpt is not None and ckpt.extra.get("finetune")
        else finetune.plan(
            model_name,
            pretrained=pretrained,
            weights=weights,
            freeze_backbone=freeze_backbone,
            image_size=image_size,
        )
    )

    # Everything that can be checked is checked before the first file is written.
    out_path = _resolve_out(out, model_name, resume_path)
    _check_out(out_path, resume_path)
    preprocess = (
        Preprocess.from_dict(ckpt.extra["preprocess"])
        if ckpt is not None and "preprocess" in ckpt.extra
        else tune.preprocess()
        if tune is not None
        else preprocess_for(model_name)
    )
    splits = _load_data(data, preprocess, download=download, strict=strict)
    classes = [str(c) for c in splits.classes]
    num_classes = len(classes)
    if num_classes < 2:
        raise _data_error(f"the data has {num_classes} class(es); training needs at least 2")
    if ckpt is not None:
        saved_labels = list(ckpt.extra.get("labels") or [])
        if saved_labels and saved_labels != classes:
            raise CheckpointError(
                f"{str(resume_path)!r} was trained on classes {saved_labels}, this data has "
                f"{classes}; resume on the same data"
            )
    _check_images(splits.train.images, splits.train.labels, preprocess, "training")
    _check_labels(splits.train.labels, num_classes, "the training data")
    if splits.test is not None:
        _check_images(splits.test.images, splits.test.labels, preprocess, "test")
        _check_labels(splits.test.labels, num_classes, "the test data")
        train_set = (splits.train.images, splits.train.labels)
        val_set: tuple[torch.Tensor, torch.Tensor] | None = (
            splits.test.images,
            splits.test.labels,
        )
        val_name = "test"
    else:
        train_set, val_set = _split_train(
            splits.train.images, splits.train.labels, cfg["val_split"], cfg["seed"]
        )
        val_name = "validation"
    if len(train_set[1]) == 0:
        raise _data_error("the training split holds no images")

    dist_state, dev = _init_distributed(device)
    try:
        return _fit(
            model_name=model_name,
            create=create,
            cfg=cfg,
            preprocess=preprocess,
            classes=classes,
            train_set=train_set,
            val_set=val_set,
            val_name=val_name,
            data_source=str(data) if isinstance(data, (str, PathLike)) else "in-memory",
            data_info={
                "skipped": int(getattr(splits, "skipped", 0)),
                "problems": list(getattr(splits, "problems", []))[:5],
                "notes": list(getattr(splits, "notes", []))
                + (tune.notes(num_classes) if tune is not None else []),
            },
            tune=tune,
            ckpt=ckpt,
            resume_path=resume_path,
            out=out_path,
            dist_state=dist_state,
            device=dev,
            onnx=onnx,
            plots=plots,
            channels_last=channels_last,
            progress=_progress_callback(progress),
        )
    finally:
        if dist_state.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()


def _check_options(cfg: dict[str, Any]) -> None:
    for key in ("epochs", "batch_size"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 1:
            raise InvalidArgumentError(f"{key} must be an integer >= 1, got {cfg[key]!r}")
    if not cfg["lr"] > 0:
        raise InvalidArgumentError(f"lr must be positive, got {cfg['lr']!r}")
    if cfg["optimizer"] not in OPTIMIZERS:
        raise InvalidArgumentError(
            f"unknown optimizer {cfg['optimizer']!r}; use one of {', '.join(OPTIMIZERS)}"
        )
    if not 0 <= cfg["momentum"] < 1:
        raise InvalidArgumentError(f"momentum must be in [0, 1), got {cfg['momentum']!r}")
    if cfg["weight_decay"] < 0:
        raise InvalidArgumentError(f"weight_decay must be >= 0, got {cfg['weight_decay']!r}")
    if not 0 <= cfg["val_split"] < 1:
        raise InvalidArgumentError(f"val_split must be in [0, 1), got {cfg['val_split']!r}")


def _fit(
    *,
    model_name: str,
    create: Callable[..., Any],
    cfg: dict[str, Any],
    preprocess: Preprocess,
    classes: list[str],
    train_set: tuple[torch.Tensor, torch.Tensor],
    val_set: tuple[torch.Tensor, torch.Tensor] | None,
    val_name: str,
    data_source: str,
    data_info: dict[str, Any],
    ckpt: Any,
    resume_path: Path | None,
    out: Path,
    dist_state: _Dist,
    device: torch.device,
    onnx: bool,
    plots: bool,
    channels_last: bool | None,
    progress: Callable[[TrainEvent], None] | None,
    tune: Any = None,
) -> TrainResult:
    rank, world = dist_state.rank, dist_state.world
    out = Path(dist_state.broadcast(str(out)))  # rank 0's default timestamp names the run
    num_classes = len(classes)
    model_kwargs = {"num_classes": num_classes}
    if preprocess.channels != _card_channels(model_name):
        model_kwargs["in_chans"] = preprocess.channels
    seed, epochs, batch_size = cfg["seed"], cfg["epochs"], cfg["batch_size"]

    torch.manual_seed(seed)
    model: nn.Module = (
        create(model_name, **model_kwargs)
        if tune is None
        else tune.build(create, model_kwargs, load=ckpt is None)
    )
    model.to(device)
    use_cl = _channels_last_helps(device, model) if channels_last is None else channels_last
    if use_cl:
        model.to(memory_format=torch.channels_last)
    opt = _make_optimizer(
        cfg["optimizer"],
        [p for p in model.parameters() if p.requires_grad],  # a frozen backbone stays out
        lr=cfg["lr"],
        momentum=cfg["momentum"],
        weight_decay=cfg["weight_decay"],
    )
    history: list[dict[str, Any]] = []
    start_epoch = 0
    best_info: dict[str, Any] = {"epoch": 0, "score": None}
    best_state: dict[str, torch.Tensor] | None = None
    if ckpt is not None:
        from .checkpoint import apply_state_dict

        apply_state_dict(model, ckpt.state_dict, source=str(resume_path))
        opt.load_state_dict(ckpt.extra["optimizer"])
        history = [dict(r) for r in ckpt.extra.get("history", [])]
        start_epoch = int(ckpt.extra["epoch"])
        best_info = dict(ckpt.extra.get("best") or best_info)
        best_state = _read_best(resume_path, best_info)
        _set_rng_state(ckpt.extra["rng"], device)
    else:
        # Ranks share the initial weights (seeded above); dropout draws differ per rank.
        torch.manual_seed(seed + rank)

    ddp_model: nn.Module = model
    if dist_state.active:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ddp_model = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)

    norm = _Normalizer(preprocess, device, use_cl)
    train_images, train_labels = train_set
    if device.type != "cpu":
        train_images, train_labels = train_images.to(device), train_labels.to(device)
    n_train = len(train_labels)
    steps = math.ceil(n_train / batch_size)
    config = {
        "model": model_name,
        "data": data_source,
        **cfg,
        "device": str(device),
        "world_size": world,
        "channels_last": use_cl,
        "validation": val_name if val_set is not None else None,
    }
    extra_common = {
        "labels": classes,
        "preprocess": preprocess.to_dict(),
        "config": config,
        **({"finetune": tune.record()} if tune is not None else {}),
    }
    best_path, last_path = out / "best.pth", out / "last.pth"

    def emit(event: TrainEvent) -> None:
        if progress is not None and rank == 0:
            progress(event)

    def snapshot(epoch: int) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "optimizer": copy.deepcopy(opt.state_dict()),
            "rng": _rng_state(device),
            "history": [dict(r) for r in history],
            "best": dict(best_info),
        }

    def save_last(
        snap: dict[str, Any], path: Path | None = None, *, with_history_files: bool = True
    ) -> None:
        metrics = {k: snap["history"][-1][k] for k in _HISTORY_KEYS[1:5]} if snap["history"] else {}
        holder = _StateHolder(model, snap["state"])
        save_checkpoint(
            path or last_path,
            holder,
            model_name=model_name,
            model_kwargs=model_kwargs,
            epoch=snap["epoch"],
            optimizer=snap["optimizer"],
            metrics=metrics,
            history=snap["history"],
            rng=snap["rng"],
            best=snap["best"],
            **extra_common,
        )
        if with_history_files:
            _write_history(out, snap["history"])

    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if best_state is not None and resume_path is not None and not best_path.exists():
            # Resumed into another directory: the best epoch so far comes along.
            import shutil

            source = resume_path.parent / "best.pth"
            atomic_write(best_path, lambda tmp: shutil.copyfile(source, tmp))
    boundary = snapshot(start_epoch)
    saved_epoch = start_epoch if (resume_path is not None and out == resume_path.parent) else None

    emit(
        TrainEvent(
            "begin",
            epoch=start_epoch,
            epochs=epochs,
            steps=steps,
            info={
                "model": model_name,
                "device": str(device),
                "train_images": n_train,
                "val_images": 0 if val_set is None else len(val_set[1]),
                "validation": val_name if val_set is not None else None,
                "classes": classes,
                "world_size": world,
                "out": str(out),
                "start_epoch": start_epoch,
                "channels_last": use_cl,
                **data_info,
            },
        )
    )
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            emit(TrainEvent("epoch_start", epoch=epoch, epochs=epochs, steps=steps))
            t0 = time.perf_counter()
            perm = torch.randperm(n_train, generator=_epoch_generator(seed, epoch))
            aug_gen = _epoch_generator(seed, epoch, stream=1 + rank) if cfg["augment"] else None
            if device.type != "cpu":
                perm = perm.to(device)
            ddp_model.train()
            loss_sum = torch.zeros((), dtype=_sum_dtype(device), device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            seen = 0
            report_every = 1 if device.type == "cpu" else 20
            for step in range(steps):
                global_idx = perm[step * batch_size : (step + 1) * batch_size]
                n_global = len(global_idx)
                idx = global_idx[rank::world]
                x = norm(train_images[idx])
                y = train_labels[idx].to(device)
                if aug_gen is not None:
                    x = _augment(x, aug_gen)
                logits = ddp_model(x)
                batch_loss = F.cross_entropy(logits, y, reduction="sum")
                # DDP averages gradients over ranks: scaling by world / n_global makes that
                # average the mean gradient of the global batch, as one process computes it.
                opt.zero_grad(set_to_none=True)
                (batch_loss * (world / n_global)).backward()
                opt.step()
                loss_sum += batch_loss.detach().to(loss_sum.dtype)
                correct += (logits.detach().argmax(1) == y).sum()
                seen += len(idx)
                if progress is not None and (step % report_every == 0 or step == steps - 1):
                    emit(
                        TrainEvent(
                            "step",
                            epoch=epoch,
                            epochs=epochs,
                            step=step + 1,
                            steps=steps,
                            loss=float(loss_sum) / max(seen, 1),
                            acc=int(correct) / max(seen, 1),
                        )
                    )
            train_seconds = time.perf_counter() - t0
            tl, tc, tn = dist_state.all_sum([float(loss_sum), float(correct), float(seen)])
            record: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": tl / tn,
                "train_acc": tc / tn,
                "val_loss": None,
                "val_acc": None,
                "lr": opt.param_groups[0]["lr"],
                "seconds": 0.0,
                "images_per_s": n_train / train_seconds if train_seconds > 0 else None,
            }
            if val_set is not None:
                v_loss, v_correct, v_count, _ = _eval_arrays(
                    model, val_set[0], val_set[1], norm, num_classes, rank=rank, world=world
                )
                vl, vc, vn = dist_state.all_sum([v_loss, float(v_correct), float(v_count)])
                record["val_loss"], record["val_acc"] = vl / vn, vc / vn
            record["seconds"] = time.perf_counter() - t0
            history.append(record)
            score = _score(record)
            improved = best_info["score"] is None or tuple(score) > tuple(best_info["score"])
            if improved:
                best_info = {"epoch": epoch, "score": list(score)}
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            boundary = snapshot(epoch)
            if rank == 0:
                if improved:
                    # The same record as last.pth of that epoch, so it resumes too.
                    save_last(boundary, best_path, with_history_files=False)
                save_last(boundary)
                saved_epoch = epoch
            emit(TrainEvent("epoch", epoch=epoch, epochs=epochs, steps=steps, record=record))
    except KeyboardInterrupt as exc:
        if rank == 0 and saved_epoch != boundary["epoch"]:
            save_last(boundary)
        raise TrainingInterrupted(last_path if rank == 0 else None, boundary["epoch"]) from exc

    confusion = None
    if best_state is not None and val_set is not None:
        evaluator = _StateHolder(model, best_state).materialise()
        _, _, _, counts = _eval_arrays(
            evaluator, val_set[0], val_set[1], norm, num_classes, rank=rank, world=world
        )
        if dist_state.active:
            counts = torch.tensor(dist_state.all_sum(counts.double().tolist())).long()
        confusion = counts.view(num_classes, num_classes).tolist()
        if rank == 0 and plots:
            from . import plots as plotting

            plotting.save_history_plots(history, out / "loss.png", out / "accuracy.png")
            plotting.save_confusion_matrix(
                confusion, classes, out / "confusion_matrix.png", title=f"{val_name} images"
            )
            images, labels = val_set
            # A seeded random choice, so the grid shows several classes and is the same each run.
            gen = torch.Generator().manual_seed(cfg["seed"])
            pick = torch.randperm(len(labels), generator=gen)[:16].sort().values
            with torch.inference_mode():
                evaluator.eval()
                pred = evaluator(norm(images[pick])).argmax(1).cpu()
            plotting.save_samples(
                images[pick], labels[pick].tolist(), pred.tolist(), classes, out / "samples.png"
            )
    elif rank == 0 and plots:
        from . import plots as plotting

        plotting.save_history_plots(history, out / "loss.png", out / "accuracy.png")

    onnx_path = None
    if onnx and rank == 0:
        try:
            from .export import export_onnx  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise CnnzooError(
                "--onnx needs cnnzoo.export_onnx, which this installation does not have; "
                f"export later with: cnnzoo export {model_name} --checkpoint {best_path}"
            ) from exc
        onnx_path = out / "best.onnx"
        export_onnx(model_name, onnx_path, checkpoint=best_path)
    emit(TrainEvent("end", epoch=epochs, epochs=epochs, steps=steps))
    return TrainResult(
        model=model_name,
        out=out,
        best=best_path,
        last=last_path,
        history=history,
        best_epoch=int(best_info["epoch"]),
        labels=classes,
        confusion=confusion,
        onnx=onnx_path,
        rank=rank,
        world_size=world,
    )


def _card_channels(name: str) -> int:
    from .registry import model_info

    return int(model_info(name).input_size[0])


def _read_best(
    resume_path: Path | None, best_info: dict[str, Any]
) -> dict[str, torch.Tensor] | None:
    """The weights of the best epoch so far, from ``best.pth`` beside ``last.pth``."""
    if resume_path is None or not best_info.get("epoch"):
        return None
    candidate = resume_path.parent / "best.pth"
    if not candidate.is_file():
        return None
    try:
        best = read_checkpoint(candidate)
    except CheckpointError:
        return None
    return best.state_dict if best.extra.get("epoch") == best_info["epoch"] else None


class _StateHolder(nn.Module):
    """Presents a saved state_dict as a module, so ``save_checkpoint`` can write it."""

    def __init__(self, like: nn.Module, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self._like = [like]  # a list, so the model is not registered as a submodule
        self._state = state

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        return dict(self._state)

    def materialise(self) -> nn.Module:
        twin = copy.deepcopy(self._like[0])
        twin.load_state_dict(self._state)
        return twin


# ----------------------------------------------------------------------------------------------
# evaluation


def evaluate(
    checkpoint: str | PathLike[str] | None,
    data: Any,
    *,
    model: str | None = None,
    weights: str | None = None,
    split: str = "auto",
    batch_size: int = 256,
    device: str | torch.device = "auto",
    download: bool = False,
    strict: bool = False,
) -> EvalReport:
    """Evaluate a checkpoint on ``data``: accuracy, per-class precision and recall, confusion.

    Args:
        checkpoint: a ``best.pth``/``last.pth`` from ``cnnzoo train``, or a bare state_dict
            (then ``model`` names the architecture; its card's labels and preprocessing apply).
        data: a data spec or a loaded ``DataSplits``.
        model: the model name, needed only for a bare state_dict or published weights.
        weights: published weights of ``model`` (``"DEFAULT"``, ``"IMAGENET1K_V1"``) instead
            of a checkpoint: their ImageNet categories (a folder's class names must be among
            them) and their own preprocessing.
        split: ``"auto"`` (the test split if the data has one, else the validation images the
            training run held out, rebuilt from its seed and ``val_split``), ``"test"``,
            ``"validation"`` or ``"train"`` (all training images).
        batch_size: images per forward pass.
        device: as for [`train`][cnnzoo.training.train].
        download: let torchvision download a named dataset that is missing.
        strict: fail on a malformed item instead of skipping it.

    Raises:
        CheckpointError: the checkpoint is unreadable or names no model.
        DataError: labels outside the checkpoint's classes, or classes it does not know.
    """
    from .checkpoint import apply_state_dict
    from .registry import create, model_info

    if checkpoint is None or weights is not None:  # published weights (cnnzoo.pretrained)
        from .pretrained.load import as_checkpoint

        ckpt = as_checkpoint(model, weights or "DEFAULT")
        checkpoint = ckpt.extra["source"]
    else:
        ckpt = read_checkpoint(checkpoint)
    model_name = ckpt.model or model
    if model_name is None:
        raise CheckpointError(
            f"{str(checkpoint)!r} is a bare state_dict that does not say which model it is; "
            "pass the model name (model=... or --model)"
        )
    card = model_info(model_name)
    kwargs = dict(ckpt.model_kwargs)
    k = kwargs.get("num_classes", card.num_classes)
    if k is None:
        raise CheckpointError(
            f"{str(checkpoint)!r} does not say its number of classes and {card.name!r} has no "
            "default; evaluate a checkpoint written by cnnzoo train"
        )
    num_classes = int(k)
    labels = [str(v) for v in (ckpt.extra.get("labels") or card.labels_for(num_classes) or [])]
    if len(labels) != num_classes:
        labels = [str(i) for i in range(num_classes)]
    pre = (
        Preprocess.from_dict(ckpt.extra["preprocess"])
        if "preprocess" in ckpt.extra
        else preprocess_for(card.name)
    )
    dev = pick_device(device)
    net = create(card.name, **kwargs)
    apply_state_dict(net, ckpt.state_dict, source=str(checkpoint))
    net.to(dev).eval()

    splits = _load_data(data, pre, download=download, strict=strict)
    images, y, split_name = _pick_split(splits, split, ckpt.extra.get("config") or {})
    _check_images(images, y, pre, split_name)
    y = _map_labels(y, [str(c) for c in splits.classes], labels)
    _check_labels(y, num_classes, f"the {split_name} data")
    norm = _Normalizer(pre, dev, channels_last=False)
    loss_sum, correct, count, counts = _eval_arrays(
        net, images, y, norm, num_classes, batch_size=batch_size
    )
    if count == 0:
        raise _data_error(f"the {split_name} split holds no images")
    cm = counts.view(num_classes, num_classes)
    tp = cm.diagonal().double()
    predicted, actual = cm.sum(0).double(), cm.sum(1).double()
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
    return EvalReport(
        model=card.name,
        checkpoint=str(checkpoint),
        split=split_name,
        labels=labels,
        num_images=count,
        loss=loss_sum / count,
        accuracy=correct / count,
        precision=precision.tolist(),
        recall=recall.tolist(),
        support=actual.long().tolist(),
        confusion=cm.tolist(),
    )


def _pick_split(
    splits: Any, split: str, config: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor, str]:
    if split not in ("auto", "test", "validation", "train"):
        raise InvalidArgumentError(f"unknown split {split!r}; use auto, test, validation or train")
    if split == "test" or (split == "auto" and splits.test is not None):
        if splits.test is None:
            raise _data_error("the data has no test split; use split 'validation' or 'train'")
        return splits.test.images, splits.test.labels, "test"
    if split == "train":
        return splits.train.images, splits.train.labels, "train"
    val_split = float(config.get("val_split", DEFAULTS["val_split"]) or 0)
    if val_split <= 0:
        return splits.train.images, splits.train.labels, "train"
    seed = int(config.get("seed", DEFAULTS["seed"]))
    _, val = _split_train(splits.train.images, splits.train.labels, val_split, seed)
    assert val is not None  # val_split > 0 always holds out at least one image
    return val[0], val[1], "validation"


def _map_labels(
    y: torch.Tensor, data_classes: Sequence[str], labels: Sequence[str]
) -> torch.Tensor:
    """Renumber the data's labels into the checkpoint's class order, matching class names."""
    if list(data_classes) == list(labels):
        return y
    if all(c in labels for c in data_classes):
        table = torch.tensor([list(labels).index(c) for c in data_classes], dtype=torch.int64)
        return table[y]
    if len(data_classes) == len(labels):
        return y  # differently named but as many classes: taken in order
    missing = [c for c in data_classes if c not in labels]
    raise _data_error(
        f"the data has classes {missing} that the checkpoint does not know (it has {list(labels)})"
    )
