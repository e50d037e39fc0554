"""The site reveals no solution line or hidden test of any problem set: the release's own
leak scan (diffcourse_staff.release.leaks.check_site) on the built site, as if every problem set
were still open. Lecture notes and the library page are the usual risk."""

from __future__ import annotations

import datetime as dt

from diffcourse_staff.release.leaks import check_site


def test_the_site_leaks_nothing(site_dir, course):
    before_any_release = dt.datetime.combine(course.start, dt.time(0, 0))
    problems = check_site(course, site_dir, now=before_any_release)
    assert not problems, "\n".join(problems)
