"""torchvision parity: its state_dicts load with strict=True and give the same logits.

These build real weights of big models, so they carry the ``slow`` marker (run by .ci/run).
"""

from __future__ import annotations

import pytest
import torch

import cnnzoo

PAIRS = {
    "alexnet_torchvision": ("alexnet", {}),
    "googlenet_torchvision": ("googlenet", {"aux_logits": False, "init_weights": True}),
    **{f"vgg{d}{bn}": (f"vgg{d}{bn}", {}) for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    **{f"resnet{d}": (f"resnet{d}", {}) for d in (18, 34, 50, 101, 152)},
}


def _liven(model: torch.nn.Module) -> None:
    """Weights that keep activations alive through every layer.

    Randomly initialised AlexNet and GoogLeNet output little more than their last bias, so equal
    logits would prove nothing; variance-preserving weights and non-trivial BatchNorm statistics
    make every layer count.
    """
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(1 + 0.1 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                m.running_var.copy_(1 + 0.1 * torch.rand(m.running_var.shape, generator=g))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_torchvision_state_dict_loads_and_matches(name, tmp_path):
    import torchvision

    tv_name, tv_kwargs = PAIRS[name]
    reference = getattr(torchvision.models, tv_name)(weights=None, **tv_kwargs).eval()
    _liven(reference)
    path = tmp_path / f"{tv_name}.pth"
    torch.save(reference.state_dict(), path)
    ours = cnnzoo.create(name, weights=path).eval()  # strict=True inside
    x = torch.randn(2, *cnnzoo.model_info(name).input_size)
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert expected.abs().max() > 1e-2  # the activations are alive
    assert (got - expected).abs().max().item() <= 1e-5
    assert torch.equal(got.argmax(1), expected.argmax(1))
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )


@pytest.mark.slow
def test_torchvision_inception3a_is_the_3x3_variant():
    import torchvision

    tv = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)
    ours = cnnzoo.create("googlenet_torchvision")
    assert sum(p.numel() for p in tv.inception3a.parameters()) == 155_872
    ours.inception3a.load_state_dict(tv.inception3a.state_dict(), strict=True)
