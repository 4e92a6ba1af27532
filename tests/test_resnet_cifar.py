"""The CIFAR-10 ResNets of He et al. 2015 (section 4.2) and the paper's Table 6."""

from __future__ import annotations

from importlib import resources

import pytest
import torch

import cnnzoo

NAMES = ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110"]


@pytest.mark.parametrize(("name", "n"), list(zip(NAMES, (3, 5, 7, 9, 18), strict=True)))
def test_depth_and_parameters_follow_6n_plus_2(name, n):
    model = cnnzoo.create(name, device="meta")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    fcs = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(convs) + len(fcs) == 6 * n + 2  # the weighted layers the name counts
    assert [c.kernel_size for c in convs] == [(3, 3)] * (6 * n + 1)  # no 1x1 projections
    # 3x3 stem with 16 channels; stages of 16, 32 and 64.
    assert convs[0].out_channels == 16
    assert [c.out_channels for c in convs[1:]] == [16] * 2 * n + [32] * 2 * n + [64] * 2 * n
    # By hand: stem 432 + 32; per block 2 convs and 2 BatchNorms; fc 650.
    stage = [16, 32, 64]
    count = 3 * 16 * 9 + 2 * 16 + 64 * 10 + 10
    for i, c in enumerate(stage):
        first_in = 16 if i == 0 else stage[i - 1]
        count += first_in * c * 9 + c * c * 9 + 4 * c
        count += (n - 1) * (2 * c * c * 9 + 4 * c)
    assert sum(p.numel() for p in model.parameters()) == count
    card = cnnzoo.model_info(name)
    assert card.family == "resnet_cifar" and card.input_size == (3, 32, 32)
    assert card.num_classes == 10 and card.num_params == count


def test_resnet20_shapes_and_option_a_shortcut():
    model = cnnzoo.create("resnet20").eval()
    x = torch.randn(2, 3, 32, 32)
    shapes = {}
    hooks = [
        getattr(model, n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, o.shape))
        for n in ("conv1", "layer1", "layer2", "layer3", "avgpool")
    ]
    assert model(x).shape == (2, 10)
    for h in hooks:
        h.remove()
    assert shapes == {
        "conv1": (2, 16, 32, 32),
        "layer1": (2, 16, 32, 32),
        "layer2": (2, 32, 16, 16),
        "layer3": (2, 64, 8, 8),
        "avgpool": (2, 64, 1, 1),
    }
    # Option A: the identity subsampled, with zero channels on both sides of it.
    shortcut = model.layer2[0].shortcut
    y = torch.randn(1, 16, 32, 32)
    out = shortcut(y)
    assert out.shape == (1, 32, 16, 16)
    assert torch.equal(out[:, 8:24], y[:, :, ::2, ::2])
    assert out[:, :8].abs().sum() == 0 and out[:, 24:].abs().sum() == 0
    assert not list(shortcut.parameters())


def test_table_6_reconciles_row_by_row():
    report = cnnzoo.check("resnet_cifar_paper")
    assert report.ok, report.failures
    (table,) = report.tables
    assert [r.id for r in table.rows] == [
        "ResNet-20", "ResNet-32", "ResNet-44", "ResNet-56", "ResNet-110"
    ]  # fmt: skip
    # Each model finds its row.
    assert [t.id for t in cnnzoo.check("resnet56").tables] == ["resnet_cifar_paper"]


def test_table_6_with_a_wrong_figure_fails_naming_its_row(tmp_path):
    text = resources.files("cnnzoo").joinpath("specs", "resnet_cifar_paper.toml").read_text()
    assert 'params = "0.85M"' in text
    bad = tmp_path / "resnet_cifar_paper.toml"
    bad.write_text(text.replace('params = "0.85M"', 'params = "0.86M"'))
    report = cnnzoo.check(str(bad))
    assert not report.ok
    assert "ResNet-56" in str(report.failures)
