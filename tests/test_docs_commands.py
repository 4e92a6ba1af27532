"""Every shell command that README.md and the guides show runs, as written, and exits 0.

The commands are extracted from the pages themselves (``bash``/``sh`` blocks line by line,
``console`` blocks from their ``$`` lines, ``\\`` continuations joined), never paraphrased. Each
page runs in its own scratch directory, in the page's order, so a page that trains and then
predicts uses what it trained. The test makes the data the pages assume is there: MNIST's idx
files under ``data/`` (the digits, small), ``digit.png``, the lab's ``face_expression.pth``, for
the inspection guide ``digits_lenet5.pth`` with ``digit_6.png`` and ``digit_5.png``, and for
checking a student's network a correct ``classify.py`` (as a file, a module and a class's
submissions) and ``lenet.py``; CIFAR-10's batches under ``data/`` (ten images each). A
``python`` or ``toml`` block that starts with ``# NAME.py:`` or ``# NAME.toml`` is the page's
own file (``write_digits.py``, ``exp.toml``) and is written to that name. ``examples/`` is
linked in; ``docs/guide/img`` and ``/tmp/...`` in
a command are the scratch directory's own, so running the docs changes nothing outside it.

``cnnzoo`` commands run in-process through ``cnnzoo.cli.main`` (torch is imported once); those
whose outputs no later command reads (list, info, summary, check, export) run once even when
several pages show them.
``python`` and ``torchrun`` commands run as processes, with ``CNNZOO_QUICK=1`` so an example's
training takes seconds. The commands that cannot run here are in ``SKIPPED``, with the reason.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "index.md",
    ROOT / "docs" / "errata.md",
    *sorted((ROOT / "docs" / "guide").glob("*.md")),
]

#: (what a command contains, why it is not run here). Kept short: everything else runs.
SKIPPED: tuple[tuple[str, str], ...] = (
    ("pip install", "installs packages: no network here, and it would change the environment"),
    ("mkdocs serve", "a web server that runs until stopped (CI runs mkdocs build --strict)"),
    ("--netron", "serves Netron until Ctrl-C (test_export checks the server)"),
    (
        "--pretrained",
        "downloads torchvision's ImageNet weights: no network here (the pretrained "
        "tests serve them from a local server)",
    ),
    ("pytest", "runs the test suite itself"),
    ("--nproc_per_node 4", "four GPUs with nccl"),
    ("--nnodes 2", "two machines"),
    ("benchmarks/bench_", "a benchmark: minutes of timing, run by hand (docs/benchmarks.md)"),
    ("NAME --data DATA", "a synopsis with placeholders, not a command"),
    ("[NAME] [--data DATA]", "a synopsis with placeholders, not a command"),
    ("cnnzoo runs RUN...", "a synopsis with placeholders, not a command"),
    ("--epochs 160", "the paper's 160-epoch CIFAR recipe (hours on CIFAR-10)"),
    ("CKPT --data DATA", "a synopsis with placeholders, not a command"),
    ("--family examples", "needs the reader's own package installed, which registers digit_net"),
    ("info digit_net", "needs the reader's own package installed, which registers digit_net"),
    (
        "cnnzoo._stats --write",
        "a maintainer's command that rewrites the shipped cards in the "
        "package (the tests run its --check)",
    ),
)
#: Commands whose outputs no later command reads: run once when several pages show them.
_ONCE = {"list", "info", "summary", "check", "export"}
_BLOCK = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def commands_of(text: str) -> tuple[list[str], dict[str, str]]:
    """The shell commands of a page in order, and its named Python scripts."""
    commands: list[str] = []
    scripts: dict[str, str] = {}
    for lang, body in _BLOCK.findall(text):
        if lang in ("python", "toml"):
            first = body.splitlines()[0] if body.strip() else ""
            named = re.match(r"#\s*([\w-]+\.(?:py|toml)):?(\s|$)", first)
            if named:
                scripts[named.group(1)] = body
            continue
        if lang not in ("bash", "sh", "console", "shell"):
            continue
        pending = ""
        for raw in body.splitlines():
            line = raw.rstrip()
            if not pending:
                if lang == "console":
                    if not line.startswith("$ "):
                        continue
                    line = line[2:]
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            if line.lstrip().startswith("[") and commands:  # a synopsis's next line of options
                commands[-1] += " " + line.strip()
                continue
            commands.append((pending + line).strip())
            pending = ""
    return commands, scripts


def _skip_reason(command: str) -> str | None:
    return next((why for what, why in SKIPPED if what in command), None)


def _make_data(d: Path) -> None:
    import numpy as np
    from PIL import Image

    import cnnzoo
    from cnnzoo.checkpoint import save_checkpoint
    from cnnzoo.preprocess import preprocess_for

    from ._digits import digits_arrays, write_mnist_raw

    images, labels = digits_arrays(28)
    pick = np.concatenate([np.flatnonzero(labels == c)[:30] for c in range(10)])
    train, test = pick[: len(pick) * 4 // 5], pick[len(pick) * 4 // 5 :]
    write_mnist_raw(d / "data", (images[train], labels[train]), (images[test], labels[test]))
    from ._digits import write_cifar10

    write_cifar10(d / "data", n_per_batch=10)  # cifar10:data, ten images a batch
    Image.fromarray(images[test[0]]).save(d / "digit.png")
    import torch

    torch.save(cnnzoo.create("emotionnet").state_dict(), d / "face_expression.pth")
    small, small_labels = digits_arrays(None)
    for digit in (6, 5):
        i = int(np.flatnonzero(small_labels == digit)[0])
        Image.fromarray(small[i]).save(d / f"digit_{digit}.png")
    save_checkpoint(
        d / "digits_lenet5.pth",
        cnnzoo.create("lenet5", num_classes=10),
        model_name="lenet5",
        model_kwargs={"num_classes": 10},
        labels=[str(i) for i in range(10)],
        preprocess=preprocess_for("lenet5").to_dict(),
    )
    # The student's networks of "Check your own network": the lab's classify.py, filled in
    # correctly, as a file, as a module, and as a class's submissions; document 004's LeNet-5.
    import shutil

    classify = ROOT / "examples" / "check" / "classify.py"
    for where in (d, d / "my_net", d / "submissions" / "ann", d / "submissions" / "bob"):
        where.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(classify, where / "classify.py")
    (d / "my_net" / "__init__.py").write_text("")
    shutil.copyfile(ROOT / "tests" / "students" / "lenet_004_sequential.py", d / "lenet.py")
    (d / "examples").symlink_to(ROOT / "examples")
    (d / "docs" / "guide" / "img").mkdir(parents=True)


def _run(argv: list[str], cwd: Path) -> tuple[int, str]:
    from cnnzoo.cli import main

    if argv[0] == "cnnzoo":
        out, err = io.StringIO(), io.StringIO()
        old = Path.cwd()
        os.chdir(cwd)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv[1:])
                except SystemExit as exc:
                    code = int(exc.code or 0)
        finally:
            os.chdir(old)
        return code, out.getvalue()[-2000:] + err.getvalue()[-2000:]
    if argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    elif argv[0] == "torchrun":
        argv = [sys.executable, "-m", "torch.distributed.run", *argv[1:]]
    elif argv[0] != "mkdir":
        return 127, f"no way to run {argv[0]!r} here; add it to SKIPPED with a reason"
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "CNNZOO_QUICK": "1"}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_the_pages_show_commands() -> None:
    # Without this, a change to the block syntax would leave the test below nothing to run.
    commands, scripts = commands_of((ROOT / "docs" / "guide" / "training.md").read_text())
    assert any(c.startswith("cnnzoo train lenet5 --data folder:digits") for c in commands)
    assert "write_digits.py" in scripts
    readme, _ = commands_of((ROOT / "README.md").read_text())
    assert "cnnzoo predict runs/lenet5/best.pth digit.png --topk 3" in readme
    assert any(c.startswith("torchrun --nproc_per_node 2") and "--out" in c for c in readme)


@pytest.mark.slow
def test_every_command_of_the_docs_runs_as_written(tmp_path: Path) -> None:
    done: set[str] = set()
    ran, skipped, failures = 0, [], []
    for page in PAGES:
        commands, scripts = commands_of(page.read_text(encoding="utf-8"))
        if not commands:
            continue
        sandbox = tmp_path / page.stem
        sandbox.mkdir()
        _make_data(sandbox)
        for name, body in scripts.items():
            (sandbox / name).write_text(body, encoding="utf-8")
        for command in commands:
            why = _skip_reason(command)
            if why is not None:
                skipped.append(f"{command} ({why})")
                continue
            argv = [
                a.replace("/tmp/", f"{sandbox}/tmp/") for a in shlex.split(command, comments=True)
            ]
            if argv[0] == "cnnzoo" and len(argv) > 1 and argv[1] in _ONCE:
                key = " ".join(argv)
                if key in done:
                    continue
                done.add(key)
            started = time.perf_counter()
            code, output = _run(argv, sandbox)
            print(f"{time.perf_counter() - started:6.1f} s  {page.name}: {command}")
            ran += 1
            if code != 0:
                failures.append(f"{page.relative_to(ROOT)}: `{command}` exited {code}\n{output}")
    assert not failures, "\n\n".join(failures)
    assert ran >= 30, f"only {ran} commands ran; skipped: {skipped}"
