"""axe-core, the accessibility checker, run inside a page that Playwright drives.

The script comes from the npm registry at the version `package-lock.json` pins (`npm ci` in
scripts/test puts it in node_modules/); nothing is fetched while the tests run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The WCAG A/AA violations axe-core finds on the page as it is now (empty when it is clean)."""
    if not AXE_SCRIPT.is_file():
        raise FileNotFoundError(f"{AXE_SCRIPT} is missing: run `npm ci` in the checkout (scripts/test does)")
    # Evaluated through the DevTools protocol, so the page's own Content-Security-Policy (which
    # admits only its nonced scripts) stays as it is in production and is not loosened for tests.
    page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
        })"""
    )
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node, for an assertion message a person can act on."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(f"{violation['id']} ({violation['impact']}): {node['target']} — {violation['help']}")
    return "\n".join(lines)
