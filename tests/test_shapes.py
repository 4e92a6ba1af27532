"""The shape-only mode (cnnzoo._shapes) against the real operations: same shapes, same errors."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from cnnzoo._shapes import materialize, shapes_only


def both(fn, *args, **kwargs):
    """(real result, shape-only result) of one call; an exception counts as its type."""

    def run():
        try:
            out = fn(*args, **kwargs)
        except Exception as exc:  # the shape-only mode must fail where torch fails
            return type(exc)
        return tuple(out.shape)

    real = run()
    with shapes_only():
        fast = run()
    return real, fast


def test_conv2d_shapes():
    cases = itertools.product((5, 11), (1, 2, 3, 5), (1, 2, 3), (0, 2), (1, 2))
    for size, k, s, p, d in cases:
        x = torch.randn(1, 4, size, size + 1)
        real, fast = both(F.conv2d, x, torch.randn(6, 4, k, k), torch.randn(6), s, p, d)
        assert real == fast, (size, k, s, p, d)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_string_padding_and_groups():
    for padding, k in itertools.product(("same", "valid"), (1, 2, 3, 4)):
        x = torch.randn(1, 4, 9, 7)
        real, fast = both(F.conv2d, x, torch.randn(8, 2, k, k), None, 1, padding, 1, 2)
        assert real == fast, (padding, k)


def test_conv1d_3d_and_unbatched():
    assert len(set(both(F.conv1d, torch.randn(2, 3, 10), torch.randn(5, 3, 3), stride=2))) == 1
    assert len(set(both(F.conv3d, torch.randn(1, 2, 5, 6, 7), torch.randn(4, 2, 3, 3, 3)))) == 1
    assert len(set(both(F.conv2d, torch.randn(3, 9, 9), torch.randn(5, 3, 3, 3)))) == 1


def test_bad_calls_fail_as_torch_does():
    x = torch.randn(1, 3, 8, 8)
    # channel mismatch, kernel larger than the input, "same" with a stride
    assert both(F.conv2d, x, torch.randn(4, 2, 3, 3)) == (RuntimeError, RuntimeError)
    assert both(F.conv2d, x, torch.randn(4, 3, 9, 9)) == (RuntimeError, RuntimeError)
    real, fast = both(F.conv2d, x, torch.randn(4, 3, 3, 3), None, 2, "same")
    assert real == fast and isinstance(real, type)
    assert both(F.linear, torch.randn(2, 5), torch.randn(3, 4)) == (RuntimeError, RuntimeError)
    assert both(F.max_pool2d, x, 2, 2, 2) == (RuntimeError, RuntimeError)  # pad > kernel / 2


def test_max_pool2d_shapes():
    cases = itertools.product((5, 6, 7, 14, 57), (2, 3), (1, 2, 3), (0, 1), (False, True))
    for size, k, s, p, ceil in cases:
        if 2 * p <= k:
            x = torch.randn(1, 3, size, size + 2)
            real, fast = both(F.max_pool2d, x, k, s, p, 1, ceil)
            assert real == fast, (size, k, s, p, ceil)


def test_linear_batch_norm_relu_add_cat():
    x = torch.randn(2, 7, 5)
    assert len(set(both(F.linear, x, torch.randn(3, 5), torch.randn(3)))) == 1
    bn = torch.nn.BatchNorm2d(4).eval()
    y = torch.randn(2, 4, 6, 6)
    assert len(set(both(bn, y))) == 1
    assert len(set(both(torch.nn.ReLU(inplace=True), y.clone()))) == 1
    assert len(set(both(F.relu, y))) == 1
    assert len(set(both(torch.add, y, y))) == 1
    assert len(set(both(lambda a, b: a + b, y, y[:, :1]))) == 1  # broadcasting runs for real
    assert len(set(both(torch.cat, (y, y[:, :2]), 1))) == 1
    assert both(torch.cat, (y, y[:, :, :2]), 1) == (RuntimeError, RuntimeError)


def test_in_place_relu_returns_its_input():
    y = torch.randn(1, 2, 3, 3)
    with shapes_only():
        assert F.relu(y, inplace=True) is y


def test_training_batch_norm_runs_for_real():
    bn = torch.nn.BatchNorm2d(3).train()
    with shapes_only():
        bn(torch.randn(4, 3, 5, 5))
    assert int(bn.num_batches_tracked) == 1 and bn.running_mean.abs().sum() > 0


def test_materialize_keeps_dtypes_and_shapes():
    with torch.device("meta"):
        bn = torch.nn.BatchNorm2d(5)
    materialize(bn)
    assert bn.weight.shape == (5,) and bn.num_batches_tracked.dtype == torch.long
    assert not bn.weight.is_meta and isinstance(bn.weight, torch.nn.Parameter)
