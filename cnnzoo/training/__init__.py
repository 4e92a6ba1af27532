"""Training and evaluation: the labs' loop, fast, reproducible and resumable, in small parts.

[`train`][cnnzoo.training.train] is what ``cnnzoo train`` runs;
[`evaluate`][cnnzoo.training.evaluate] is what ``cnnzoo evaluate`` runs. Both take the data as
a spec string (``"mnist:DIR"``, ``"folder:DIR"``, ...; see
[`load_data`][cnnzoo.data.load_data]) or as an already loaded ``DataSplits``.

The parts, one idea each:

- ``run``: ``train`` assembles the parts and runs the epoch loop (``run_epochs``, one screen);
- ``loop``: ``train_one_epoch`` and ``evaluate_split``, the labs' two loops;
- ``splits``: training, validation (held out of it) and test, and their record;
- ``batches``: the held-out split, seeded whole-batch tensors and augmentations;
- ``schedules``: learning-rate schedules from ``torch.optim.lr_scheduler``, per batch;
- ``options``: defaults, checks, the optimizer, experiment files (``config.toml``);
- ``state``: the run directory, ``last.pth``/``best.pth`` and resuming;
- ``history``: the per-epoch records and the choice of ``best.pth`` (validation only);
- ``device``: devices, ``torchrun``, channels_last, mixed precision, RNG state;
- ``finish``: the confusion matrix, the figures, the ONNX file;
- ``evaluation``: ``evaluate`` on exactly the split asked for;
- ``results``: what they return.

Several processes: under ``torchrun`` (``RANK``/``WORLD_SIZE`` in the environment) the same call
joins the process group (gloo on CPU, nccl on CUDA), wraps the model in
``DistributedDataParallel``, and gives each rank every ``world_size``-th image of each global
batch; the loss is scaled so that the averaged gradient is the global batch's mean gradient,
exactly what one process with the same ``batch_size`` computes. Only rank 0 writes files.
"""

from __future__ import annotations

from .device import pick_device
from .evaluation import evaluate
from .options import DEFAULTS, OPTIMIZERS, SCHEDULES, read_config
from .results import EvalReport, TrainEvent, TrainingInterrupted, TrainResult
from .run import train

__all__ = [
    "DEFAULTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "EvalReport",
    "TrainEvent",
    "TrainResult",
    "TrainingInterrupted",
    "evaluate",
    "pick_device",
    "read_config",
    "train",
]
