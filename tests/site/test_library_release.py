"""The library's pages follow the same date rule as its wheel: no API reference before
every problem set it answers is due, and the leak gate refuses a site that has one."""

from __future__ import annotations

import datetime as dt

import pytest

from diffcourse_staff.release.leaks import check_site
from diffcourse_staff.site.library import library_state

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def opens(course):
    return library_state(course).opens


def test_before_the_date_the_page_says_when_and_has_no_api(site_dir, opens):
    if dt.datetime.now() >= opens:
        pytest.skip("the library is public already")
    assert not (site_dir / "library" / "api").exists()
    page = (site_dir / "library" / "index.html").read_text()
    assert "Published on" in page and f"{opens.day} {opens:%b %Y}" in page


def test_after_the_date_the_api_reference_is_generated_from_the_code(future_site):
    page = (future_site / "library" / "api" / "samplers" / "index.html").read_text()
    assert "ddim_sample" in page and "return_trajectory" in page  # signature and docstring
    assert "trajectory.append(x)" not in page  # never the source
    library = (future_site / "library" / "index.html").read_text()
    assert "Published on" not in library and "api/samplers/" in library


def test_the_leak_gate_refuses_api_pages_before_the_date(course, future_site, opens):
    early = check_site(course, future_site, now=opens - MINUTE)
    assert any("library API pages" in p for p in early), early
    assert check_site(course, future_site, now=opens + MINUTE) == []
