"""The project's downloads appear with the project's release, and hold runnable starters."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

EXPECTED = {
    "starter-custom-data.zip",
    "starter-pretrained.zip",
    "example-project.zip",
    "report-template.zip",
}


def test_before_the_release_there_are_no_downloads_and_the_page_says_when(site_dir, course):
    release = course.assignment("mini_project").release
    if dt.datetime.now() >= release:
        return  # the real clock is past the release: nothing to check before it
    assert not any((site_dir / "downloads" / name).exists() for name in EXPECTED)
    page = (site_dir / "mini-project" / "index.html").read_text()
    assert "Published with the project on" in page


def test_after_the_release_the_page_links_every_download(future_site):
    page = (future_site / "mini-project" / "index.html").read_text()
    linked = set(re.findall(r'href="[./]*downloads/([^"]+)"', page))
    assert linked == EXPECTED
    for name in EXPECTED:
        archive = zipfile.ZipFile(future_site / "downloads" / name)
        top = name[: -len(".zip")]
        assert "<!-- results:begin -->" in archive.read(f"{top}/report.md").decode()
        if top != "report-template":
            for needed in ("Makefile", "project.py", "build_report.py", "results_table.py"):
                assert f"{top}/{needed}" in archive.namelist(), (name, needed)


def test_the_future_site_passes_the_leak_gate_at_its_date(future_site, course):
    from diffcourse_staff.release.leaks import check_site
    from diffcourse_staff.site.library import library_state

    public = max(course.assignment("mini_project").release, library_state(course).opens)
    assert check_site(course, future_site, now=public + dt.timedelta(minutes=1)) == []
