"""A training run owns its output directory.

[`claim_run_dir`][cnnzoo.rundir.claim_run_dir] takes a lock on the directory before the run
writes anything, and checks under that lock that the directory holds no other run and none of
the user's files that the run would overwrite. A second run into the same directory, started
at the same moment or while the first one trains, gets a
[`RunDirBusyError`][cnnzoo.rundir.RunDirBusyError] naming the directory and the process that
holds it.

The lock is ``DIR/.cnnzoo-run.lock``, held with ``fcntl.flock`` (released by the kernel when the
process ends, however it ends, so the lock of a killed run is never stale); the file records the
holder's pid, host and start time for the message. Where ``fcntl`` does not exist (Windows) the
file is created with ``O_CREAT | O_EXCL`` instead, and a lock file whose process is gone (same
host, no such pid) is taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import InvalidArgumentError, RunDirBusyError

__all__ = [
    "LOCK_NAME",
    "RUN_FILES",
    "RunLock",
    "check_epochs_left",
    "check_run_dir",
    "claim_run_dir",
]

#: The lock file's name inside the run directory.
LOCK_NAME = ".cnnzoo-run.lock"
#: The files a training run writes into its directory.
RUN_FILES = (
    "best.pth",
    "last.pth",
    "history.json",
    "history.csv",
    "loss.png",
    "accuracy.png",
    "confusion_matrix.png",
    "samples.png",
    "best.onnx",
)

try:  # pragma: no cover - the branch depends on the platform
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


def check_run_dir(out: str | PathLike[str], resume: str | PathLike[str] | None = None) -> None:
    """Refuse an output directory that a new run cannot own.

    Raises:
        InvalidArgumentError: ``out`` is a dangling symbolic link, or it holds files a run
            writes (``history.csv``, ``best.pth``, ...) that do not belong to the run being
            resumed.
    """
    path = Path(out)
    if path.is_symlink() and not path.exists():
        raise InvalidArgumentError(
            f"output directory {str(path)!r} is a symbolic link to {os.readlink(path)!r}, which "
            "does not exist; create that directory or choose another --out"
        )
    if not path.is_dir():
        return
    if resume is not None and Path(resume).resolve().parent == path.resolve():
        return  # continuing the run this directory holds
    taken = [name for name in RUN_FILES if (path / name).exists()]
    if taken and "last.pth" in taken:
        return  # the "already holds a training run" message of the caller applies
    if taken:
        raise InvalidArgumentError(
            f"output directory {str(path)!r} already holds {', '.join(taken)}, which this run "
            "would overwrite; move them away or choose another --out"
        )


def _describe(info: dict[str, Any]) -> str:
    if not info:
        return "another process"
    when = info.get("started")
    started = (
        time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(when))
        if isinstance(when, (int, float))
        else ""
    )
    return f"process {info.get('pid', '?')} on {info.get('host', '?')}{started}"


def _read_info(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class RunLock:
    """The lock of one run directory; ``release()`` (or leaving the ``with``) gives it back.

    Attributes:
        directory: the run directory.
        created: whether the lock created the directory (then an empty one is removed again
            on release, so a run that fails before writing leaves nothing behind).
    """

    def __init__(self, directory: Path, fd: int, created: bool) -> None:
        self.directory = directory
        self.created = created
        self._fd: int | None = fd

    @property
    def path(self) -> Path:
        return self.directory / LOCK_NAME

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
        os.close(fd)
        if self.created:
            with contextlib.suppress(OSError):
                self.directory.rmdir()  # only if the run wrote nothing

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _busy(directory: Path, info: dict[str, Any]) -> RunDirBusyError:
    return RunDirBusyError(
        f"output directory {str(directory)!r} is in use by another training run "
        f"({_describe(info)}); wait for it to end or choose another --out"
    )


def _info_bytes() -> bytes:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    return (json.dumps(info) + "\n").encode()


def _lock_flock(directory: Path, created: bool) -> RunLock:
    path = directory / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _busy(directory, _read_info(path)) from None
        except BaseException:
            os.close(fd)
            raise
        # The holder may have removed the file between our open and our lock: then we hold
        # a lock on a file nobody else sees, and must lock the one on the path instead.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, _info_bytes())
            return RunLock(directory, fd, created)
        os.close(fd)


def _lock_exclusive(directory: Path, created: bool) -> RunLock:  # pragma: no cover - Windows
    path = directory / LOCK_NAME
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            info = _read_info(path)
            pid = info.get("pid")
            stale = (
                info.get("host") == socket.gethostname()
                and isinstance(pid, int)
                and not _pid_alive(pid)
            )
            if not stale:
                raise _busy(directory, info) from None
            path.unlink(missing_ok=True)
            continue
        os.write(fd, _info_bytes())
        return RunLock(directory, fd, created)
    raise _busy(directory, _read_info(path))


def claim_run_dir(out: str | PathLike[str], resume: str | PathLike[str] | None = None) -> RunLock:
    """Create ``out`` if needed and lock it for this run, then check what it holds.

    Raises:
        RunDirBusyError: another run holds the directory (the message names it and the process).
        InvalidArgumentError: see [`check_run_dir`][cnnzoo.rundir.check_run_dir]; also a
            directory that holds another run's ``last.pth``.
    """
    directory = Path(out)
    check_run_dir(directory, resume)
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InvalidArgumentError(
            f"output directory {str(directory)!r} is a file; choose --out DIR"
        ) from None
    lock = (_lock_flock if fcntl is not None else _lock_exclusive)(directory, created)
    try:
        # Checked again under the lock: a run that finished between the caller's first check and
        # the lock has left its last.pth here.
        check_run_dir(directory, resume)
        last = directory / "last.pth"
        if last.exists() and (resume is None or Path(resume).resolve() != last.resolve()):
            raise InvalidArgumentError(
                f"output directory {str(directory)!r} already holds a training run (last.pth); "
                f"continue it with --resume {last} or choose another --out"
            )
    except BaseException:
        lock.release()
        raise
    return lock


def check_epochs_left(epochs: int, done: int, resume: str | PathLike[str], out: Path) -> None:
    """Refuse a resume that would train nothing (into its own directory) or fewer epochs.

    Raises:
        InvalidArgumentError: naming the epochs done and a ``--epochs`` that continues.
    """
    same_dir = Path(resume).resolve().parent == Path(out).resolve()
    if epochs < done or (epochs == done and same_dir):
        raise InvalidArgumentError(
            f"{str(resume)!r} has already trained {done} epoch(s), and --epochs {epochs} asks "
            f"for no more; to continue, give a larger --epochs (e.g. --epochs {done + 5})"
        )
