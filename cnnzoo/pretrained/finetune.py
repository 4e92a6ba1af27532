"""Fine-tuning, the course project's workflow: a pretrained backbone, a new head, your images.

``cnnzoo train resnet18 --pretrained --data folder:DIR`` (``train(..., pretrained=True)``):

* the backbone is loaded from the published weights and the head is new, one output per class
  of the data (initialised from the run's seed);
* the images are brought to what the backbone expects: resized to ``image_size`` (default the
  weights' crop, 224; smaller sizes train faster and ResNets accept them), grey images given
  three identical channels, normalised with the weights' mean and standard deviation. That
  preprocessing is stored in every checkpoint, so ``predict``, ``evaluate`` and ``export``
  prepare an image exactly the same way;
* ``freeze_backbone=True`` trains the head only: every backbone parameter keeps
  ``requires_grad=False`` (so no optimizer ever changes it: the values stay bit-identical to the
  published weights), and every BatchNorm layer of the backbone stays in eval mode even while
  the model trains, so it normalises with the published running statistics and never updates
  them (they stay bit-identical too). Without freezing, everything trains and BatchNorm behaves
  as in any training;
* the checkpoint records the weights the run started from (``finetune`` in the checkpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import InvalidArgumentError
from .catalog import WeightsInfo
from .resolve import get_weights, is_weights_name

__all__ = ["FineTune", "freeze_backbone", "plan"]

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@dataclass(frozen=True)
class FineTune:
    """How a training run starts from published weights.

    Attributes:
        info: the weights set.
        image_size: the side the images are resized to.
        freeze_backbone: train the head only (BatchNorm of the backbone in eval mode).
    """

    info: WeightsInfo
    image_size: int
    freeze_backbone: bool

    def preprocess(self) -> Any:
        """Resize to ``image_size`` square, 3 channels, the weights' normalisation."""
        from ..preprocess import Preprocess

        s = self.image_size
        return Preprocess(size=(s, s), channels=3, mean=self.info.mean, std=self.info.std)

    def record(self) -> dict[str, Any]:
        """What the checkpoint stores (plain types)."""
        i = self.info
        return {
            "model": i.model,
            "weights": i.name,
            "torchvision": i.qualified,
            "url": i.url,
            "file_name": i.file_name,
            "hash_prefix": i.hash_prefix,
            "image_size": self.image_size,
            "freeze_backbone": self.freeze_backbone,
            "batchnorm": (
                "backbone BatchNorm in eval mode: the published running statistics are used and "
                "kept unchanged"
                if self.freeze_backbone
                else "trained: BatchNorm statistics updated as in any training"
            ),
        }

    def notes(self, num_classes: int) -> list[str]:
        """What the CLI prints at the start of the run."""
        i = self.info
        s = self.image_size
        head = (
            f"new head for {num_classes} classes (the weights have {i.num_classes})"
            if i.num_classes != num_classes
            else f"head loaded ({num_classes} classes)"
        )
        frozen = (
            "backbone frozen: only the head trains, BatchNorm statistics kept"
            if self.freeze_backbone
            else "all layers train"
        )
        return [
            f"starting from {i.qualified}: backbone loaded, {head}; {frozen}",
            f"images resized to {s}x{s}, 3 channels (grey repeated), normalised with the "
            f"weights' mean {list(i.mean)} and std {list(i.std)}",
        ]

    def build(
        self, create: Callable[..., Any], kwargs: Mapping[str, Any], *, load: bool
    ) -> nn.Module:
        """The model: built with ``kwargs`` and, when ``load``, the published weights loaded
        into it (a new head for another number of classes); frozen if asked."""
        if load:
            model = create(self.info.model, weights=self.info.name, **kwargs)
        else:
            model = create(self.info.model, **kwargs)  # resumed: the checkpoint's state follows
        if self.freeze_backbone:
            freeze_backbone(model)
        return model

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> FineTune:
        """The plan a checkpoint recorded (to resume the run the same way)."""
        info = get_weights(str(record["model"]), str(record["weights"]))
        return cls(info, int(record["image_size"]), bool(record["freeze_backbone"]))


def _keep_eval(module: nn.Module, _inputs: Any) -> None:
    module.training = False


def freeze_backbone(model: nn.Module) -> list[str]:
    """Train only the head of ``model`` (its ``head_name`` layer): every other parameter gets
    ``requires_grad=False`` and every BatchNorm outside the head runs in eval mode even under
    ``model.train()`` (a forward pre-hook), so its running statistics are used, not updated.

    Returns:
        The names of the parameters that still train (the head's).

    Raises:
        InvalidArgumentError: the model does not name its head.
    """
    head = getattr(model, "head_name", None)
    if not head:
        raise InvalidArgumentError(
            f"{type(model).__name__} does not name its head (head_name), so its backbone cannot "
            "be frozen"
        )
    trainable = []
    for name, p in model.named_parameters():
        inside = name.startswith(f"{head}.")
        p.requires_grad_(inside)
        if inside:
            trainable.append(name)
    for name, m in model.named_modules():
        if isinstance(m, _BN) and not (name == head or name.startswith(f"{head}.")):
            m.eval()
            m.register_forward_pre_hook(_keep_eval)
    return trainable


def plan(
    name: str,
    *,
    pretrained: bool = False,
    weights: str | None = None,
    freeze_backbone: bool = False,
    image_size: int | None = None,
) -> FineTune | None:
    """The fine-tuning plan of a training run, or ``None`` when it trains from scratch.

    Raises:
        WeightsError: the model has no published weights, or no set of that name.
        InvalidArgumentError: ``freeze_backbone`` or ``image_size`` without published
            weights, a weights file (training starts from published weights by name; a run
            continues with ``resume``), or an image size the model cannot take.
    """
    if weights is not None and not is_weights_name(name, weights):
        raise InvalidArgumentError(
            f"training starts from published weights by name (--weights IMAGENET1K_V1, or "
            f"--pretrained), not from the file {weights!r}; continue a run with --resume"
        )
    if not pretrained and weights is None:
        for flag, value in (("--freeze-backbone", freeze_backbone), ("--image-size", image_size)):
            if value:
                raise InvalidArgumentError(
                    f"{flag} applies when fine-tuning published weights; add --pretrained"
                )
        return None
    info = get_weights(name, weights or "DEFAULT")
    size = info.transforms.crop if image_size is None else image_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidArgumentError(f"image_size must be a positive integer, got {size!r}")
    from ..registry import create

    spec = getattr(create(info.model, device="meta"), "input_spec", None)
    if spec is not None and (
        size < spec.min_size or (spec.max_size is not None and size > spec.max_size)
    ):
        top = f" to {spec.max_size}" if spec.max_size is not None else " or more"
        raise InvalidArgumentError(
            f"{info.model} cannot take {size}x{size} images; use --image-size {spec.min_size}{top}"
        )
    return FineTune(info, size, bool(freeze_backbone))
