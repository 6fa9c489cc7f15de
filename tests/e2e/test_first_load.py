"""The resident's first load: what a phone downloads when it opens the join link for the first time.

Counted as DESIGN.md says ("Measuring the front end"): the browser's own accounting, the sum of
`encodedBodySize` over `performance.getEntries()` (the document, every script, style sheet and API
answer), on a cold load (a fresh profile: no HTTP cache, no service worker), with compression on as
CloudFront would serve it (the dev server gzips, scripts/devstack.py Site.compress). Icons are left
out. The budget is 100 KB. The figure is printed (pytest -s shows it).
"""
import pytest
from playwright.sync_api import expect

BUDGET = 100 * 1024

ENTRIES = """() => performance.getEntries()
  .filter((e) => e.entryType === 'navigation' || e.entryType === 'resource')
  .map((e) => ({url: e.name, type: e.initiatorType, encoded: e.encodedBodySize, decoded: e.decodedBodySize,
                transfer: e.transferSize}))"""


def first_load(page, info) -> list[dict]:
    """Open the join link on a cold phone and wait until the page has fetched all it will."""
    page.goto(info["join_url"])
    expect(page.get_by_test_id("community-name")).to_have_text("幸福家园小区")
    page.wait_for_load_state("networkidle")
    return page.evaluate(ENTRIES)


def counted(entries: list[dict]) -> list[dict]:
    return [e for e in entries if "/icons/" not in e["url"]]


@pytest.mark.browser
def test_first_load__is_cold_and_gzipped__as_the_count_assumes(page, info):
    entries = first_load(page, info)
    # Cold: everything came over the network (a cached entry has transferSize 0).
    assert all(e["transfer"] > 0 for e in entries), [e["url"] for e in entries if e["transfer"] == 0]
    # Compressed: every script and style sheet of more than 1 KB came smaller than it is (gzip), so the
    # count below is of what a phone receives behind CloudFront, not of the files on disk.
    text = [e for e in entries if e["url"].endswith((".js", ".css")) and e["decoded"] > 1024]
    assert len(text) >= 5, entries
    assert all(e["encoded"] < e["decoded"] for e in text), [(e["url"], e["encoded"], e["decoded"]) for e in text]
    # The count has something to count: the document, the app's entry and the community's details.
    urls = [e["url"] for e in counted(entries)]
    assert any(u.endswith("/js/app.js") for u in urls), urls
    assert any(f"/api/join/{info['join_key']}" in u for u in urls), urls


@pytest.mark.browser
def test_first_load__join_link__stays_within_100_kb_gzip_without_icons(page, info):
    entries = counted(first_load(page, info))
    total = sum(e["encoded"] for e in entries)
    biggest = sorted(entries, key=lambda e: -e["encoded"])[:8]
    print(f"\nresident's first load (join link, cold, gzip, icons excluded): {total / 1024:.1f} KB "
          f"in {len(entries)} requests; biggest: "
          + ", ".join(f"{e['url'].split('/', 3)[-1]} {e['encoded'] / 1024:.1f} KB" for e in biggest))
    assert total <= BUDGET, f"{total / 1024:.1f} KB > {BUDGET // 1024} KB"
    # What keeps it small: no staff screen, no staff style sheet on a resident's first load.
    urls = [e["url"] for e in entries]
    assert not [u for u in urls if u.endswith(("/css/staff.css", "/js/views/staff.js", "/js/views/roster.js",
                                               "/js/views/pickup.js", "/js/views/supplier.js"))], urls


@pytest.mark.browser
def test_first_load__a_staff_screen__brings_its_style_sheet_with_it(page, info):
    page.goto(f"{info['base_url']}/#/signin/{info['tokens']['volunteer']}")
    page.wait_for_url("**/#/staff")
    expect(page.get_by_test_id("staff-role")).to_be_visible()
    sheets = page.evaluate("() => [...document.styleSheets].map((s) => s.href || '')")
    assert any(s.endswith("/css/staff.css") for s in sheets), sheets
    # Styled, not just linked: a staff rule applies (the role line is laid out by staff.css).
    assert page.evaluate("() => [...document.styleSheets].find((s) => (s.href || '').endsWith('/css/staff.css'))"
                         ".cssRules.length") > 50
