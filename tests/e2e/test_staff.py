"""Staff in the browser: the sign-in links `make dev` prints, and one-time invites."""
import base64
import json
import re

import pytest
import requests
from playwright.sync_api import expect


def stored(page, key: str):
    return json.loads(page.evaluate(f"localStorage.getItem({json.dumps(key)})") or "null")


@pytest.mark.browser
def test_staff_link__signs_in_as_admin_and_takes_the_token_out_of_the_address_bar(page, info):
    token = info["tokens"]["admin"]
    page.goto(f"{info['base_url']}/")
    expect(page.get_by_test_id("start-message")).to_be_visible()
    page.goto(f"{info['base_url']}/#/signin/{token}")

    expect(page.get_by_test_id("staff-title")).to_have_text("已登录")
    expect(page.get_by_test_id("staff-role")).to_have_text("管理员")
    expect(page.get_by_test_id("staff-scope")).to_have_text(info["sub_district_id"])
    # Every role has its tools now: the admin's are the gate's settings and the supply-chain dashboard.
    expect(page.get_by_test_id("staff-site")).to_have_attribute("href", "#/staff/site")
    expect(page.get_by_test_id("staff-supply")).to_have_attribute("href", "#/staff/supply")
    expect(page).to_have_url(f"{info['base_url']}/#/staff")
    assert token not in page.evaluate("location.href")
    # No history entry kept the token: back is the start page, forward the signed-in page.
    page.go_back()
    expect(page).to_have_url(f"{info['base_url']}/")
    page.go_forward()
    expect(page).to_have_url(f"{info['base_url']}/#/staff")
    expect(page.get_by_test_id("staff-role")).to_have_text("管理员")
    # Kept apart from the resident session.
    assert stored(page, "baogong.staff")["token"] == token
    assert stored(page, "baogong.staff")["role"] == "admin"
    assert stored(page, "baogong.session") is None

    # Still signed in after a reload; English alongside.
    page.reload()
    expect(page.get_by_test_id("staff-role")).to_have_text("管理员")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("staff-title")).to_have_text("Signed in")
    expect(page.get_by_test_id("staff-role")).to_have_text("Administrator")
    page.get_by_test_id("lang-toggle").click()

    page.get_by_test_id("staff-signout").click()
    expect(page.get_by_test_id("success-message")).to_have_text("已退出工作人员登录。")
    expect(page.get_by_test_id("start-message")).to_be_visible()
    assert stored(page, "baogong.staff") is None


@pytest.mark.browser
def test_staff_link__that_is_not_a_staff_token__signs_nobody_in(page, info):
    page.goto(f"{info['base_url']}/#/signin/not-a-token")
    expect(page.get_by_test_id("error-message")).to_have_text("这个登录链接无效，请向管理员重新索取。")
    expect(page.get_by_test_id("start-message")).to_be_visible()
    expect(page).to_have_url(f"{info['base_url']}/#/staff")
    assert stored(page, "baogong.staff") is None


@pytest.mark.browser
def test_staff_link__that_has_expired__signs_nobody_in(page, info):
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    expired = ".".join([b64({"alg": "HS256", "typ": "JWT"}),
                        b64({"sub": "x", "role": "admin", "scope_id": info["sub_district_id"], "exp": 1_600_000_000}),
                        "c2lnbmF0dXJl"])
    page.goto(f"{info['base_url']}/#/signin/{expired}")
    expect(page.get_by_test_id("error-message")).to_have_text("这个登录链接已过期，请向管理员重新索取。")
    expect(page).to_have_url(f"{info['base_url']}/#/staff")
    assert stored(page, "baogong.staff") is None


@pytest.mark.browser
def test_invite__accepted_once_signs_in_as_volunteer__a_second_accept_is_refused_in_chinese(new_context, info, api):
    invite = api.post("/api/invites", {"role": "volunteer", "scope_id": info["community_id"]}, role="admin").json()
    assert invite["url"] == f"{info['base_url']}/#/invite/{invite['code']}"

    page = new_context().pages[0]
    page.goto(invite["url"])
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员邀请")
    page.get_by_test_id("invite-accept").click()
    expect(page.get_by_test_id("staff-role")).to_have_text("志愿者")
    expect(page.get_by_test_id("success-message")).to_have_text("已接受邀请，登录成功。")
    expect(page.get_by_test_id("staff-scope")).to_have_text(info["community_id"])
    expect(page).to_have_url(f"{info['base_url']}/#/staff")
    staff = stored(page, "baogong.staff")
    assert staff["role"] == "volunteer" and staff["scope_id"] == info["community_id"]
    # The token works against the API as a volunteer of the community.
    r = requests.get(f"{info['base_url']}/api/rounds", params={"community_id": info["community_id"]}, timeout=30,
                     headers={"Authorization": f"Bearer {staff['token']}"})
    assert r.status_code == 200, r.text

    other = new_context().pages[0]
    other.goto(invite["url"])
    other.get_by_test_id("invite-accept").click()
    expect(other.get_by_test_id("error-message")).to_contain_text("已被使用")
    expect(other.get_by_test_id("invite-accept")).to_be_disabled()
    assert stored(other, "baogong.staff") is None
    other.get_by_test_id("lang-toggle").click()
    expect(other.get_by_test_id("error-message")).to_contain_text("already been used")


@pytest.mark.browser
def test_invite__with_an_unknown_code__says_so(page, info):
    page.goto(f"{info['base_url']}/#/invite/NOSUCHCODE")
    page.get_by_test_id("invite-accept").click()
    expect(page.get_by_test_id("error-message")).to_have_text("邀请码无效，请向邀请您的人重新索取。")
