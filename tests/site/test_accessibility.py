"""axe-core (from node_modules, injected into the page) finds no serious or critical
accessibility violation on the home page, the syllabus and a lecture page."""

from __future__ import annotations

import pytest

from diffcourse_staff.site import NODE_MODULES

pytestmark = pytest.mark.browser

AXE = NODE_MODULES / "axe-core" / "axe.min.js"


@pytest.mark.parametrize(
    "path", ["", "syllabus/", "lectures/03-ddpm-reverse-elbo/", "mini-project/", "library/"]
)
def test_no_serious_accessibility_violation(visit, browser, site_url, path):
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: make node-deps")
    page, problems = visit(browser, site_url + path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    page.close()
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)
    assert not problems, problems
