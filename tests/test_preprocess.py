"""Preprocess: the card's normalisation, a round trip through a checkpoint-safe dict, images."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from cnnzoo.errors import InvalidArgumentError
from cnnzoo.preprocess import Preprocess, preprocess_for


def test_from_card_lenet5_uses_mnist_statistics() -> None:
    p = preprocess_for("lenet5")
    assert p == Preprocess(size=(32, 32), channels=1, mean=(0.1307,), std=(0.3081,))


def test_in_chans_override_repeats_a_uniform_normalisation() -> None:
    p = preprocess_for("emotionnet", in_chans=1)
    assert p.channels == 1 and p.mean == (0.5,) and p.std == (0.5,)


def test_dict_round_trip_survives_weights_only_load(tmp_path) -> None:
    p = preprocess_for("vgg16")
    torch.save({"preprocess": p.to_dict()}, tmp_path / "p.pth")
    back = torch.load(tmp_path / "p.pth", weights_only=True)["preprocess"]
    assert Preprocess.from_dict(back) == p


def test_incomplete_record_is_a_named_error() -> None:
    with pytest.raises(InvalidArgumentError, match="size, channels, mean and std"):
        Preprocess.from_dict({"size": [32, 32]})


def test_mean_per_channel_is_enforced() -> None:
    with pytest.raises(InvalidArgumentError, match="one value per channel"):
        Preprocess(size=(8, 8), channels=3, mean=(0.5,), std=(0.5,))


def test_load_image_resizes_converts_and_normalises(tmp_path) -> None:
    Image.new("L", (10, 20), color=255).save(tmp_path / "white.png")
    p = Preprocess(size=(48, 48), channels=3, mean=(0.5,) * 3, std=(0.5,) * 3)
    x = p.load_image(tmp_path / "white.png")
    assert x.shape == (3, 48, 48)
    assert torch.allclose(x, torch.ones_like(x))


def test_load_image_errors_name_the_file(tmp_path) -> None:
    p = preprocess_for("lenet5")
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        p.load_image(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(InvalidArgumentError, match=r"bad\.png"):
        p.load_image(tmp_path / "bad.png")
