"""The accessibility check: axe-core (the `axe_playwright_python` package ships it) run on a
console page, failing on any serious or critical violation.

axe is injected as a script string and evaluated, which the console's Content-Security-Policy
forbids (no eval, Trusted Types). So the page is opened again in a separate browser context with
`bypass_csp=True` and the same session cookies: only the scanner's own context leaves the policy
off; the test's page keeps it, and the scanner changes nothing on the server it reads from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urljoin

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page

BLOCKING = frozenset({"serious", "critical"})
_AXE = Axe()


def _describe(violations: Iterable[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def scan(
    source: Page | BrowserContext,
    url: str,
    *,
    color_scheme: str = "light",
    wait_for: str | None = None,
    disable: Iterable[str] = (),
    prepare: Callable[[Page], None] | None = None,
) -> list[dict[str, Any]]:
    """Every axe violation on `url`, opened with the session of `source` (a page or its context)
    in a fresh context that bypasses the Content-Security-Policy."""
    context = source.context if isinstance(source, Page) else source
    browser: Browser | None = context.browser
    assert browser is not None, "the page's context has no browser"
    # A relative URL is read against the page the test is on (the live server's origin).
    opened = source if isinstance(source, Page) else context.pages[0]
    scanner = browser.new_context(
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
        color_scheme=color_scheme,  # type: ignore[arg-type]
        storage_state=context.storage_state(),
    )
    target = urljoin(opened.url, url)
    try:
        page = scanner.new_page()
        page.goto(target)
        page.wait_for_load_state("networkidle")
        if wait_for:
            page.wait_for_selector(wait_for)
        if prepare is not None:
            prepare(page)
        options: dict[str, Any] = {"resultTypes": ["violations"]}
        if disable:
            options["rules"] = {rule: {"enabled": False} for rule in disable}
        results = _AXE.run(page, options=options)
        return list(results.response["violations"])
    finally:
        scanner.close()


def assert_accessible(
    source: Page | BrowserContext,
    url: str,
    *,
    color_scheme: str = "light",
    wait_for: str | None = None,
    prepare: Callable[[Page], None] | None = None,
) -> list[dict[str, Any]]:
    """Fail on any serious or critical axe violation on `url`, printing each; returns the
    lesser ones (moderate, minor) for the test to look at if it wants."""
    violations = scan(source, url, color_scheme=color_scheme, wait_for=wait_for, prepare=prepare)
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    lesser = [v for v in violations if v.get("impact") not in BLOCKING]
    if lesser:
        print(f"axe on {url} ({color_scheme}), not blocking:\n{_describe(lesser)}")
    assert not blocking, f"axe on {url} ({color_scheme}):\n{_describe(blocking)}"
    return lesser
