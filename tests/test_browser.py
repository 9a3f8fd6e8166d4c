"""End to end in a real browser: Playwright drives Debian's chromium (headless, started here) against
`indicated serve`: paste a case, read the verdict and a highlighted span, log in as a reviewer,
approve the article and see the audit entry; and the page `indicated assess --format html` writes, opened
on its own."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import SHARED_CASES, load_cases

NOTE = dict(load_cases(SHARED_CASES))["d01_discectomy_failed_conservative"]["text"]
SMOKER = (Path(__file__).resolve().parents[1] / "examples" / "fusion_smoker.txt").read_text()  # a partial verdict
PASSWORD = "reviewer password 1"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("the browser test needs Debian's chromium: apt-get install chromium (bash .ci/run does)")
    return path


@pytest.fixture
def server(tmp_path: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INDICATED_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}"}
    exe = str(Path(sys.executable).with_name("indicated"))
    subprocess.run(
        [exe, "reviewers", "add", "rev", "--password-stdin"], input=PASSWORD + "\n", text=True, env=env, check=True
    )
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/cds-services").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"indicated serve did not start: {proc.stderr.read().decode()[-2000:]}")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_login_paste_read_approve_and_see_the_audit_entry(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        refused: list[str] = []  # what the Content-Security-Policy blocked (issue 17.10): nothing
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server)
        expect(page.locator("#case")).to_have_count(0)  # no case is taken, nor any shown, before a login
        page.click("#login-link")
        page.fill("#username", "rev")
        page.fill("#password", PASSWORD)
        page.click("#login")
        page.wait_for_url(server + "/")
        page.fill("#case", NOTE)
        page.click("#assess")
        page.wait_for_url("**/ui/assessments/*")
        expect(page.locator("#article p").first).to_contain_text("Medically necessary")
        font = page.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet applies (issue 16)
        assert "system-ui" in font and "Times" not in font, font
        highlighted = page.locator("article .record mark.met").first
        expect(highlighted).to_be_visible()
        assert highlighted.inner_text().strip() in NOTE
        assert highlighted.evaluate("m => getComputedStyle(m).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
        expect(page.locator("#state")).to_have_text("submitted")
        page.fill("#why", "Imaging and examination agree; conservative care failed.")
        page.click("#approve")
        expect(page.locator("#state")).to_have_text("approved")
        last = page.locator("#audit tr.audit-entry").last
        expect(last).to_contain_text("rev")
        expect(last).to_contain_text("under review")
        expect(last).to_contain_text("approved")
        expect(last).to_contain_text("Imaging and examination agree")
        page.goto(server + page.url.split(server, 1)[1].split("?")[0].replace("/ui/", "/", 1) + "/article")
        expect(page.locator("mark.met").first).to_be_visible()
        assert page.locator("mark.met").first.evaluate("m => getComputedStyle(m).backgroundColor") not in (
            "",
            "rgba(0, 0, 0, 0)",
        )
        assert refused == []
        browser.close()


def test_the_html_article_renders_in_chromium_on_its_own(tmp_path):
    """`indicated assess --format html` writes one page that a browser shows with nothing fetched:
    styles applied, the verdict on screen, citations that jump to their reference."""
    from playwright.sync_api import expect, sync_playwright

    note = tmp_path / "note.txt"
    note.write_text(NOTE)
    page_file = tmp_path / "article.html"
    exe = str(Path(sys.executable).with_name("indicated"))
    subprocess.run([exe, "assess", str(note), "--format", "html", "-o", str(page_file)], check=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(page_file.as_uri())
        expect(page.locator("h1")).to_contain_text("63030")
        expect(page.locator("p").first).to_contain_text("Medically necessary")
        mark = page.locator("mark.met").first
        expect(mark).to_be_visible()
        assert mark.evaluate("m => getComputedStyle(m).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
        link = page.locator('a[href^="#ref-"]').first
        target = link.get_attribute("href")
        link.click()
        assert page.evaluate("location.hash") == target
        expect(page.locator(target)).to_be_in_viewport()
        browser.close()
    assert fetched == [page_file.as_uri()]


def _signed_in(browser, server: str, viewport: dict[str, int], refused: list[str]):
    """A new page at ``viewport``, signed in as the reviewer, that notes what the policy refused."""
    page = browser.new_page(viewport=viewport)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server}/ui/login?next=/")
    page.fill("#username", "rev")
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(server + "/")
    return page


def test_the_review_page_jumps_to_the_words_decides_per_line_and_fits_a_phone(server):
    """Issue 16: click a criterion and the record scrolls to its words and flashes them; a reviewer
    rejects one service line of a partial verdict with a reason; at phone width nothing scrolls sideways."""
    from playwright.sync_api import expect, sync_playwright

    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        page = _signed_in(browser, server, {"width": 1280, "height": 900}, refused)
        page.fill("#case", SMOKER)
        page.click("#assess")
        page.wait_for_url("**/ui/assessments/*")
        address = page.url
        expect(page.locator("#verdict")).to_contain_text("Partially medically necessary")
        assert "Times" not in page.evaluate("getComputedStyle(document.body).fontFamily")
        columns = page.locator("#checklist").bounding_box(), page.locator("#record-pane").bounding_box()
        assert columns[1]["x"] > columns[0]["x"] + columns[0]["width"] - 1  # the record beside the checklist
        line = page.locator('li[data-criterion="active-nicotine-use"]')
        key = line.get_attribute("id")
        words = page.locator(f'mark[data-crit~="{key}"]')
        expect(words).to_have_count(2)
        line.click()
        expect(words.first).to_have_class(re.compile(r"\bflash\b"))
        expect(words.first).to_be_in_viewport()
        expect(line).to_have_class(re.compile(r"\bcurrent\b"))
        assert words.first.inner_text() == "current smoker"

        page.fill("#line-22612 input[name=why]", "No documented smoking cessation before fusion.")
        page.click("#reject-22612")
        expect(page.locator("#line-22612 .decided")).to_have_text("rejected")
        expect(page.locator("#line-22612")).to_contain_text("No documented smoking cessation")
        expect(page.locator("#line-63047 .decision")).to_contain_text("not decided")
        expect(page.locator("#state")).to_have_text("under review")
        expect(page.locator("#audit tr.audit-entry").last).to_contain_text("service 22612 rejected")

        phone = _signed_in(browser, server, {"width": 390, "height": 844}, refused)
        phone.goto(address)
        widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths  # no sideways scroll at phone width, audit table included
        table = phone.locator("#audit").bounding_box()
        assert table is not None and phone.locator("#audit").evaluate("t => t.closest('.scroll') !== null")
        first = phone.locator('li[id^="crit-"]').first
        target = phone.locator(f'mark[data-crit~="{first.get_attribute("id")}"]').first
        expect(target).not_to_be_in_viewport()  # stacked: the record is below the checklist
        first.click()
        expect(target).to_be_in_viewport()
        expect(target).to_have_class(re.compile(r"\bflash\b"))
        browser.close()
    assert refused == []


def test_the_api_docs_render_with_no_network(server):
    """/docs and /redoc load everything from the server itself: with every other host blocked, Swagger UI
    and Redoc still draw the API, and the policy refuses nothing."""
    from playwright.sync_api import expect, sync_playwright

    refused: list[str] = []
    outside: list[str] = []

    def only_loopback(route) -> None:
        url = route.request.url
        if url.startswith(server) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.route("**/*", only_loopback)
        page.goto(f"{server}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("indicated")
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        assert refused == []
        page.goto(f"{server}/redoc")
        expect(page.locator("h1").first).to_contain_text("indicated")
        expect(page.locator("h2").first).to_be_visible()
        browser.close()
    assert outside == []
    # Redoc's sidebar credit always asks its CDN for a logo (and hides it when that fails): the one refusal
    assert all("https://cdn.redoc.ly/" in r for r in refused), refused
