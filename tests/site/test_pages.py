"""Pages generated from the course file: tags, schedule, policies, downloads, build checks.

These run without a browser and without building the site.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from diffcourse_staff.site import build as site_build
from diffcourse_staff.site.pages import (
    MacroError,
    PageContext,
    download_uri,
    expand_macros,
    fmt_datetime,
    fmt_short,
    lecture_header,
)


def ctx_for(course, page="index.md", uris=(), downloads="require"):
    return PageContext(course, page, frozenset(uris), downloads)


def test_values_come_from_the_course_file(course):
    text = expand_macros(
        "{{ course.code }} / {{ course.term }} / {{ late.free_late_days }}", ctx_for(course)
    )
    assert text == f"{course.code} / {course.term} / {course.late_policy.free_late_days}"


def test_changing_the_course_changes_the_numbers_on_the_syllabus(course):
    late = dataclasses.replace(
        course.late_policy,
        free_late_days=7,
        max_late_days_per_assignment=4,
        penalty_percent_per_day=12.5,
    )
    other = dataclasses.replace(course, late_policy=late)
    before = expand_macros("{{ late_policy }}", ctx_for(course))
    after = expand_macros("{{ late_policy }}", ctx_for(other))
    assert "**7 free late" in after and "**4**" in after and "**12.5%**" in after
    assert before != after
    lp = course.late_policy
    assert f"**{lp.free_late_days} free late" in before
    assert f"**{lp.penalty_percent_per_day:g}%**" in before


def test_grading_table_has_every_component_and_weight(course):
    table = expand_macros("{{ grading_table }}", ctx_for(course, "syllabus.md"))
    for comp in course.grading:
        assert f"| {comp.name} | {comp.weight:g}% |" in table
    letters = expand_macros("{{ letter_table }}", ctx_for(course, "syllabus.md"))
    for letter, cutoff in course.letter_cutoffs.items():
        assert f"| {letter} | {cutoff:g}% |" in letters


def test_policy_placeholders_are_filled(course):
    text = expand_macros("{{ policy regrades }}", ctx_for(course))
    assert "{" not in text
    assert str(course.policies["regrade_window_days"]) in text


def test_unknown_tags_and_arguments_are_refused(course):
    with pytest.raises(MacroError, match="unknown tag"):
        expand_macros("{{ no_such_tag }}", ctx_for(course))
    with pytest.raises(MacroError, match="unknown course value"):
        expand_macros("{{ course.nothing }}", ctx_for(course))
    with pytest.raises(MacroError, match="unknown assignment"):
        expand_macros("{{ assignment_dates ps99 }}", ctx_for(course))
    with pytest.raises(MacroError, match="has no"):
        expand_macros("{{ api diffcourse.schedules no_such_function }}", ctx_for(course))
    # TeX with doubled braces is not a tag.
    assert expand_macros(r"\frac{{a}}{{b}}", ctx_for(course)) == r"\frac{{a}}{{b}}"


def test_schedule_lists_lectures_and_assignments_in_order(course):
    pages = {lec.notes for lec in course.lectures} | {"assignments/ps1.md", "mini-project.md"}
    table = expand_macros("{{ schedule_table }}", ctx_for(course, "schedule.md", pages))
    rows = [r for r in table.splitlines()[2:]]
    for lec in course.lectures:
        assert any(f"]({lec.notes})" in r and fmt_short(lec.date) in r for r in rows), lec.id
    for a in course.assignments:
        due = [r for r in rows if f"Due {a.due:%H:%M}:**" in r and a.title in r]
        assert len(due) == 1 and f"| {fmt_short(a.due.date())} |" in due[0], a.id
    # Dates never go backwards down the table.
    year = course.start.year
    dates = [dt.datetime.strptime(f"{r.split('|')[2].strip()} {year}", "%a %d %b %Y") for r in rows]
    assert dates == sorted(dates)
    assert "[Problem set 1" in table  # a page that exists is linked
    assert "[Mini project](mini-project.md)" in table  # the project links its own page
    project = course.assignment("mini_project")
    for m in project.milestones:
        if m.due != project.due:
            row = next(r for r in rows if "**Milestone:**" in r and m.title in r)
            assert f"| {fmt_short(m.due.date())} |" in row and f"{m.points} points" in row


def test_download_link_stub_and_failure(course):
    ps1 = course.assignment("ps1")
    with_zip = expand_macros(
        "{{ assignment_download ps1 }}",
        ctx_for(course, "assignments/ps1.md", {download_uri("ps1")}),
    )
    assert "(../downloads/ps1-student.zip)" in with_zip
    stub = expand_macros(
        "{{ assignment_download ps1 }}", ctx_for(course, "assignments/ps1.md", downloads="stub")
    )
    assert "not built" in stub.lower() and "](" not in stub
    with pytest.raises(MacroError, match="--stub-downloads"):
        expand_macros("{{ assignment_download ps1 }}", ctx_for(course, "assignments/ps1.md"))
    dates = expand_macros("{{ assignment_dates ps1 }}", ctx_for(course, "assignments/ps1.md"))
    assert fmt_datetime(ps1.due) in dates and fmt_datetime(ps1.release) in dates


def test_grading_costs_show_each_measured_reference_and_name_the_missing(course):
    report = {
        "reference": {
            "total": 60,
            "possible": 60,
            "cpu_s": 19.6,
            "wall_s": 21.2,
            "peak_rss_mb": 612.4,
            "peak_anon_mb": 431.0,
        },
        "gradescope": {
            "memory_mb": 1536,
            "timeout_minutes": 10,
            "cpu": "0.5 vCPU (default) is enough",
        },
    }
    ctx = dataclasses.replace(
        ctx_for(course, "staff/release-guide.md"), grading_reports={"ps1": report}
    )
    table = expand_macros("{{ grading_costs }}", ctx).splitlines()
    ps1 = next(row for row in table if row.startswith("| ps1 |"))
    for shown in ("60 / 60", "20 s", "21 s", "612 MB (431 MB)", "1536 MB", "10 min"):
        assert shown in ps1
    others = [a.id for a in course.notebook_assignments if a.id != "ps1"]
    assert others
    for aid in others:
        row = next(row for row in table if row.startswith(f"| {aid} |"))
        assert "not measured yet" in row


def test_every_lecture_gets_its_date_and_topics(course):
    for lec in course.lectures:
        header = lecture_header(course, lec.notes)
        assert lec.date.strftime("%b %Y") in header and lec.topics[0] in header
    with pytest.raises(MacroError):
        lecture_header(course, "lectures/not-a-lecture.md")


def test_build_refuses_to_run_without_the_student_zips(monkeypatch, tmp_path, course):
    monkeypatch.setattr("diffcourse_staff.site.figures.stale", lambda *a, **k: [])
    monkeypatch.setenv("DIFFCOURSE_DIST_DIR", str(tmp_path / "dist"))  # a release not built
    with pytest.raises(site_build.SiteBuildError, match="student zip.*--stub-downloads"):
        site_build.preflight(stub_downloads=False)
    site_build.preflight(stub_downloads=True)  # a preview needs no zips


def test_build_refuses_stale_figures(monkeypatch, course):
    class Fig:
        name = "l02-schedules.png"

    monkeypatch.setattr("diffcourse_staff.site.figures.stale", lambda *a, **k: [Fig()])
    with pytest.raises(site_build.SiteBuildError, match="make figures"):
        site_build.preflight(stub_downloads=True)


def test_the_student_zips_are_published_with_the_site(tmp_path, monkeypatch, course, figures_ready):
    """With the release's zips present, the real (non-stub) build copies them into the site
    and every problem set page links its own zip."""
    dist = tmp_path / "dist"
    for a in course.notebook_assignments:
        z = dist / a.id / f"{a.id}-student.zip"
        z.parent.mkdir(parents=True)
        z.write_bytes(f"zip of {a.id}".encode())
    monkeypatch.setenv("DIFFCOURSE_DIST_DIR", str(dist))
    out = tmp_path / "site"
    site_build.build(out, stub_downloads=False)
    for a in course.notebook_assignments:
        published = out / "downloads" / f"{a.id}-student.zip"
        assert published.read_bytes() == f"zip of {a.id}".encode()
        page = (out / "assignments" / a.id / "index.html").read_text()
        assert f'href="../../downloads/{a.id}-student.zip"' in page
        assert "Download not built" not in page
