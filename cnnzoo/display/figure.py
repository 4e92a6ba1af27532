"""matplotlib Figures that a notebook shows inline, drawn without pyplot.

A ``Figure`` built on the Agg canvas opens no window and leaves pyplot's state (and the user's
backend) alone, but Jupyter shows it as ``<Figure size 600x400 with 1 Axes>`` unless pyplot was
imported: IPython draws figures only once matplotlib's inline backend has registered itself.
:class:`InlineFigure` draws itself as PNG (``_repr_png_``), so it shows in any kernel, Colab and
VS Code included, and ``fig.savefig(path)`` still writes it.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["new_figure"]

_CLASS: Any = None


def _figure_class() -> Any:
    global _CLASS
    if _CLASS is None:
        from matplotlib.figure import Figure

        class InlineFigure(Figure):
            """A matplotlib Figure on the Agg canvas that renders itself as PNG in a notebook."""

            def _repr_png_(self) -> bytes:
                buf = io.BytesIO()
                self.savefig(buf, format="png", bbox_inches="tight")
                return buf.getvalue()

        _CLASS = InlineFigure
    return _CLASS


def new_figure(width: float, height: float, dpi: int = 100) -> Any:
    """An empty figure of ``width`` x ``height`` inches on the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig
