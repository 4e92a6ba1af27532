"""What a model expects of an image: size, channels and normalisation.

A [`Preprocess`][cnnzoo.preprocess.Preprocess] comes from the model card, travels inside every
checkpoint that ``cnnzoo train`` writes (as a plain dict), and is applied the same way by
training, ``predict``, ``explain`` and ``export``, so a model never sees an image prepared
differently from the ones it learnt on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import torch

from .errors import InvalidArgumentError

__all__ = ["Preprocess", "preprocess_for"]


@dataclass(frozen=True)
class Preprocess:
    """Resize to ``size``, convert to ``channels``, scale to [0, 1], normalise.

    Attributes:
        size: (H, W) the model takes.
        channels: 1 (grey) or 3 (RGB); a grey image is repeated to 3 channels where asked.
        mean: per-channel mean subtracted after scaling to [0, 1].
        std: per-channel standard deviation divided by.
        resize: when set, an image file is first resized so that its shorter side has this
            many pixels (aspect kept) and then centre-cropped to ``size``, as published
            ImageNet weights are evaluated (256, then a 224 crop); ``None``: resized to ``size``.
    """

    size: tuple[int, int]
    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: int | None = None

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise InvalidArgumentError(f"channels must be 1 or 3, got {self.channels}")
        if len(self.size) != 2 or min(self.size) < 1:
            raise InvalidArgumentError(f"size must be (H, W) with H, W >= 1, got {self.size}")
        for label, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != self.channels:
                raise InvalidArgumentError(
                    f"{label} needs one value per channel ({self.channels}), got {list(values)}"
                )
        if any(s <= 0 for s in self.std):
            raise InvalidArgumentError(f"std must be positive, got {list(self.std)}")
        if self.resize is not None and self.resize < max(self.size):
            raise InvalidArgumentError(
                f"resize {self.resize} is smaller than the crop {self.size}; it must be at least "
                "the crop's larger side"
            )

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (lists and numbers) that ``torch.load(weights_only=True)`` reads back."""
        record: dict[str, Any] = {
            "size": list(self.size),
            "channels": self.channels,
            "mean": list(self.mean),
            "std": list(self.std),
        }
        if self.resize is not None:
            record["resize"] = self.resize
        return record

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocess:
        """The inverse of [`to_dict`][cnnzoo.preprocess.Preprocess.to_dict].

        Raises:
            InvalidArgumentError: a key is missing or a value is out of range.
        """
        try:
            return cls(
                size=(int(data["size"][0]), int(data["size"][1])),
                channels=int(data["channels"]),
                mean=tuple(float(v) for v in data["mean"]),
                std=tuple(float(v) for v in data["std"]),
                resize=int(data["resize"]) if data.get("resize") is not None else None,
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise InvalidArgumentError(
                f"preprocessing record {dict(data)!r} is incomplete: it needs size, channels, "
                "mean and std"
            ) from exc

    def normalize(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, H, W) in [0, 255], already at ``size``, to normalised float32."""
        mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1) * 255.0
        std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1) * 255.0
        return (batch.to(torch.float32) - mean) / std

    def image_to_uint8(self, image: Any) -> torch.Tensor:
        """A PIL image to a uint8 tensor (C, H, W) at ``size`` with ``channels`` channels."""
        import numpy as np
        from PIL import Image

        mode = "L" if self.channels == 1 else "RGB"
        image = image.convert(mode)
        if self.resize is not None:
            image = self._resize_and_crop(image)
        if image.size != (self.size[1], self.size[0]):
            image = image.resize((self.size[1], self.size[0]), Image.Resampling.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
        if array.ndim == 2:
            array = array[:, :, None]
        return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()

    def _resize_and_crop(self, image: Any) -> Any:
        # torchvision's ImageClassification: shorter side to `resize` (bilinear, antialiased
        # as PIL always is), then the centre crop, its offsets rounded as center_crop rounds.
        from PIL import Image

        assert self.resize is not None
        w, h = image.size
        if w <= h:
            new_w, new_h = self.resize, int(self.resize * h / w)
        else:
            new_w, new_h = int(self.resize * w / h), self.resize
        if (new_w, new_h) != (w, h):
            image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
        ch, cw = self.size
        top = round((new_h - ch) / 2.0)
        left = round((new_w - cw) / 2.0)
        return image.crop((left, top, left + cw, top + ch))

    def load_image(self, path: str | PathLike[str]) -> torch.Tensor:
        """Read an image file and return it normalised, float32 (C, H, W).

        Raises:
            FileNotFoundError: the file does not exist.
            InvalidArgumentError: the file is not an image PIL can read.
        """
        from PIL import Image, UnidentifiedImageError

        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"image {str(p)!r} does not exist")
        try:
            with Image.open(p) as img:
                img.load()
                data = self.image_to_uint8(img)
        except Image.DecompressionBombError as exc:
            raise InvalidArgumentError(
                f"image {str(p)!r} is too large to open: {exc}. Resize it (cnnzoo resizes every "
                f"image to {self.size[0]}x{self.size[1]} anyway)"
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise InvalidArgumentError(f"cannot read image {str(p)!r}: {exc}") from exc
        return self.normalize(data.unsqueeze(0))[0]


def preprocess_for(
    name: str, input_size: Sequence[int] | None = None, *, in_chans: int | None = None
) -> Preprocess:
    """The preprocessing of registered model ``name`` (its card's input size and normalisation).

    ``input_size`` (C, H, W) and ``in_chans`` override the card's; a model whose source gives no
    normalisation gets mean 0.5 and std 0.5 per channel (inputs in [-1, 1]).
    """
    from .registry import model_info

    card = model_info(name)
    c, h, w = (tuple(input_size) if input_size is not None else card.input_size)[-3:]
    if in_chans is not None:
        c = in_chans
    if card.mean is not None and card.std is not None and len(card.mean) == c:
        mean, std = tuple(card.mean), tuple(card.std)
    elif card.mean is not None and card.std is not None and len(set(card.mean)) == 1:
        mean, std = (card.mean[0],) * c, (card.std[0],) * c
    else:
        mean, std = (0.5,) * c, (0.5,) * c
    return Preprocess(size=(int(h), int(w)), channels=int(c), mean=mean, std=std)
