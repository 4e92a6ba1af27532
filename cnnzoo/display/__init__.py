"""Rich displays for notebooks: self-contained HTML and Markdown of cnnzoo's objects.

Each object a user looks at (a model card, a summary, a check report, an evaluation, a training
run, the runs table) has ``_repr_html_`` and, where it reads better, ``_repr_markdown_``, which
Jupyter calls; ``str()`` stays the plain text a terminal shows. The HTML is one ``<div>`` with
inline styles only: no ``<script>``, no ``<style>`` that would leak into the page, no external
resource, and every piece of text from outside (a description, a label, a student's layer name)
is escaped.

This package imports no torch and no matplotlib.
"""

from __future__ import annotations

from .html import escape, table
from .markdown import escape_md

__all__ = ["escape", "escape_md", "table"]
