"""Shared fixtures of the site tests: one built site per session, served on 127.0.0.1.

The site is built into a temporary folder by `diffcourse_staff.site.build` after the
figures are made (`diffcourse_staff.site.figures`, cached in build/figures, so only stale
figures are redone). When the release has not built the student zips yet, the build
uses --stub-downloads (download links become a notice), so these tests never depend
on the release build. Set DIFFCOURSE_TEST_SITE=<folder> to test an already built site.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from diffcourse_staff.site import release, site_course
from diffcourse_staff.site.build import build
from diffcourse_staff.site.figures import make_figures

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def course():
    return site_course()


@pytest.fixture(scope="session")
def figures_ready():
    """Every figure current in build/figures (only stale ones are remade)."""
    make_figures(log=lambda *a: None)


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory, course, figures_ready) -> Path:
    given = os.environ.get("DIFFCOURSE_TEST_SITE")
    if given:
        return Path(given)
    stub = not all(release().set(a).student_zip.is_file() for a in course.notebook_assignments)
    out = tmp_path_factory.mktemp("site")
    build(out, stub_downloads=stub)
    return out


@pytest.fixture(scope="session")
def future_site(tmp_path_factory, course, figures_ready) -> Path:
    """The site as built a minute after both the mini project's release and the library's
    opening (the last due date of the problem sets it answers: ps4's), DIFFCOURSE_NOW: the
    library and the project's downloads are public then."""
    from diffcourse_staff.site.library import NOW_ENV, library_state

    public = max(course.assignment("mini_project").release, library_state(course).opens)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(NOW_ENV, (public + dt.timedelta(minutes=1)).isoformat())
        out = tmp_path_factory.mktemp("future-site")
        build(out, stub_downloads=True)
    return out


@pytest.fixture(scope="session")
def site_pages(site_dir) -> list[str]:
    """Every HTML page of the site as a URL path ('' for the home page, 'syllabus/', ...)."""
    pages = []
    for html in sorted(site_dir.rglob("index.html")):
        rel = html.parent.relative_to(site_dir).as_posix()
        if rel.startswith(("assets", "search")):
            continue
        pages.append("" if rel == "." else rel + "/")
    return pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip("needs Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


WAIT_FOR_MATH = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
  return true;
}"""


def _visit(browser, url: str):
    """Open url; return (page, problems) where problems lists console errors and bad requests."""
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def on_request(request):
        parsed = urlparse(request.url)
        if parsed.scheme in ("data", "blob", "about"):
            return
        if parsed.hostname != "127.0.0.1":
            problems.append(f"request to another host: {request.url}")

    def on_response(response):
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.goto(url, wait_until="load")
    page.evaluate(WAIT_FOR_MATH)
    return page, problems


@pytest.fixture(scope="session")
def visit():
    """visit(browser, url) -> (page, problems): console errors, failed or off-site requests."""
    return _visit
