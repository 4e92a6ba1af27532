"""Make the Netron pictures of the export guide (not part of the build; run by hand).

Needs what the docs build does not: Netron (``pip install "cnnzoo[netron]"``), a Chromium and
Playwright to drive it. On Debian::

    apt-get install chromium
    python -m venv /tmp/shots && /tmp/shots/bin/pip install playwright
    cnnzoo export lenet5 -o /tmp/lenet5.onnx
    python -c "import netron; netron.start('/tmp/lenet5.onnx', ('127.0.0.1', 8090), browse=False)" &
    /tmp/shots/bin/python docs/_netron_screenshot.py http://127.0.0.1:8090/ docs/guide/img

It writes ``netron_lenet5.png``: the graph with node names shown (Ctrl+U) and the model
properties (metadata) open.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main() -> None:
    url, out_dir = sys.argv[1], Path(sys.argv[2])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 820})
        page.goto(url)
        page.wait_for_timeout(2500)
        accept = page.get_by_text("Accept", exact=True)  # Netron's first-run consent banner
        if accept.count():
            accept.first.click()
        page.wait_for_timeout(3000)
        page.keyboard.press("Control+U")  # View > Show Names: node names instead of op types
        page.wait_for_timeout(1000)
        page.keyboard.press("Control+Enter")  # the selected target's properties ...
        page.wait_for_timeout(800)
        page.keyboard.press("Control+Enter")  # ... and again: the model's, with its metadata
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out_dir / "netron_lenet5.png"))
        browser.close()


if __name__ == "__main__":
    main()
