"""Names, aliases, patterns, registration, cards and argument errors."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch

import cnnzoo
from cnnzoo import registry
from cnnzoo.errors import (
    DuplicateModelError,
    InvalidArgumentError,
    UnknownArgumentError,
    UnknownModelError,
)
from cnnzoo.labels import FER2013


@pytest.fixture
def clean_registry():
    """Undo registrations a test makes."""
    entries, keys = dict(registry._ENTRIES), dict(registry._KEYS)
    loaded = registry._entry_points_loaded
    yield
    registry._ENTRIES.clear()
    registry._ENTRIES.update(entries)
    registry._KEYS.clear()
    registry._KEYS.update(keys)
    registry._entry_points_loaded = loaded


@pytest.mark.parametrize("spelling", ["LeNet-5", "lenet5", "lenet_5", "LENET5", "le-net_5"])
def test_names_ignore_case_dash_and_underscore(spelling):
    assert registry.resolve_name(spelling) == "lenet5"
    assert type(cnnzoo.create(spelling)).__name__ == "LeNet5"


def test_aliases():
    assert registry.resolve_name("SI100FaceNet") == "emotionnet"
    assert cnnzoo.create("si100facenet").model_name == "emotionnet"
    assert "si100facenet" in cnnzoo.model_info("emotionnet").aliases


def test_unknown_name_suggests_and_points_to_list_models():
    with pytest.raises(UnknownModelError) as err:
        cnnzoo.create("resnet81")
    msg = str(err.value)
    assert "'resnet18'" in msg and "did you mean" in msg and "list_models()" in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(UnknownModelError, match="vgg16"):
        cnnzoo.model_info("vgg61")
    with pytest.raises(UnknownModelError, match="list_models"):
        cnnzoo.create("completely-unrelated")


def test_list_models_patterns():
    assert cnnzoo.list_models("resnet1*") == ["resnet18", "resnet101", "resnet110", "resnet152"]
    assert cnnzoo.list_models(["lenet*", "mlp"]) == ["lenet5", "lenet5_3x3", "mlp"]
    assert cnnzoo.list_models("vgg*", exclude="*_bn") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert cnnzoo.list_models("VGG16*") == ["vgg16", "vgg16_bn"]
    assert cnnzoo.list_models(family="emotion") == ["emotionnet", "fer_cnn"]
    assert cnnzoo.list_models(family="googlenet", exclude=["*torchvision"]) == [
        "googlenet",
        "inception_block",
    ]
    assert cnnzoo.list_models("nothing*") == []
    assert "resnet" in cnnzoo.list_families()


def test_unknown_keyword_is_a_type_error_before_building(clean_registry):
    calls = []

    @cnnzoo.register_model(family="test", input_size=(1, 4, 4), num_classes=2)
    def probe_net(*, num_classes: int = 2) -> torch.nn.Module:
        """A probe."""
        calls.append(num_classes)
        return torch.nn.Linear(16, num_classes)

    with pytest.raises(UnknownArgumentError) as err:
        cnnzoo.create("probe_net", num_class=3)
    assert isinstance(err.value, TypeError)
    assert "'num_class'" in str(err.value) and "num_classes" in str(err.value)
    assert calls == []  # nothing was built


def test_unknown_keyword_on_a_real_model():
    with pytest.raises(TypeError, match=r"'dropout'.*accepts: num_classes, in_chans"):
        cnnzoo.create("resnet18", dropout=0.1)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("emotionnet", {"num_classes": 0}, "num_classes must be a positive integer, got 0"),
        ("lenet5", {"in_chans": -1}, "in_chans must be a positive integer, got -1"),
        ("vgg16", {"dropout": 1.0}, r"dropout must be a probability in \[0, 1\), got 1.0"),
        ("alexnet", {"dropout": -0.1}, "dropout must be a probability"),
        ("fer_cnn", {"num_classes": 2.5}, "num_classes must be a positive integer"),
        ("resnet18", {"num_classes": True}, "num_classes must be a positive integer"),
        ("inception_block", {"ch1x1": 0}, "ch1x1 must be a positive integer"),
    ],
)
def test_invalid_values(name, kwargs, match):
    with pytest.raises(InvalidArgumentError, match=match) as err:
        cnnzoo.create(name, device="meta", **kwargs)
    assert isinstance(err.value, ValueError)


def test_register_model_duplicate_raises_and_overwrite_replaces(clean_registry):
    def make(**_):
        return torch.nn.Identity()

    cnnzoo.register_model(make, name="dup_net", family="test", input_size=(1, 2, 2))
    with pytest.raises(DuplicateModelError, match="already taken by model 'dup_net'"):
        cnnzoo.register_model(make, name="Dup-Net", family="test", input_size=(1, 2, 2))
    with pytest.raises(DuplicateModelError, match="'lenet5'"):
        cnnzoo.register_model(make, name="other", aliases=("lenet_5",), family="t",
                              input_size=(1, 2, 2))  # fmt: skip

    def make2(**_):
        """Second version."""
        return torch.nn.Identity()

    cnnzoo.register_model(make2, name="dup_net", family="test", input_size=(1, 2, 2),
                          overwrite=True)  # fmt: skip
    assert registry.get_builder("dup_net") is make2


def test_model_card():
    card = cnnzoo.model_info("emotionnet")
    assert card.name == "emotionnet"
    assert card.family == "emotion"
    assert card.input_size == (3, 48, 48)
    assert card.num_classes == 3
    assert card.class_labels == ("happy", "neutral", "sad")
    assert card.labels_for(7) == FER2013
    assert card.mean == (0.5, 0.5, 0.5)
    assert card.source is not None and "000" in card.source.document
    assert card.description
    with pytest.raises(AttributeError):
        card.name = "x"  # frozen
    fer = cnnzoo.model_info("fer_cnn")
    assert fer.class_labels == FER2013
    vgg = cnnzoo.model_info("vgg16")
    assert vgg.source.url == "https://arxiv.org/abs/1409.1556" and "2014" in vgg.source.citation
    assert vgg.mult_adds == 15_483_821_032
    block = cnnzoo.model_info("inception_block")
    assert block.num_classes is None and not block.is_classifier
    assert block.output_size == (256, 28, 28)


def test_every_card_is_complete():
    for name in cnnzoo.list_models():
        card = cnnzoo.model_info(name)
        assert card.description and card.source and card.num_params > 0 and card.mult_adds > 0


def test_third_party_entry_point(tmp_path, monkeypatch, clean_registry):
    """A package that declares ``cnnzoo.models`` entry points is found on first unknown name."""
    (tmp_path / "zoo_plugin.py").write_text(
        textwrap.dedent(
            '''
            import torch
            import cnnzoo

            @cnnzoo.register_model(family="plugin", input_size=(1, 8, 8), num_classes=3)
            def plugin_net(*, num_classes: int = 3) -> torch.nn.Module:
                """A model from another package."""
                return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, num_classes))
            '''
        )
    )
    dist = tmp_path / "zoo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[cnnzoo.models]\nzoo_plugin = zoo_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zoo_plugin", raising=False)
    registry._entry_points_loaded = False
    model = cnnzoo.create("plugin-net")
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    card = cnnzoo.model_info("plugin_net")
    assert card.num_params == 64 * 3 + 3 and card.mult_adds == 195  # measured, not shipped
    assert "plugin_net" in cnnzoo.list_models(family="plugin")


def test_import_does_not_pull_in_torchvision():
    import subprocess

    code = (
        "import sys, cnnzoo; cnnzoo.create('vgg16', device='meta'); cnnzoo.list_models();"
        "cnnzoo.model_info('resnet18'); from cnnzoo.cli import main;"
        "main(['list']); main(['info', 'googlenet']);"
        "assert 'torchvision' not in sys.modules, 'torchvision was imported'"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
