"""The schedule on a phone: math typeset in its table, and the table as wide as the screen.

On a 390 px screen the Details column used to run off the page, and a lecture topic
with LaTeX showed its raw source.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TABLE_FACTS = """() => {
  const table = document.querySelector('article table');
  const article = document.querySelector('article').getBoundingClientRect();
  return {
    right: table.getBoundingClientRect().right,
    articleRight: article.right,
    scrollWidth: table.scrollWidth,
    clientWidth: table.clientWidth,
    math: table.querySelectorAll('mjx-container').length,
    rawTex: /\\\\[a-z]+|_\\{/.test(table.innerText),
  };
}"""


def test_schedule_fits_a_phone_and_typesets_its_math(visit, browser, site_url):
    page, problems = visit(browser, site_url + "schedule/")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # let the layout settle at the new width
    facts = page.evaluate(TABLE_FACTS)
    page.close()
    assert not problems, problems
    assert facts["math"] >= 1 and not facts["rawTex"], facts
    assert facts["scrollWidth"] <= facts["clientWidth"] + 1, f"the table scrolls: {facts}"
    assert facts["right"] <= facts["articleRight"] + 1, f"the table runs off the page: {facts}"
