"""No broken internal link or anchor in the built HTML (links to other hosts are only
the course's own external services: Gradescope, the forum, Colab)."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlparse

from diffcourse_staff.projects.data import load_papers


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("canonical",)):
                self.links.append(a[key])


def _parse(path):
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_no_broken_internal_links(site_dir, course):
    pages = sorted(site_dir.rglob("*.html"))
    parsed = {path: _parse(path) for path in pages}
    allowed_hosts = {urlparse(u).hostname for u in course.links.values()}
    # The presentation track's papers (mini_projects/papers.yml) link to their sources.
    allowed_hosts |= {urlparse(p.link).hostname for p in load_papers(course).papers}
    broken = []
    checked = 0
    for path, p in parsed.items():
        rel_dir = path.parent.relative_to(site_dir).as_posix()
        for link in p.links:
            url = urlparse(link)
            if url.scheme in ("mailto", "data", "javascript"):
                continue
            if url.scheme or url.netloc:
                if url.hostname not in allowed_hosts:
                    broken.append(f"{path.relative_to(site_dir)}: link to another host {link}")
                continue
            checked += 1
            target_path = unquote(url.path)
            if target_path.startswith("/"):  # the 404 page links from the site root
                target = posixpath.normpath(target_path.lstrip("/") or ".")
                file = site_dir / target
                if file.is_dir():
                    file = file / "index.html"
            elif target_path:
                target = posixpath.normpath(posixpath.join(rel_dir, target_path))
                file = site_dir / target
                if file.is_dir():
                    file = file / "index.html"
            else:
                file = path
            if not file.is_file():
                broken.append(f"{path.relative_to(site_dir)}: {link} -> missing {file}")
                continue
            if url.fragment and file.suffix == ".html":
                ids = parsed[file].ids if file in parsed else _parse(file).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{path.relative_to(site_dir)}: {link} -> no anchor")
    assert checked > 200, f"only {checked} internal links checked"
    assert not broken, "\n".join(broken[:50])
