"""Checking a network against the lecture: a student's own, or cnnzoo's against the tables.

``cnnzoo.check(...)`` is this package called as a function (see :func:`check`). One idea per
file:

* :mod:`~cnnzoo.check.structure`: reading a network's layers from its forward pass (facts);
* :mod:`~cnnzoo.check.align`: lining two structures up by order and kind, not names;
* :mod:`~cnnzoo.check.diagnose`: the first difference with its cause, then its consequences;
* :mod:`~cnnzoo.check.formula`: the course's output-size and parameter arithmetic;
* :mod:`~cnnzoo.check.weights`: a weights file checked by parameter shapes;
* :mod:`~cnnzoo.check.student`: a student's file imported and run in a child process;
* :mod:`~cnnzoo.check.tables`: the documents' tables reconciled row by row, on the same
  alignment for a student's network; :mod:`~cnnzoo.check.table_report` their report and text;
  :mod:`~cnnzoo.check.printed` values as a document prints them;
* :mod:`~cnnzoo.check.report`: the reports and their text;
* :mod:`~cnnzoo.check.steps`: the dimension exercise (``cnnzoo summary --steps``).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .checker import check
from .report import CheckReport, StudentReport
from .tables import AlsoReport, Cell, ErratumReport, RowReport, TableReport

__all__ = [
    "AlsoReport",
    "Cell",
    "CheckReport",
    "ErratumReport",
    "RowReport",
    "StudentReport",
    "TableReport",
    "check",
]


class _CallablePackage(types.ModuleType):
    """Importing ``cnnzoo.check.x`` sets the attribute ``cnnzoo.check`` to this package; calling
    it still checks, so ``cnnzoo.check(...)`` works however the package was imported."""

    def __call__(self, *names: str, **kwargs: Any) -> CheckReport:
        return check(*names, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
