"""The exceptions cnnzoo raises.

Every error is a [`CnnzooError`][cnnzoo.errors.CnnzooError], and also the built-in type a
Python user would expect (`ValueError` for a bad value, `TypeError` for a bad keyword), so both
``except cnnzoo.CnnzooError`` and ``except ValueError`` work.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "CnnzooError",
    "DataError",
    "DownloadError",
    "DuplicateModelError",
    "ExportError",
    "InputShapeError",
    "InvalidArgumentError",
    "OptionalDependencyError",
    "RunDirBusyError",
    "SpecError",
    "StudentModelError",
    "TrainingDivergedError",
    "UnknownArgumentError",
    "UnknownModelError",
    "VerificationError",
    "WeightsError",
]


class CnnzooError(Exception):
    """Base class of every error cnnzoo raises on purpose."""


class UnknownModelError(CnnzooError, ValueError):
    """A model name that is not registered."""


class DuplicateModelError(CnnzooError, ValueError):
    """A model name (or alias) registered twice without ``overwrite=True``."""


class UnknownArgumentError(CnnzooError, TypeError):
    """A keyword argument the model's builder does not take."""


class InvalidArgumentError(CnnzooError, ValueError):
    """A keyword argument with a value out of its range (``num_classes=0``, ...)."""


class InputShapeError(CnnzooError, ValueError):
    """An input tensor whose shape the model cannot take."""


class CheckpointError(CnnzooError, ValueError):
    """A weights file that is missing, damaged, or made for another model."""


class WeightsError(CheckpointError):
    """Published weights that cannot be used: a model without any, an unknown weights name, a
    file in the cache whose hash does not match (the message says what to do)."""


class DownloadError(WeightsError):
    """Published weights that are not in the cache and could not be downloaded (no network,
    an interrupted transfer); the message names the URL and the path to put the file at."""


class SpecError(CnnzooError, ValueError):
    """A reference table (``cnnzoo/specs/*.toml`` or a user's file) that is missing or malformed,
    or a name that no table describes."""


class DataError(CnnzooError, ValueError):
    """A dataset that is missing, empty or malformed (the message names the file or row)."""


class ExportError(CnnzooError, RuntimeError):
    """An export that cannot be made: an opset the installed exporter cannot produce, an
    operation it cannot translate, or a file that fails the ONNX checker."""


class VerificationError(ExportError):
    """An exported file whose output differs from the PyTorch model's (the message gives the
    largest difference and the tolerance)."""


class OptionalDependencyError(CnnzooError, ImportError):
    """A feature that needs an optional package that is not installed (the message says how
    to install it)."""


class RunDirBusyError(CnnzooError, RuntimeError):
    """A training run's output directory that another run is writing to right now."""


class TrainingDivergedError(CnnzooError, ArithmeticError):
    """A training run whose loss became NaN or infinite; it stopped there.

    Attributes:
        epoch: the epoch it happened in, from 1.
        batch: the batch (optimizer step) of that epoch, from 1; ``None`` when the validation
            loss was the non-finite one.
        checkpoint: the ``last.pth`` that holds the last finite epoch (``None`` on ranks other
            than 0, or when it could not be written).
        completed: the number of epochs in that checkpoint.
    """

    def __init__(
        self,
        message: str,
        *,
        epoch: int,
        batch: int | None,
        checkpoint: object = None,
        completed: int = 0,
    ) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.checkpoint = checkpoint
        self.completed = completed


class StudentModelError(CnnzooError, RuntimeError):
    """A network named by the user (``--model FILE.py:Class``) that cannot be checked: it does
    not import, has no such class, its constructor raises, or it never returns."""
