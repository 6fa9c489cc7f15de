"""axe-core in the browser tests: inject the vendored axe (tests/e2e/vendor/axe-core), run it on the
page as it stands, and fail on any serious or critical violation.

    from tests.e2e.axe import assert_no_serious_violations
    assert_no_serious_violations(page, "resident: my orders")

All of axe's rules run (WCAG 2.0/2.1/2.2 A and AA and its best practices); only the serious and
critical ones fail the test, each listed with its rule id, impact, the elements (CSS targets) and
axe's help text and link. The moderate and minor ones are returned, for a test that wants them.
"""
import hashlib
import json
from functools import lru_cache
from pathlib import Path

AXE_DIR = Path(__file__).resolve().parent / "vendor" / "axe-core"
AXE_VERSION = "4.10.3"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"
FAILING = ("serious", "critical")


@lru_cache(maxsize=1)
def axe_source() -> str:
    data = (AXE_DIR / "axe.min.js").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"tests/e2e/vendor/axe-core/axe.min.js is not the pinned axe-core {AXE_VERSION}: {digest}"
    return data.decode("utf-8")


def run_axe(page) -> dict:
    """axe.run() on the whole document; returns axe's results (violations, passes, incomplete…)."""
    # Evaluated through the DevTools protocol, so a page's CSP cannot stop it; once per document.
    if not page.evaluate("() => !!(window.axe && window.axe.run)"):
        page.evaluate(axe_source() + "\n;undefined")
    version = page.evaluate("() => window.axe.version")
    assert version == AXE_VERSION, version
    return page.evaluate("""async () => {
        // Judge the screen as it settles, not a colour half-way through a transition.
        await Promise.all(document.getAnimations()
            .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
            .map((a) => a.finished.catch(() => null)));
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return { violations: r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({ target: n.target, impact: n.impact, summary: n.failureSummary,
                                         html: n.html.slice(0, 200) })) })) };
    }""")


def serious_violations(results: dict) -> list[dict]:
    return [v for v in results["violations"] if v["impact"] in FAILING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for n in v["nodes"]:
            lines.append(f"    {json.dumps(n['target'], ensure_ascii=False)}: {n['html']}")
            if n.get("summary"):
                lines.append("      " + n["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_no_serious_violations(page, screen_name: str) -> dict:
    """Run axe on `page`; fail listing every serious/critical violation. Returns the results."""
    results = run_axe(page)
    bad = serious_violations(results)
    assert not bad, f"axe {AXE_VERSION}: serious or critical violations on {screen_name} ({page.url}):\n{describe(bad)}"
    return results
