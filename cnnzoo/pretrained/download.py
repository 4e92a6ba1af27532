"""Fetching a weights file into torch hub's cache: once, checked, atomic, and honest offline.

The file goes to ``<torch.hub.get_dir()>/checkpoints/<file name>``, the very place torchvision
puts it, so ``TORCH_HOME`` moves both and a file torchvision already fetched is used as is.

* A file already there is checked against the hash prefix in its name (as ``torch.hub``
  checks it) and no network is touched.
* A missing file is downloaded into a temporary file beside it and renamed into place only
  when it is complete and its hash matches: an interrupted or wrong download leaves nothing
  that later passes for complete.
* No network (or ``CNNZOO_OFFLINE=1``): one error, within seconds (a short connect timeout),
  naming the URL and the exact path to put the file at.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..errors import DownloadError, WeightsError

__all__ = ["CONNECT_TIMEOUT", "OFFLINE_ENV", "cache_dir", "check_hash", "fetch", "sha256_of"]

#: Seconds to wait for the server (and for each read) before giving up.
CONNECT_TIMEOUT = 10.0
#: Set to 1 to never touch the network: a missing file is an error at once.
OFFLINE_ENV = "CNNZOO_OFFLINE"
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """``<torch.hub.get_dir()>/checkpoints``, where torchvision keeps downloaded weights.

    Computed as torch.hub does (``$TORCH_HOME/hub``, else ``$XDG_CACHE_HOME/torch/hub``, else
    ``~/.cache/torch/hub``) without importing torch; ``torch.hub.set_dir`` is honoured when
    torch is already imported.
    """
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "hub"):
        return Path(torch.hub.get_dir()) / "checkpoints"
    home = os.environ.get("TORCH_HOME")
    if not home:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
        home = os.path.join(xdg, "torch")
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check_hash(path: str | os.PathLike[str], prefix: str, *, url: str | None = None) -> None:
    """Raise [`WeightsError`][cnnzoo.errors.WeightsError] unless ``path``'s sha256 starts
    with ``prefix`` (torch.hub's check: the prefix is the hex part of the file's name)."""
    digest = sha256_of(path)
    if not digest.startswith(prefix):
        where = f" (from {url})" if url else ""
        raise WeightsError(
            f"weights file {str(path)!r}{where} is damaged or not the published one: its sha256 "
            f"starts {digest[: len(prefix)]}, expected {prefix}; nothing was loaded. Run again "
            "to download it afresh, or put the published file there"
        )


def _progress_bar(total: int | None, name: str, show: bool) -> Callable[[int], None] | None:
    if not show:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)

    def update(n: int) -> None:
        if n < 0:
            bar.close()
        else:
            bar.update(n)

    return update


def fetch(
    url: str,
    file_name: str,
    hash_prefix: str,
    *,
    progress: bool | None = None,
    directory: str | os.PathLike[str] | None = None,
) -> Path:
    """The cached file of ``url``, downloaded first if it is not there.

    Args:
        url: where the file is published.
        file_name: its name in the cache.
        hash_prefix: the start of its sha256.
        progress: a tqdm bar on stderr; ``None``: only when stderr is a terminal.
        directory: the cache directory; default ``cache_dir()``.

    Returns:
        The path of the complete, checked file.

    Raises:
        DownloadError: the file is missing and could not be downloaded (offline, server
            unreachable, transfer cut short); names the URL and where to put the file.
        WeightsError: the file (cached or downloaded) does not have the published hash.
    """
    folder = Path(directory) if directory is not None else cache_dir()
    target = folder / file_name
    if target.is_file():
        try:
            check_hash(target, hash_prefix, url=url)
        except WeightsError as exc:
            # Moved aside, so it never passes for the complete file; the next run downloads.
            aside = target.with_name(f"{target.name}.bad-hash")
            os.replace(target, aside)
            raise WeightsError(f"{exc}; it was moved to {aside}") from None
        return target
    put = f"download {url} and put it at {target}"
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        raise DownloadError(
            f"weights file {target} is not in the cache and {OFFLINE_ENV} is set; {put}"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache directory {str(folder)!r}: {exc}") from exc
    if not os.access(folder, os.W_OK):
        raise DownloadError(
            f"the cache directory {str(folder)!r} is not writable; set TORCH_HOME to a writable "
            f"directory, or {put}"
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".partial", dir=folder)
    tmp = Path(tmp_name)
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with os.fdopen(fd, "wb") as out:
            _download(url, out, file_name, show, put)
        digest = sha256_of(tmp)
        if not digest.startswith(hash_prefix):
            raise WeightsError(
                f"the file downloaded from {url} is not the published one: its sha256 starts "
                f"{digest[: len(hash_prefix)]}, expected {hash_prefix}; nothing was kept or "
                f"loaded; run again, or {put}"
            )
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _download(url: str, out: object, name: str, show: bool, put: str) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "cnnzoo"})
    try:
        response = urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"cannot download {url} (no network? {reason}); {put}") from exc
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _progress_bar(total, name, show)
        received = 0
        try:
            while True:
                try:
                    block = response.read(_CHUNK)
                except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, timeout
                    raise DownloadError(
                        f"download of {url} broke off after {received:,} bytes ({exc}); "
                        f"nothing was kept; run again, or {put}"
                    ) from exc
                if not block:
                    break
                out.write(block)  # type: ignore[attr-defined]
                received += len(block)
                if bar is not None:
                    bar(len(block))
        finally:
            if bar is not None:
                bar(-1)
    if total is not None and received != total:
        raise DownloadError(
            f"download of {url} broke off after {received:,} of {total:,} bytes; nothing was "
            f"kept; run again, or {put}"
        )
