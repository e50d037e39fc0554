"""The built site in a real browser (headless Debian chromium, driven by Playwright).

Every page: no console error, no failed or off-site request, math typeset by the local
MathJax, every image and animation decoded. Plus: the search finds the DDIM lecture,
and the schedule shows every assignment of the course file with its due date.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from diffcourse_staff.course import REPO_ROOT
from diffcourse_staff.site.pages import fmt_short

pytestmark = pytest.mark.browser

ARTIFACTS = REPO_ROOT / "test-artifacts"

PAGE_FACTS = """() => ({
  arithmatex: document.querySelectorAll('.arithmatex').length,
  untypeset: Array.from(document.querySelectorAll('.arithmatex'))
      .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 80)),
  mjx: document.querySelectorAll('mjx-container').length,
  text: document.querySelector('article') ? document.querySelector('article').innerText : '',
  images: Array.from(document.images).map(img => [img.getAttribute('src'), img.naturalWidth]),
})"""


def test_every_page_loads_cleanly_with_math_and_images(visit, browser, site_url, site_pages):
    assert len(site_pages) >= 18, site_pages  # home, syllabus, schedule, 11 lectures, ...
    failures = []
    math_pages = 0
    for path in site_pages:
        page, problems = visit(browser, site_url + path)
        facts = page.evaluate(PAGE_FACTS)
        page.close()
        where = f"/{path}"
        failures += [f"{where}: {p}" for p in problems]
        if facts["arithmatex"]:
            math_pages += 1
            if facts["mjx"] == 0:
                failures.append(f"{where}: MathJax typeset nothing")
            failures += [f"{where}: not typeset: {t!r}" for t in facts["untypeset"]]
        for raw in ("$$", "\\(", "\\[", "\\begin{"):
            if raw in facts["text"]:
                failures.append(f"{where}: raw TeX {raw!r} left in the visible text")
        for src, width in facts["images"]:
            if not width:
                failures.append(f"{where}: image {src} did not load")
    assert not failures, "\n".join(failures)
    assert math_pages >= 11, f"only {math_pages} pages have math: lectures should"


def test_home_page_screenshot_and_showcases(visit, browser, site_url):
    page, problems = visit(browser, site_url)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    gifs = page.evaluate(
        "() => Array.from(document.images).filter(i => i.src.endsWith('.gif'))"
        ".map(i => i.naturalWidth)"
    )
    page.close()
    assert not problems, problems
    assert len(gifs) == 3 and all(w > 0 for w in gifs), gifs
    assert (ARTIFACTS / "home.png").stat().st_size > 10_000


def test_search_finds_the_ddim_lecture(visit, browser, site_url, course):
    ddim = next(lec for lec in course.lectures if "DDIM" in lec.title)
    slug = Path(ddim.notes).stem
    page, problems = visit(browser, site_url)
    page.click("input.md-search__input")  # the header search field (desktop layout)
    page.keyboard.type("DDIM")
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    hrefs = page.eval_on_selector_all(
        ".md-search-result__item a", "els => els.map(e => e.getAttribute('href'))"
    )
    page.close()
    assert not problems, problems
    assert any(slug in h for h in hrefs), f"no result links to {slug}: {hrefs}"


def test_schedule_lists_every_assignment_with_its_due_date(visit, browser, site_url, course):
    page, problems = visit(browser, site_url + "schedule/")
    rows = page.eval_on_selector_all(
        "article table tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))"
    )
    page.close()
    assert not problems, problems
    for a in course.assignments:
        due_rows = [r for r in rows if len(r) == 4 and a.title in r[2] and r[2].startswith("Due")]
        assert len(due_rows) == 1, f"{a.id}: expected one due row, got {due_rows}"
        row = due_rows[0]
        assert row[1] == fmt_short(a.due.date()), f"{a.id}: due on {row[1]}, not {a.due:%Y-%m-%d}"
        assert f"{a.due:%H:%M}" in row[2], f"{a.id}: due time {a.due:%H:%M} missing from {row}"
        released = [
            r for r in rows if len(r) == 4 and a.title in r[2] and r[2].startswith("Released")
        ]
        assert len(released) == 1 and released[0][1] == fmt_short(a.release.date()), released
