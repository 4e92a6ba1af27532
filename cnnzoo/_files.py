"""Writing outputs so that a failure or a termination changes nothing that was there before.

Temporary files and folders sit beside their target (so the final rename is atomic) and carry
the writing process's id in their name: ``.NAME.cnnzoo-PID-XXXX``. Those of a process that no
longer runs (killed with SIGKILL, or the machine went down) are removed the next time the same
target is written, so they never pile up.

[`write_all`][cnnzoo._files.write_all] writes several files as one: every file goes to a
temporary first; only when all are written are they moved into place, and if one of those moves
fails the files already replaced get their earlier content back.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InvalidArgumentError

__all__ = ["check_writable_file", "sweep_stale", "temp_prefix", "write_all"]

_MARK = ".cnnzoo-"


def temp_prefix(name: str) -> str:
    """The prefix of this process's temporaries for target file ``name``."""
    return f".{name}{_MARK}{os.getpid()}-"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_stale(directory: Path, name: str) -> None:
    """Remove the temporaries of ``name`` in ``directory`` left by processes that have ended."""
    pattern = re.compile(re.escape(f".{name}{_MARK}") + r"(\d+)-")
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def check_writable_file(path: Path) -> None:
    """Refuse a target that cannot become a file: a directory, or a missing or read-only folder.

    Raises:
        InvalidArgumentError: the message names the path and what to do.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InvalidArgumentError(
            f"cannot write {str(path)!r}: a directory of that name is there; remove or rename it, "
            "or write somewhere else"
        )
    if not directory.is_dir():
        raise InvalidArgumentError(
            f"cannot write {str(path)!r}: directory {str(directory)!r} does not exist; create it"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InvalidArgumentError(
            f"cannot write {str(path)!r}: directory {str(directory)!r} is not writable"
        )


def write_all(items: Sequence[tuple[Path, Callable[[Path], object]]], mode: int) -> list[Path]:
    """Write every ``(path, write)`` pair, or none: ``write(tmp)`` fills a temporary file.

    All temporaries are written first; then each replaces its target, the target's previous
    content kept aside (a hard link) until every move succeeded. On any failure, or an
    interrupt, every target is left as it was before and no temporary remains.

    Raises:
        InvalidArgumentError: a target is a directory, or its folder is missing or read-only.
        OSError: writing failed (a full disk, ...); nothing was changed.
    """
    for path, _ in items:
        check_writable_file(path)
    temps: list[Path] = []
    backups: list[tuple[Path, Path | None]] = []  # (target, its earlier content or None)
    try:
        for path, write in items:
            directory = path.parent if str(path.parent) else Path(".")
            sweep_stale(directory, path.name)
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=directory)
            os.close(fd)
            temps.append(Path(tmp))
            write(Path(tmp))
            os.chmod(tmp, mode)
        for (path, _), tmp in zip(items, temps, strict=True):
            backup: Path | None = None
            if path.exists():
                backup = Path(f"{tmp}.old")
                try:
                    os.link(path, backup)
                except OSError:  # a file system without hard links
                    shutil.copy2(path, backup)
            backups.append((path, backup))  # before the move: a failed move is undone too
            os.replace(tmp, path)
    except BaseException:
        for path, backup in reversed(backups):
            with contextlib.suppress(OSError):
                if backup is not None:
                    # (rename between two links of one file does nothing: unlink then)
                    os.replace(backup, path)
                    backup.unlink(missing_ok=True)
                else:
                    path.unlink(missing_ok=True)
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        raise
    for _, backup in backups:
        if backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink()
    return [path for path, _ in items]
