"""Training runs side by side, for the lab report: what differs between them and how they did.

[`compare_runs`][cnnzoo.runs.compare_runs] reads each run directory's ``config.toml`` and
``history.json`` (nothing is loaded into torch) and returns one
[`RunSummary`][cnnzoo.runs.RunSummary] per run, with the options whose values differ between the
runs. ``cnnzoo runs`` prints it as text, markdown or csv and draws every run's validation
accuracy and loss curves in one figure.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import InvalidArgumentError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["FORMATS", "RunSummary", "RunsComparison", "compare_runs"]

FORMATS = ("text", "markdown", "csv")
#: Options never shown as a difference (they do not change what is learnt).
_NOT_OPTIONS = ("device", "channels_last")


@dataclass(frozen=True)
class RunSummary:
    """One run.

    Attributes:
        path: the run directory.
        name: its name (the directory's).
        model: the model trained.
        options: the run's resolved options (its ``config.toml``).
        epochs: epochs completed.
        best_epoch: the epoch ``best.pth`` holds (best validation accuracy, then loss).
        best_val_acc: the validation accuracy there (``None`` without validation).
        best_val_loss: the validation loss there.
        test_acc: the test accuracy of that same epoch (``None`` without a test split):
            reported, it chose nothing.
        seconds: the run's total time over its epochs.
        images_per_s: the mean training speed.
        history: the run's ``history.json``.
    """

    path: Path
    name: str
    model: str
    options: dict[str, Any]
    epochs: int
    best_epoch: int
    best_val_acc: float | None
    best_val_loss: float | None
    test_acc: float | None
    seconds: float
    images_per_s: float | None
    history: list[dict[str, Any]] = field(repr=False)


@dataclass(frozen=True)
class RunsComparison:
    """Runs and the options that differ between them.

    Attributes:
        runs: one summary per run, in the order given.
        differing: the option names whose values are not the same in every run.
    """

    runs: list[RunSummary]
    differing: list[str]

    def rows(self) -> tuple[list[str], list[list[str]]]:
        """The table: headers and one row of strings per run."""
        headers = ["run", "model", *self.differing, "best val_acc", "best epoch", "test_acc"]
        headers += ["time (s)", "images/s"]
        rows = []
        for r in self.runs:
            rows.append(
                [
                    r.name,
                    r.model,
                    *(_cell(r.options.get(k)) for k in self.differing),
                    _cell(r.best_val_acc, ".4f"),
                    f"{r.best_epoch}/{r.epochs}",
                    _cell(r.test_acc, ".4f"),
                    f"{r.seconds:.1f}",
                    _cell(r.images_per_s, ",.0f"),
                ]
            )
        return headers, rows

    def format(self, fmt: str = "text") -> str:
        """The table as ``"text"`` (aligned columns), ``"markdown"`` or ``"csv"``."""
        if fmt not in FORMATS:
            raise InvalidArgumentError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")
        headers, rows = self.rows()
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(headers)
            writer.writerows(rows)
            return buf.getvalue().rstrip("\n")
        numeric = {i for i in range(len(headers)) if i >= 2 + len(self.differing)}
        if fmt == "markdown":
            lines = ["| " + " | ".join(headers) + " |"]
            lines.append(
                "|" + "|".join("---:" if i in numeric else "---" for i in range(len(headers))) + "|"
            )
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
            return "\n".join(lines)
        widths = [max(len(x[i]) for x in [headers, *rows]) for i in range(len(headers))]

        def line(cells: list[str]) -> str:
            return "  ".join(
                c.rjust(w) if i in numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(headers), rule, *(line(r) for r in rows)])

    def plot(self) -> Any:
        """Every run's validation accuracy and loss over epochs, as a matplotlib Figure (what
        :meth:`figure` writes; a notebook shows it inline)."""
        from .plots import runs_figure

        return runs_figure([(r.name, r.history) for r in self.runs])

    def _repr_html_(self) -> str:
        # A notebook shows the table, the differing options marked, the best run green.
        from .display.runs import runs_html

        return runs_html(self)

    def _repr_markdown_(self) -> str:
        from .display.runs import runs_markdown

        return runs_markdown(self)

    def figure(self, path: str | PathLike[str]) -> Path:
        """Every run's validation accuracy and loss over epochs, in one PNG."""
        from .plots import save_runs_figure

        return save_runs_figure([(r.name, r.history) for r in self.runs], path)

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, for ``json.dumps``."""
        return {
            "differing": self.differing,
            "runs": [
                {
                    "path": str(r.path),
                    "name": r.name,
                    "model": r.model,
                    "options": r.options,
                    "epochs": r.epochs,
                    "best_epoch": r.best_epoch,
                    "best_val_acc": r.best_val_acc,
                    "best_val_loss": r.best_val_loss,
                    "test_acc": r.test_acc,
                    "seconds": r.seconds,
                    "images_per_s": r.images_per_s,
                }
                for r in self.runs
            ],
        }


def _cell(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and spec:
        return format(value, spec)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _expand(paths: Sequence[str | PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        text = str(p)
        if any(ch in text for ch in "*?["):
            found = sorted(Path(m) for m in glob.glob(text) if Path(m).is_dir())
            if not found:
                raise InvalidArgumentError(f"no run directory matches {text!r}")
            out += found
        else:
            out.append(Path(text))
    seen: set[Path] = set()
    unique = []
    for p in out:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    return unique


def _read_run(path: Path) -> RunSummary:
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory"
        raise InvalidArgumentError(f"run directory {str(path)!r} {what}")
    hist_file, cfg_file = path / "history.json", path / "config.toml"
    if not hist_file.is_file():
        raise InvalidArgumentError(
            f"{str(path)!r} is not a training run (no history.json); give directories that "
            "cnnzoo train wrote"
        )
    try:
        history = json.loads(hist_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError(f"cannot read {str(hist_file)!r}: {exc}") from exc
    if (
        not isinstance(history, list)
        or not history
        or not all(isinstance(r, dict) and isinstance(r.get("epoch"), int) for r in history)
    ):
        raise InvalidArgumentError(f"{str(hist_file)!r} holds no epochs of a training run")
    options: dict[str, Any] = {}
    if cfg_file.is_file():
        try:
            options = tomllib.loads(cfg_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(f"cannot read {str(cfg_file)!r}: {exc}") from exc
    elif (path / "last.pth").is_file():
        from .checkpoint import read_checkpoint

        options = dict(read_checkpoint(path / "last.pth").extra.get("config") or {})
    has_val = any(_num(r.get("val_acc")) is not None for r in history)

    def key(r: dict[str, Any]) -> tuple[float, float]:
        if has_val:
            return (_num(r.get("val_acc")) or -1.0, -(_num(r.get("val_loss")) or math.inf))
        return (_num(r.get("train_acc")) or -1.0, -(_num(r.get("train_loss")) or math.inf))

    best = max(history, key=key)  # the first of equal ones, as train chooses
    speeds = [s for r in history if (s := _num(r.get("images_per_s"))) is not None]
    return RunSummary(
        path=path,
        name=path.name or str(path),
        model=str(options.get("model", "?")),
        options=options,
        epochs=int(history[-1]["epoch"]),
        best_epoch=int(best["epoch"]),
        best_val_acc=_num(best.get("val_acc")),
        best_val_loss=_num(best.get("val_loss")),
        test_acc=_num(best.get("test_acc")),
        seconds=sum(_num(r.get("seconds")) or 0.0 for r in history),
        images_per_s=sum(speeds) / len(speeds) if speeds else None,
        history=history,
    )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def compare_runs(paths: Sequence[str | PathLike[str]] | str | PathLike[str]) -> RunsComparison:
    """Read training runs and say what differs between them.

    Args:
        paths: run directories (``runs/lenet5-cosine``), or glob patterns (``"runs/lenet5-*"``).

    Returns:
        A [`RunsComparison`][cnnzoo.runs.RunsComparison]: one summary per run, and the options
        whose values differ.

    Raises:
        InvalidArgumentError: no runs given, a pattern that matches nothing, or a directory
            that is not a training run.
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    dirs = _expand(list(paths))
    if not dirs:
        raise InvalidArgumentError("no run directories given")
    runs = [_read_run(p) for p in dirs]
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.options if k not in keys and k not in _NOT_OPTIONS and k != "model"]
    differing = [k for k in keys if len({json.dumps(r.options.get(k)) for r in runs}) > 1]
    return RunsComparison(runs, differing)
