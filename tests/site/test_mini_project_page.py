"""The Mini project page in a browser: milestones, rubric and ideas from data, downloads, links."""

from __future__ import annotations

import pytest

from diffcourse_staff.projects.data import load_ideas, load_rubric
from diffcourse_staff.site.pages import fmt_datetime

pytestmark = pytest.mark.browser

TABLES = "() => Array.from(document.querySelectorAll('article table')).map(t =>"
TABLES += " Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText)))"


def test_the_page_shows_milestones_rubric_and_ideas_from_the_data(visit, browser, site_url, course):
    page, problems = visit(browser, site_url + "mini-project/")
    tables = page.evaluate(TABLES)
    text = page.inner_text("article")
    page.close()
    assert not problems, problems
    project, rubric = load_rubric(course)
    milestones = next(t for t in tables if t[0][:2] == ["Milestone", "Due"])
    for m in project.milestones:
        row = next(r for r in milestones if r[0] == m.title)
        assert row[1] == fmt_datetime(m.due) and row[2] == str(m.points), row
    rubric_totals = [
        int(t[-1][1]) for t in tables if t[0][:2] == ["Criterion", "Points"] and t[-1][0] == "Total"
    ]
    assert rubric_totals[: len(project.milestones)] == [m.points for m in project.milestones]
    for idea in load_ideas().ideas:
        assert idea.title in text, idea.id


@pytest.mark.parametrize("path", ["", "syllabus/", "schedule/"])
def test_home_syllabus_and_schedule_link_the_page(visit, browser, site_url, path):
    page, problems = visit(browser, site_url + path)
    links = page.eval_on_selector_all(
        "article a", "els => els.map(e => e.getAttribute('href') || '')"
    )
    page.close()
    assert not problems, problems
    assert any(h.rstrip("/").endswith("mini-project") for h in links), links
