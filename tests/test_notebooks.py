"""The lab notebooks of examples/notebooks/, executed top to bottom in a real Jupyter kernel.

The kernel is ipykernel's ``python3`` in this interpreter's environment (the kernelspec that
ipykernel installs into the venv, whose ``python`` jupyter_client starts as this interpreter), so
the notebooks import this checkout's cnnzoo (``PYTHONPATH`` is inherited) and nothing global.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
pytest.importorskip("ipykernel", reason="the dev extra installs ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "examples" / "notebooks"

#: Printed by a cell the tests append: what the lab ended with.
PROBE = """
import json
print("CNNZOO-PROBE " + json.dumps({
    "accuracy": report.accuracy,
    "split": report.split,
    "epochs": len(result.history),
    "onnx": str(export.path),
    "onnx_exists": export.path.is_file(),
}))
"""


def run(nb: Any, cwd: Path, timeout: int = 600) -> Any:
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        # streams merged and a progress bar's overwritten updates dropped, as Jupyter shows them
        coalesce_streams=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def load(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def outputs_of(nb: Any, pattern: str) -> list[dict[str, Any]]:
    """The outputs of the one code cell whose source matches ``pattern``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and re.search(pattern, c.source)]
    assert len(cells) == 1, f"{len(cells)} cells match {pattern!r}"
    return cells[0].outputs


def html_of(nb: Any, pattern: str) -> str:
    shown = [o for o in outputs_of(nb, pattern) if o.output_type == "execute_result"]
    assert shown, f"the cell {pattern!r} shows nothing"
    data = shown[-1].data
    assert "text/html" in data, f"the cell {pattern!r} shows only {sorted(data)}"
    html = data["text/html"]
    assert html.startswith('<div class="cnnzoo-display"') and "<script" not in html
    return html


def has_png(nb: Any, pattern: str) -> bool:
    return any(
        "image/png" in o.get("data", {})
        for o in outputs_of(nb, pattern)
        if o.output_type in ("execute_result", "display_data")
    )


def probe(nb: Any) -> dict[str, Any]:
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    line = next(x for x in text.splitlines() if x.startswith("CNNZOO-PROBE "))
    return json.loads(line.split(" ", 1)[1])


def stderr_of(nb: Any) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream" and o.name == "stderr"
    )


def check_common(nb: Any) -> None:
    # no warning or traceback anywhere (a progress bar is all stderr holds)
    err = stderr_of(nb)
    assert "Warning" not in err and "Traceback" not in err, err[-2000:]
    assert "epoch 1/" in err  # tqdm's text bar (no ipywidgets here)
    # every figure cell shows a picture, never "<Figure size ...>" text
    for c in nb.cells:
        for o in c.get("outputs", []):
            text = o.get("data", {}).get("text/plain", "")
            if "<Figure size" in text:
                assert "image/png" in o.data, c.source


@pytest.mark.slow
@pytest.mark.notebooks
def test_lenet5_lab(tmp_path: Path) -> None:
    nb = load("lenet5_digits.ipynb")
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    run(nb, tmp_path)
    check_common(nb)
    assert "61,706" in html_of(nb, r'model_info\("lenet5"\)')
    assert "conv1" in html_of(nb, r'summary\("lenet5"\)')
    check = html_of(nb, r'check\("lenet5"\)')
    assert "verdict" in check
    assert "best epoch" in html_of(nb, r"^result = ")
    assert "confusion matrix" in html_of(nb, r"^report = ")
    for cell in (r"^loss_figure, accuracy_figure", r"^accuracy_figure", r"^report\.plot",
                 r"^saliency_figure|explanation\.figures", r"^features_figure"):  # fmt: skip
        assert has_png(nb, cell), cell
    got = probe(nb)
    assert got["split"] == "test" and got["epochs"] == 4 and got["onnx_exists"]
    # real digits, four epochs: LeNet-5 has learnt them (chance is 0.1)
    assert got["accuracy"] > 0.8, got


@pytest.mark.slow
@pytest.mark.notebooks
def test_emotion_lab_on_generated_faces(tmp_path: Path) -> None:
    nb = load("emotion_lab.ipynb")
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    run(nb, tmp_path)
    check_common(nb)
    said = "".join(o.get("text", "") for o in outputs_of(nb, r"^import tempfile"))
    assert "FACES is not set: using 150 generated cartoon faces" in said
    assert "1,665,667" in html_of(nb, r'model_info\("emotionnet"\)')
    html_of(nb, r'summary\("emotionnet"\)$')
    steps = html_of(nb, r"steps=True")
    assert "(24 - 3)/1 + 1 = 22" in steps and "3*3*64*128 + 128 = 73,856" in steps
    # the student's network with its mistake: the first difference is marked, at conv2
    check = html_of(nb, r"model=MyEmotionNet\(\)")
    assert "DIFFERS" in check and "◀ first difference" in check and "conv2" in check
    for cell in (r"^loss_figure, accuracy_figure", r"^report\.plot", r"^features_figure"):
        assert has_png(nb, cell), cell
    got = probe(nb)
    assert got["onnx_exists"] and got["epochs"] == 6 and got["split"] == "test"
    # the mouths are learnt (chance is 1/3)
    assert got["accuracy"] > 0.7, got


@pytest.mark.notebooks
def test_emotion_lab_uses_the_students_folder(tmp_path: Path) -> None:
    # Only the cells up to the choice of data: with FACES set, the lab says it uses that folder.
    faces = tmp_path / "my faces"
    for emotion in ("happy", "sad"):
        (faces / "train" / emotion).mkdir(parents=True)
    nb = load("emotion_lab.ipynb")
    first = next(i for i, c in enumerate(nb.cells) if c.source.startswith("FACES = "))
    nb.cells[first].source = f"FACES = {str(faces)!r}"
    nb.cells = nb.cells[: first + 2]
    run(nb, tmp_path, timeout=120)
    said = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert f"using your faces in {faces}" in said
    assert not (faces.parent / "faces").exists()


#: One cell per object a user looks at, each built the cheap way, displayed in a fresh kernel.
DISPLAYS = {
    "card": "cnnzoo.model_info('emotionnet')",
    "summary": "cnnzoo.summary('lenet5')",
    "eval": """
from cnnzoo.training import EvalReport
EvalReport(model="lenet5", checkpoint="best.pth", split="test", labels=["a", "b"],
           num_images=4, loss=0.3, accuracy=0.75, precision=[1.0, 0.5], recall=[0.5, 1.0],
           support=[2, 2], confusion=[[1, 1], [0, 2]])
""",
    "train": """
from pathlib import Path
from cnnzoo.training import TrainResult
TrainResult(model="lenet5", out=Path("run"), best=Path("run/best.pth"),
            last=Path("run/last.pth"), best_epoch=1, labels=["a", "b"],
            history=[{"epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "seconds": 1.0}],
            confusion=[[1, 1], [0, 2]])
""",
}

#: Figures, shown inline: a cell of each must give a PNG.
FIGURES = {
    "curves": "Out[5].plot()[0]",
    "confusion": "Out[4].plot()",
}


@pytest.mark.notebooks
def test_every_object_displays_in_a_fresh_kernel(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import cnnzoo"))
    names = list(DISPLAYS)
    nb.cells += [nbformat.v4.new_code_cell(DISPLAYS[n].strip()) for n in names]
    nb.cells += [nbformat.v4.new_code_cell(code) for code in FIGURES.values()]
    run(nb, tmp_path, timeout=300)
    for name, cell in zip(names, nb.cells[1 : 1 + len(names)], strict=True):
        shown = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert shown and "text/html" in shown[0].data, (name, cell.outputs)
        html = shown[0].data["text/html"]
        assert html.startswith('<div class="cnnzoo-display"') and "<script" not in html, name
        assert "<table" in html, name  # a readable table, not a dataclass dump
    for name, cell in zip(FIGURES, nb.cells[1 + len(names) :], strict=True):
        shown = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert shown and "image/png" in shown[0].data, (name, cell.outputs)
