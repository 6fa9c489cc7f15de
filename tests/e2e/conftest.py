"""Browser fixtures: Debian's Chromium through Playwright, against the real `make dev` stack.

Every test gets its own fresh user-data-dir (a persistent context, which
Chromium needs for the installability check and a real service worker), a
390x844 phone viewport, zh-CN and Asia/Shanghai. More contexts — a second
resident, a second phone — come from `new_context()`.
"""
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# The dev stack runs moto in-process: calls are quick but not instant. Auto-waiting gets room.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture
def new_context(playwright, tmp_path_factory):
    """Factory: a fresh persistent Chromium context (own profile dir), closed after the test.

    `new_context(360)` gives the 360 px phone the staff screens are designed for.

    Uncaught script errors on any of its pages fail the test.
    """
    contexts, page_errors = [], []

    def make(width: int = 390, height: int = 844):
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        context.on("weberror", lambda e: page_errors.append(str(e.error)))
        # Shown with a failing test's captured output: what the browser could not load, and why.
        context.on("requestfailed", lambda r: print(f"request failed: {r.method} {r.url} {r.failure}"))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not page_errors, f"uncaught errors in the page: {page_errors}"


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.pages[0] if context.pages else context.new_page()


@pytest.fixture
def info(dev_stack):
    """dev.json of the running stack: base_url, join_url, community_id, round_id, tokens…"""
    return dev_stack.info


class Api:
    """requests against the stack's API with a staff token; every call checks its status."""

    def __init__(self, info: dict):
        self.base = info["base_url"]
        self.info = info

    def _headers(self, role: str | None) -> dict:
        return {"Authorization": f"Bearer {self.info['tokens'][role]}"} if role else {}

    def get(self, path: str, role: str | None = None, expect_status: int = 200, **params) -> requests.Response:
        r = requests.get(self.base + path, params=params, headers=self._headers(role), timeout=30)
        assert r.status_code == expect_status, (path, r.status_code, r.text)
        return r

    def post(self, path: str, body: dict, role: str | None = None, expect_status: int = 201) -> requests.Response:
        r = requests.post(self.base + path, json=body, headers=self._headers(role), timeout=30)
        assert r.status_code == expect_status, (path, r.status_code, r.text)
        return r

    def rounds(self) -> list[dict]:
        return self.get("/api/rounds", "liaison", community_id=self.info["community_id"]).json()["rounds"]

    def bundle(self, round_id: str, name: str) -> dict:
        round_ = next(r for r in self.rounds() if r["round_id"] == round_id)
        return next(b for b in round_["bundles"] if b["name"] == name)


@pytest.fixture
def api(info):
    return Api(info)


@pytest.fixture(scope="session")
def artifacts():
    """Screenshots go here (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
