"""A progress bar for :func:`cnnzoo.train` that suits where it runs: ``tqdm.auto``.

In Jupyter or Colab with ``ipywidgets`` it is a widget; elsewhere (a terminal, a notebook
without ipywidgets, a log) it is tqdm's text bar. Passing ``progress=True`` to ``train`` uses it.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["ProgressBar", "auto_tqdm", "resolve_progress"]


def auto_tqdm() -> Any:
    """``tqdm.auto.tqdm``, without its warning when a notebook lacks ipywidgets.

    (tqdm then falls back to its text bar by itself; the warning would be printed in the
    student's cell each time.)
    """
    from tqdm import TqdmExperimentalWarning, TqdmWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        warnings.simplefilter("ignore", TqdmExperimentalWarning)
        from tqdm.auto import tqdm
    return tqdm


class ProgressBar:
    """A ``progress`` callback for :func:`cnnzoo.train`: one bar per epoch with the running
    loss and accuracy, closed with the epoch's validation figures."""

    def __init__(self, **tqdm_kwargs: Any) -> None:
        self.kwargs = tqdm_kwargs
        self.bar: Any = None

    def __call__(self, ev: Any) -> None:
        if ev.kind == "epoch_start":
            self.close()
            self.bar = auto_tqdm()(
                total=ev.steps,
                desc=f"epoch {ev.epoch}/{ev.epochs}",
                unit="step",
                leave=True,
                **self.kwargs,
            )
        elif ev.kind == "step" and self.bar is not None:
            self.bar.update(ev.step - self.bar.n)
            self.bar.set_postfix(loss=f"{ev.loss:.4f}", acc=f"{ev.acc:.4f}", refresh=False)
        elif ev.kind == "epoch" and self.bar is not None:
            r = ev.record or {}
            post = {"loss": f"{r.get('train_loss', 0):.4f}", "acc": f"{r.get('train_acc', 0):.4f}"}
            if r.get("val_acc") is not None:
                post["val_acc"] = f"{r['val_acc']:.4f}"
            self.bar.update(self.bar.total - self.bar.n)
            self.bar.set_postfix(post, refresh=True)
            self.close()
        elif ev.kind == "end":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def resolve_progress(progress: Any) -> Any:
    """``train``'s ``progress`` argument -> its callback: ``True`` a :class:`ProgressBar`,
    ``None``/``False`` none, a callable itself."""
    if progress is True:
        return ProgressBar()
    if progress is None or progress is False:
        return None
    if not callable(progress):
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"progress must be a callable, True (a progress bar) or None; got {progress!r}"
        )
    return progress
