"""Kept for imports written before :mod:`cnnzoo.check` became a package: the same names."""

from __future__ import annotations

from .check import (
    AlsoReport,
    Cell,
    CheckReport,
    ErratumReport,
    RowReport,
    StudentReport,
    TableReport,
    check,
)

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
