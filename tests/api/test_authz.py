"""Who may call what: 401 without a valid token, 403 for the wrong role or scope, and 404 where
even a 403 would tell a resident that something of another community exists.
"""
import secrets
from datetime import timedelta

import jwt
import pytest
import time_machine

from api import auth, clock
from tests.api.helpers import (
    create_community, create_round, create_sub_district, create_supplier, error_of, get, orders_in,
    place_order, post, register, round_body, stock_left,
)


@pytest.fixture
def resident(client, demo):
    return register(client, demo["join_key"], building="1栋", room="101", phone="13812341234")


@pytest.fixture
def elsewhere(client, demo):
    """A second community of the same sub-district, with one registered household."""
    community = create_community(demo["sub_district_id"], "和平里小区")
    household = register(client, community["join_key"], building="2栋", room="202", phone="13700002222")
    return {**community, "resident": household}


def forged(secret: str, **claims) -> str:
    now = clock.now()
    payload = {"sub": "01JFORGED", "role": "admin", "scope_id": "anything", "iat": now,
               "exp": now + timedelta(days=1), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


# --- 401: no or bad token -----------------------------------------------------------

PROTECTED = [
    ("GET", "/api/orders/mine"),
    ("POST", "/api/orders"),
    ("GET", "/api/rounds?community_id={community_id}"),
    ("POST", "/api/rounds"),
    ("POST", "/api/invites"),
    ("GET", "/api/rounds/{round_id}/exports/packing"),
]


def call(client, demo, method, path, token=None, **headers):
    path = path.format(**demo)
    if method == "GET":
        return get(client, path, token, **headers)
    return post(client, path, {}, token, idempotency_key="test-key-0001", **headers)


@pytest.mark.parametrize("method, path", PROTECTED)
def test_protected_route__without_token__is_401(client, demo, method, path):
    error_of(call(client, demo, method, path), 401, "unauthorized")


@pytest.mark.parametrize("method, path", PROTECTED)
def test_protected_route__garbage_token__is_401(client, demo, method, path):
    error_of(call(client, demo, method, path, "not.a.jwt"), 401, "unauthorized")


@pytest.mark.parametrize("method, path", PROTECTED)
def test_protected_route__token_signed_with_another_secret__is_401(client, demo, method, path):
    token = forged(secrets.token_hex(32), role="supplier", scope_id=demo["supplier_id"])

    error_of(call(client, demo, method, path, token), 401, "unauthorized")


def test_token__unsigned_alg_none__is_401(client, demo):
    token = jwt.encode({"sub": "x", "role": "admin", "scope_id": demo["sub_district_id"],
                        "exp": clock.now() + timedelta(days=1)}, None, algorithm="none")

    error_of(get(client, "/api/orders/mine", token), 401, "unauthorized")


def test_token__with_unknown_role__is_401(client, demo):
    token = forged(auth._secret(), role="superuser", scope_id=demo["sub_district_id"])

    error_of(get(client, f"/api/rounds?community_id={demo['community_id']}", token), 401, "unauthorized")


def test_token__without_expiry__is_401(client, demo):
    token = jwt.encode({"sub": "x", "role": "liaison", "scope_id": demo["community_id"]}, auth._secret(),
                       algorithm="HS256")

    error_of(get(client, f"/api/rounds?community_id={demo['community_id']}", token), 401, "unauthorized")


def test_token__not_bearer_scheme__is_401(client, demo, resident):
    response = client.http.get("/api/orders/mine", headers={"authorization": f"Basic {resident['token']}"})

    error_of(response, 401, "unauthorized")


def test_resident_token__still_valid_after_80_days(client, demo, resident):
    with time_machine.travel(clock.now() + timedelta(days=80), tick=False):
        response = get(client, "/api/orders/mine", resident["token"])

    assert response.status_code == 200


def test_resident_token__expired_after_100_days__is_401(client, demo, resident):
    with time_machine.travel(clock.now() + timedelta(days=100), tick=False):
        response = get(client, "/api/orders/mine", resident["token"])

    error_of(response, 401, "unauthorized")


def test_staff_token__expired_after_100_days__is_401(client, demo):
    with time_machine.travel(clock.now() + timedelta(days=100), tick=False):
        response = get(client, f"/api/rounds?community_id={demo['community_id']}", demo["tokens"]["liaison"])

    error_of(response, 401, "unauthorized")


# --- households never see each other ----------------------------------------------------

def test_orders_mine__household_b__never_sees_household_a_orders(client, demo, resident):
    a_order = place_order(client, resident["token"], demo["round_id"], (demo["bundle_ids"][1], 1)).json_body
    b = register(client, demo["join_key"], building="1栋", room="102", phone="13812340000")

    response = get(client, "/api/orders/mine", b["token"])

    assert response.status_code == 200
    assert response.json_body == {"orders": []}
    assert a_order["order_id"] not in response.body.decode()


def test_rounds__resident_of_another_community__gets_404_not_403(client, demo, elsewhere):
    response = get(client, f"/api/rounds?community_id={demo['community_id']}", elsewhere["resident"]["token"])

    error_of(response, 404, "not_found")


def test_rounds__unknown_and_foreign_community__look_the_same_to_a_resident(client, demo, elsewhere):
    foreign = get(client, f"/api/rounds?community_id={demo['community_id']}", elsewhere["resident"]["token"])
    unknown = get(client, "/api/rounds?community_id=01JNOSUCHCOMMUNITY0000000", elsewhere["resident"]["token"])

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json_body == unknown.json_body


def test_order__in_round_of_another_community__is_404_and_writes_nothing(client, demo, elsewhere):
    response = place_order(client, elsewhere["resident"]["token"], demo["round_id"], (demo["bundle_ids"][1], 1))

    error_of(response, 404, "not_found")
    assert orders_in(demo["round_id"]) == []
    assert stock_left(demo["round_id"])[demo["bundle_ids"][1]] == 100


# --- staff scope ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ["liaison", "volunteer"])
def test_rounds__staff_of_another_community__is_404_as_for_no_community(client, demo, elsewhere, role):
    response = get(client, f"/api/rounds?community_id={elsewhere['community_id']}", demo["tokens"][role])
    unknown = get(client, "/api/rounds?community_id=01JNOSUCHCOMMUNITY0000000", demo["tokens"][role])

    assert error_of(response, 404, "not_found") == error_of(unknown, 404, "not_found")


def test_rounds__admin_of_another_sub_district__is_404_as_for_no_community(client, demo):
    other = create_sub_district()

    response = get(client, f"/api/rounds?community_id={demo['community_id']}", other["token"])
    unknown = get(client, "/api/rounds?community_id=01JNOSUCHCOMMUNITY0000000", other["token"])

    assert error_of(response, 404, "not_found") == error_of(unknown, 404, "not_found")


# --- wrong role -----------------------------------------------------------------------

def test_resident__creating_a_round__is_403(client, demo, resident):
    response = post(client, "/api/rounds", round_body(demo["community_id"]), resident["token"])

    error_of(response, 403, "wrong_role")


@pytest.mark.parametrize("kind", ["picklist", "packing", "labels"])
def test_resident__exporting__is_403(client, demo, resident, kind):
    response = get(client, f"/api/rounds/{demo['round_id']}/exports/{kind}", resident["token"])

    error_of(response, 403, "wrong_role")


@pytest.mark.parametrize("role", ["volunteer", "admin"])
def test_volunteer_or_admin__exporting__is_403(client, demo, role):
    response = get(client, f"/api/rounds/{demo['round_id']}/exports/packing", demo["tokens"][role])

    error_of(response, 403, "wrong_role")


def test_supplier__exporting_another_suppliers_round__is_404(client, demo):
    other = create_supplier(demo["sub_district_id"])

    response = get(client, f"/api/rounds/{demo['round_id']}/exports/packing", other["token"])

    error_of(response, 404, "not_found")


def test_liaison__exporting_a_round_not_offered_to_their_community__is_404(client, demo, elsewhere):
    theirs = create_round(demo["tokens"]["supplier"], [elsewhere["community_id"]])

    response = get(client, f"/api/rounds/{theirs['round_id']}/exports/packing", demo["tokens"]["liaison"])

    error_of(response, 404, "not_found")


@pytest.mark.parametrize("role", ["admin", "liaison", "volunteer", "supplier"])
def test_staff__placing_an_order__is_403_and_writes_nothing(client, demo, role):
    response = place_order(client, demo["tokens"][role], demo["round_id"], (demo["bundle_ids"][1], 1))

    error_of(response, 403, "wrong_role")
    assert orders_in(demo["round_id"]) == []


@pytest.mark.parametrize("role", ["admin", "liaison", "volunteer", "supplier"])
def test_staff__listing_my_orders__is_403(client, demo, role):
    error_of(get(client, "/api/orders/mine", demo["tokens"][role]), 403, "wrong_role")


@pytest.mark.parametrize("role", ["volunteer", "supplier"])
def test_volunteer_or_supplier__creating_an_invite__is_403(client, demo, role):
    response = post(client, "/api/invites", {"role": "volunteer", "scope_id": demo["community_id"]},
                    demo["tokens"][role])

    error_of(response, 403, "wrong_role")
