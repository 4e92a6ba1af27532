"""Every script in examples/ runs on its quick path and exits 0.

The scripts are found, not listed, so an example added later is tested the day it lands. Each
runs in a fresh interpreter, from an empty directory (an example that writes files writes them
there), with ``--quick`` as the README writes it: every example must take that flag as its
seconds-long CPU path (``CNNZOO_QUICK`` is removed from the environment, so an example that reads
only the variable fails here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_examples_are_found():
    # Without this, an emptied or moved examples/ would turn the test below into no test.
    assert len(EXAMPLES) >= 3, f"expected the example scripts in {ROOT / 'examples'}"


@pytest.mark.examples
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_on_its_quick_path(script: Path, tmp_path: Path) -> None:
    # The checkout's cnnzoo, not whichever one is installed, as `python -m cnnzoo` gets in tests.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {k: v for k, v in os.environ.items() if k != "CNNZOO_QUICK"}
    env["PYTHONPATH"] = path
    proc = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"{script.name} exited {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n"
        f"--- stderr\n{proc.stderr[-3000:]}"
    )
    assert proc.stdout.strip(), f"{script.name} printed nothing"
