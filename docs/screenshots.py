"""Take the README's screenshots of the review page: start `indicated serve` on a throwaway database, add
a reviewer, log in, paste examples/fusion_smoker.txt (a partial verdict), click a criterion, and save the
page at desktop (1280x900) and phone (390x844) width as PNG under docs/screenshots/.

    python docs/screenshots.py            # needs Debian's chromium and the playwright package

The PNGs are written as palette images when Pillow is installed, which keeps each well under 300 KB.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CASE = (ROOT / "examples" / "fusion_smoker.txt").read_text()
PASSWORD = "screenshot password 1"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def serve(db: Path) -> tuple[subprocess.Popen, str]:
    """`indicated serve` on a free port over ``db``, with one reviewer; its process and address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INDICATED_DATABASE_URL": f"sqlite:///{db}"}
    exe = [sys.executable, "-m", "indicated.cli"]
    subprocess.run([*exe, "reviewers", "add", "rev", "--password-stdin"], input=PASSWORD + "\n", text=True, env=env)
    proc = subprocess.Popen([*exe, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/cds-services").status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("indicated serve did not start")


def shrink(path: Path) -> None:
    """Quantize to a 256-colour palette (text and flat colours survive it), if Pillow is at hand."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve(Path(tmp) / "shots.db")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=browser_path, headless=True, args=["--no-sandbox"])
                for name, (width, height) in SIZES.items():
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(f"{url}/ui/login?next=/")
                    page.fill("#username", "rev")
                    page.fill("#password", PASSWORD)
                    page.click("#login")
                    page.fill("#case", CASE)
                    page.click("#assess")
                    page.wait_for_url("**/ui/assessments/*")
                    if name == "desktop":
                        # the failed exclusion (below the fold): the record outlines its words, the window stays
                        page.locator("#crit-4").dispatch_event("click")
                        page.wait_for_timeout(900)
                    page.screenshot(path=OUT / f"review-{name}.png")
                    shrink(OUT / f"review-{name}.png")
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}: {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
