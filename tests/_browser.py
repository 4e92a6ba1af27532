"""Render display HTML in headless Chromium and read back what the page shows.

The display fragments themselves hold no script; the test page around them does: after layout it
writes, for each fragment, its ``innerText`` (the text as rendered: hidden elements left out,
table cells tab-separated, entities decoded), the computed background colours of its cells and
whether anything ran that should not have, into a ``<pre>`` that ``--dump-dom`` returns.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var out = {};
  document.querySelectorAll('[data-display]').forEach(function (el) {
    var colours = {};
    el.querySelectorAll('td, th, span').forEach(function (c) {
      var bg = getComputedStyle(c).backgroundColor;
      var t = c.innerText.trim();
      if (t && bg !== 'rgba(0, 0, 0, 0)') { colours[t] = bg; }
    });
    out[el.getAttribute('data-display')] = {text: el.innerText, colours: colours};
  });
  out.__pwned__ = document.body.getAttribute('data-pwned');
  document.getElementById('cnnzoo-out').textContent = JSON.stringify(out);
});
</script>
"""


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def render(fragments: dict[str, str], workdir: Path, chromium: str) -> dict:
    """``{name: display html}`` -> ``{name: {"text": innerText, "colours": {...}}}`` and
    ``"__pwned__"`` (set only if a fragment's text ran as a script)."""
    body = "".join(f'<div data-display="{html.escape(k)}">{v}</div>' for k, v in fragments.items())
    page = workdir / "page.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}'
        f'<pre id="cnnzoo-out"></pre>{_SCRIPT}</body></html>',
        encoding="utf-8",
    )
    args = [
        chromium,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        f"--user-data-dir={workdir / 'profile'}",
        "--dump-dom",
        page.as_uri(),
    ]
    # Its own process group, so that a timeout ends the renderer processes too.
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired as exc:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        # A display whose text ran as a script can block the page (an alert() dialog).
        raise AssertionError(f"{chromium} did not finish loading the page in 60 s") from exc
    match = re.search(r'<pre id="cnnzoo-out">(.*?)</pre>', stdout, re.S)
    if proc.returncode != 0 or not match or not match.group(1):
        raise RuntimeError(
            f"{chromium} did not render the page (exit {proc.returncode}): {stderr[-2000:]}"
        )
    return json.loads(html.unescape(match.group(1)))
