"""Each problem-set page opens its notebook in Colab, at an address built from course.yml."""

from __future__ import annotations

import dataclasses

from diffcourse_staff.site.pages import (
    PageContext,
    colab_url,
    download_uri,
    expand_macros,
    notebook_uri,
)


def _download(course, aid):
    ctx = PageContext(course, f"assignments/{aid}.md", frozenset({download_uri(aid)}))
    return expand_macros(f"{{{{ assignment_download {aid} }}}}", ctx)


def test_open_in_colab_opens_the_published_notebook_through_github(course):
    source = course.links["site_source"].removeprefix("https://github.com/").rstrip("/")
    for a in course.notebook_assignments:
        url = f"https://colab.research.google.com/github/{source}/{notebook_uri(a.id)}"
        assert colab_url(course, a.id) == url
        assert f"[Open in Colab]({url})" in _download(course, a.id)


def test_no_colab_link_without_a_github_source(course):
    links = {k: v for k, v in course.links.items() if k != "site_source"}
    bare = dataclasses.replace(course, links=links)
    assert colab_url(bare, "ps1") is None
    assert "Open in Colab" not in _download(bare, "ps1")
    other = dataclasses.replace(course, links={**links, "site_source": "https://example.org/x"})
    assert colab_url(other, "ps1") is None
