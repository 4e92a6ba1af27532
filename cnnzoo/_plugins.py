"""A cheap first look for ``cnnzoo.models`` entry points, before importing importlib.metadata.

``cnnzoo list`` must look for plugins, and almost always there are none. ``importlib.metadata``
costs about 20 ms to import (it pulls in the ``email`` package) before it reads a single file,
a third of what ``cnnzoo list`` otherwise takes. So the installed distributions'
``entry_points.txt`` files are read directly first: when none of them mentions the group,
there is nothing to load. Wherever this look could miss a distribution (a zip file on
``sys.path``, a finder that supplies distributions of its own), it answers "maybe" and the
caller asks importlib.metadata, which remains the only judge of what is declared.
"""

from __future__ import annotations

import os
import sys

__all__ = ["may_declare"]


def may_declare(group: str) -> bool:
    """False only when certainly no distribution on ``sys.path`` declares entry points in
    ``group``."""
    for finder in sys.meta_path:
        # importlib.metadata asks every finder that has find_distributions; only PathFinder's
        # answer (the directories of sys.path) is reproduced here.
        if hasattr(finder, "find_distributions") and finder is not _path_finder():
            return True
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                found = [d.path for d in it if d.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True  # a zip file or an egg: let importlib.metadata read it
        except OSError:
            continue  # a missing directory holds no distribution
        for dist in found:
            try:
                with open(os.path.join(dist, "entry_points.txt"), encoding="utf-8") as f:
                    if group in f.read():
                        return True
            except (NotADirectoryError, FileNotFoundError):
                continue  # no entry points (or an .egg-info file, which cannot hold them)
            except (OSError, UnicodeDecodeError):
                return True
    return False


def _path_finder() -> object:
    from importlib.machinery import PathFinder

    return PathFinder
