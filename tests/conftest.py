from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import pytest
import torch

import cnnzoo

# The tests read the live registry. The shipped cards, which answer while the model modules are
# not imported, are checked against it in fresh processes by tests/test_lookups.py.
import cnnzoo.models

#: Models whose real weights are too big for the fast suite: built on ``meta`` there.
BIG = 10_000_000


def is_big(name: str) -> bool:
    return cnnzoo.model_info(name).num_params > BIG


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def run_cnnzoo(args: Sequence[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "cnnzoo", *args],
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files of tests/golden/ from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite the golden files (``--update-golden``)."""
    return bool(request.config.getoption("--update-golden"))
