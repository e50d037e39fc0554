"""No Markdown image or link syntax survives into the built pages as text.

A stray bracket (`![alt]](figure.png)`) makes Python-Markdown give up on the image
and print the raw syntax: the figure never renders, and neither mkdocs --strict nor
the link checker notices, since no link is made at all.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown

# Text that only unparsed Markdown leaves behind: "![alt", "](target", "]](".
LEFTOVER = re.compile(r"!\[[^\]\n]{0,200}\]|\]\([^)\s]*\)?|\]\]")
SKIPPED_TAGS = {"code", "pre", "script", "style", "kbd", "samp"}


class _VisibleText(HTMLParser):
    """The page's text outside code, scripts and math (which may hold brackets)."""

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: is it skipped?
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        skipped = tag in SKIPPED_TAGS or "arithmatex" in classes
        if tag not in {"br", "img", "hr", "input", "meta", "link"}:
            self.stack.append(skipped or any(self.stack[-1:]))

    def handle_endtag(self, tag):
        if self.stack and tag not in {"br", "img", "hr", "input", "meta", "link"}:
            self.stack.pop()

    def handle_data(self, data):
        if not any(self.stack[-1:]):
            self.chunks.append(data)


def leftovers(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.chunks)
    return [m.group(0) for m in LEFTOVER.finditer(text)]


def test_the_check_catches_a_broken_image_and_a_broken_link():
    extensions = ["attr_list", "md_in_html", "tables", "pymdownx.arithmatex"]
    broken = markdown.markdown(
        "A figure: ![Two histograms.]](../figures/l04.png)\n\nSee [the notes]] (x.md).",
        extensions=extensions,
    )
    assert leftovers(broken), broken
    fine = markdown.markdown(
        "A figure: ![Two histograms.](../figures/l04.png) and [notes](x.md).\n\n"
        "Math \\(x \\in [0, 1]\\) and `a[i](j)` in code.",
        extensions=extensions,
    )
    assert leftovers(fine) == [], fine


def test_no_markdown_image_or_link_syntax_in_the_built_pages(site_dir):
    problems = []
    for page in sorted(site_dir.rglob("*.html")):
        rel = page.relative_to(site_dir).as_posix()
        if rel.startswith(("assets/", "search/")):
            continue
        found = leftovers(page.read_text(encoding="utf-8"))
        problems += [f"{rel}: {text!r}" for text in found]
    assert not problems, "unrendered Markdown in the site:\n" + "\n".join(problems)
