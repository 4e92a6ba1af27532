"""Assertions for tests teachers write (pytest, nbgrader, Otter-Grader).

>>> from cnnzoo.testing import assert_matches
>>> assert_matches(net, "emotionnet")  # AssertionError: the first difference and its cause
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

__all__ = ["assert_matches"]


def assert_matches(net: nn.Module | str, reference: str, **kwargs: Any) -> None:
    """Assert that ``net`` matches the reference model (and its document's table).

    Args:
        net: the student's network (a module, or ``"file.py:Class"``).
        reference: a registered model (``"emotionnet"``) or a layers table (``"lenet5_004"``).
        **kwargs: passed to :func:`cnnzoo.check` (``weights=``, ``model_args=``, ``timeout=``).

    Raises:
        AssertionError: the message is the first difference with its cause, then the rest.
    """
    from .check import check

    report = check(reference, model=net, **kwargs)
    if report.ok:
        return
    lines = [report.first_difference or "the network does not match"]
    diffs = report.differences
    lines += [d.cause for d in diffs[1:]]
    lines += report.failures if not diffs else []
    raise AssertionError("\n".join(lines))
