"""Every registered model, parametrised over the registry: builds, shapes, exact numbers."""

from __future__ import annotations

import pytest
import torch

import cnnzoo
from cnnzoo._stats import build_for_shapes
from cnnzoo.errors import InputShapeError

from .conftest import is_big

ALL = cnnzoo.list_models()
CLASSIFIERS = [n for n in ALL if cnnzoo.model_info(n).is_classifier]

# The table and the reference report (../shared/reference/architectures.md).
EXPECTED_PARAMS = {
    "emotionnet": 1_665_667,
    "fer_cnn": 318_055,
    "lenet5": 61_706,
    "lenet5_3x3": 81_194,
    "mlp": 669_706,
    "alexnet": 62_378_344,
    "alexnet_torchvision": 61_100_840,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "inception_block": 163_696,
    "googlenet": 6_998_552,
    "googlenet_torchvision": 6_624_904,
    "resnet18": 11_689_512,
    "resnet152": 60_192_808,
    # He et al. 2015, Table 6 (0.27M, 0.46M, 0.66M, 0.85M, 1.7M), option A shortcuts: the
    # identity, so 6n+1 convolutions, their BatchNorms and the fc, nothing for the shortcuts.
    "resnet20": 269_722,
    "resnet32": 464_154,
    "resnet44": 658_586,
    "resnet56": 853_018,
    "resnet110": 1_727_962,
}
EXPECTED_MULT_ADDS = {
    "emotionnet": 74_511_363,
    "lenet5": 423_038,
    "lenet5_3x3": 282_974,
    "mlp": 669_706,
    "alexnet": 1_135_915_368,
    "alexnet_torchvision": 714_682_664,
}
EXPECTED_INPUT = {
    "emotionnet": (3, 48, 48),
    "fer_cnn": (1, 48, 48),
    "lenet5": (1, 32, 32),
    "lenet5_3x3": (1, 32, 32),
    "mlp": (1, 28, 28),
    "alexnet": (3, 227, 227),
    "inception_block": (192, 28, 28),
}


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build(name: str, **kwargs) -> torch.nn.Module:
    """Real weights for small models, meta for the big ones (only shapes matter here)."""
    if is_big(name):
        return cnnzoo.create(name, device="meta", **kwargs)
    return cnnzoo.create(name, **kwargs).eval()


def sample(name: str, batch: int = 2, device: str = "cpu") -> torch.Tensor:
    return torch.randn(batch, *cnnzoo.model_info(name).input_size, device=device)


def test_every_table_model_is_registered():
    for name in EXPECTED_PARAMS:
        assert name in ALL
    for fam in ("vgg", "resnet"):
        assert len(cnnzoo.list_models(family=fam)) >= 5
    assert cnnzoo.list_models("vgg*") == [
        "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"
    ]  # fmt: skip
    assert cnnzoo.list_models(family="resnet") == [
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"
    ]  # fmt: skip
    # The paper's CIFAR-10 networks (section 4.2), a family of their own.
    assert cnnzoo.list_models(family="resnet_cifar") == [
        "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMS))
def test_parameter_count_matches_the_documents(name):
    assert n_params(cnnzoo.create(name, device="meta")) == EXPECTED_PARAMS[name]
    assert cnnzoo.model_info(name).num_params == EXPECTED_PARAMS[name]


def test_emotionnet_seven_classes():
    assert n_params(cnnzoo.create("emotionnet", num_classes=7)) == 1_665_927


def test_fer_cnn_keras_count_includes_running_stats():
    model = cnnzoo.create("fer_cnn")
    running = sum(
        b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var"))
    )
    assert running == 1_920
    assert n_params(model) + running == 319_975  # Keras' "Total params"


@pytest.mark.parametrize("name", sorted(EXPECTED_MULT_ADDS))
def test_mult_adds_match_the_reference(name):
    assert cnnzoo.model_info(name).mult_adds == EXPECTED_MULT_ADDS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_INPUT))
def test_default_input(name):
    assert cnnzoo.model_info(name).input_size == EXPECTED_INPUT[name]


@pytest.mark.parametrize("name", ALL)
def test_builds_and_forward_shape(name):
    model = build(name)
    device = "meta" if is_big(name) else "cpu"
    card = cnnzoo.model_info(name)
    with torch.no_grad():
        out = model(sample(name, device=device))
    assert tuple(out.shape) == (2, *card.output_size)
    assert n_params(model) == card.num_params
    if card.is_classifier:
        assert card.output_size == (card.num_classes,)
        assert model.num_classes == card.num_classes
        assert model.default_input_size == card.input_size


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_uniform_surface(name):
    model = build(name)
    device = "meta" if is_big(name) else "cpu"
    x = sample(name, device=device)
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model.forward_head(feats)
        pre = model.forward_head(feats, pre_logits=True)
        assert pre.shape == (2, model.get_classifier().in_features)
        if device == "cpu":
            torch.testing.assert_close(logits, model(x))
            torch.testing.assert_close(model.get_classifier()(pre), logits)
        model.reset_classifier(5)
        assert model.num_classes == 5
        assert model(x).shape == (2, 5)
        assert model.get_classifier().weight.device.type == device


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_num_classes_and_in_chans(name):
    model = cnnzoo.create(name, num_classes=4, in_chans=2, device="meta")
    _, h, w = cnnzoo.model_info(name).input_size
    assert model(torch.empty(2, 2, h, w, device="meta")).shape == (2, 4)
    with pytest.raises(InputShapeError, match="3 channels"):
        model(torch.empty(2, 3, h, w, device="meta"))


def _raw_forward(model, x):
    # The layers without the input guard: what torch itself says about the size.
    return model.forward_head(model.forward_features(x))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_input_guard_is_exact(name):
    """The accepted size range is exactly the range that runs: both ends, and one past each."""
    model = build_for_shapes(name)
    spec = model.input_spec
    c = spec.channels

    def x(side: int) -> torch.Tensor:
        return torch.zeros(1, c, side, side)

    with torch.no_grad():
        model(x(spec.min_size))
        if spec.min_size > 1:
            with pytest.raises(InputShapeError, match="expects input of shape"):
                model(x(spec.min_size - 1))
            with pytest.raises(RuntimeError):
                _raw_forward(model, x(spec.min_size - 1))
        if spec.max_size is not None:
            model(x(spec.max_size))
            with pytest.raises(InputShapeError, match=f"Resize the images to {spec.default_size}"):
                model(x(spec.max_size + 1))
            with pytest.raises(RuntimeError):
                _raw_forward(model, x(spec.max_size + 1))


@pytest.mark.parametrize("name", ["emotionnet", "lenet5", "alexnet", "mlp", "fer_cnn"])
def test_fixed_input_error_states_expected_and_received(name):
    model = cnnzoo.create(name, device="meta")
    c, h, w = cnnzoo.model_info(name).input_size
    with pytest.raises(InputShapeError) as err:
        model(torch.empty(2, c, h + 64, w + 64, device="meta"))
    msg = str(err.value)
    assert f"(N, {c}, {h}, {w})" in msg
    assert f"(2, {c}, {h + 64}, {w + 64})" in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(InputShapeError, match="unsqueeze"):
        model(torch.empty(c, h, w, device="meta"))


def test_inception_block_channels():
    block = cnnzoo.create("inception_block")
    assert block(torch.randn(1, 192, 28, 28)).shape == (1, 256, 28, 28)
    custom = cnnzoo.create("inception_block", in_channels=480, ch1x1=192, ch3x3red=96,
                           ch3x3=208, ch5x5red=16, ch5x5=48, pool_proj=64)  # fmt: skip
    assert custom(torch.randn(1, 480, 14, 14)).shape == (1, 512, 14, 14)
    assert block.branch3[1].conv.kernel_size == (5, 5)  # the paper's true 5x5
    with pytest.raises(InputShapeError, match="192"):
        block(torch.randn(1, 100, 28, 28))


def test_googlenet_variants_differ_as_documented():
    paper = cnnzoo.create("googlenet", device="meta")
    tv = cnnzoo.create("googlenet_torchvision", device="meta")
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)
    assert tv.inception3a.branch3[1].conv.kernel_size == (3, 3)
    assert paper.inception3a.branch1.conv.bias is not None and paper.inception3a.branch1.bn is None
    assert tv.inception3a.branch1.conv.bias is None and tv.inception3a.branch1.bn is not None
    # inception (3a) inside the paper network is the registered block
    assert n_params(paper.inception3a) == EXPECTED_PARAMS["inception_block"]


def test_emotionnet_follows_the_figure():
    m = cnnzoo.create("emotionnet")
    assert [(c.kernel_size, c.padding) for c in (m.conv1, m.conv2, m.conv3)] == [
        ((3, 3), (1, 1)), ((3, 3), (0, 0)), ((4, 4), (0, 0))
    ]  # fmt: skip
    assert [m.fc1.out_features, m.fc2.out_features, m.fc3.out_features] == [256, 64, 3]
    x = torch.randn(4, 3, 48, 48)
    assert (m(x) < 0).any()  # plain logits by default
    act = cnnzoo.create("emotionnet", output_activation=True)
    act.load_state_dict(m.state_dict())
    torch.testing.assert_close(act(x), torch.nn.functional.leaky_relu(m(x), 0.01))


def test_lab_state_dicts_load():
    """A state_dict of document 004's LeNet ``Net`` (conv1, conv2, fc1..fc3) loads as it is."""

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 6, 5)
            self.conv2 = torch.nn.Conv2d(6, 16, 5)
            self.fc1 = torch.nn.Linear(400, 120)
            self.fc2 = torch.nn.Linear(120, 84)
            self.fc3 = torch.nn.Linear(84, 10)

    cnnzoo.create("lenet5").load_state_dict(Net().state_dict(), strict=True)
