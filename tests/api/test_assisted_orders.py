"""代下单 assisted orders: the liaison or information officer orders for a household of the
community through the same transaction as a resident, with the same stock, limits and idempotency."""
import csv
import io

import pytest

from api import auth
from tests.api.helpers import (
    create_community, create_round, error_of, fair_share_off, get, order_body, orders_in, post, register, stock_left, writes,
)

RICE_OIL, VEG = 0, 1


def assist(client, demo, ref, *lines, token=None, key="assist-key-0001"):
    """POST an assisted order: `lines` as (bundle_id, qty) pairs of the demo round, or one whole body."""
    body = lines[0] if isinstance(lines[0], dict) else order_body(demo["round_id"], *lines)
    return post(client, f"/api/communities/{demo['community_id']}/households/{ref}/orders", body,
                token or demo["tokens"]["liaison"], idempotency_key=key)


def staff_id(token):
    return auth.from_headers({"authorization": f"Bearer {token}"}).subject


@pytest.fixture
def grandpa(client, demo):
    """2栋 201: registered with the family's one phone."""
    return {**register(client, demo["join_key"], building="2栋", room="201", phone="13800000201"),
            "ref": "B002.U00.R00000201"}


def test_assisted_order__takes_the_same_stock_is_marked_and_the_households_phone_sees_it(client, demo, grandpa):
    before = stock_left(demo["round_id"])[demo["bundle_ids"][VEG]]

    response = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][VEG], 1))

    assert response.status_code == 201
    order = response.json_body
    assert order["assisted_by"] == staff_id(demo["tokens"]["liaison"])
    assert (order["status"], order["total_fen"]) == ("placed", 6800)
    assert stock_left(demo["round_id"])[demo["bundle_ids"][VEG]] == before - 1
    [seen] = get(client, "/api/orders/mine", grandpa["token"]).json_body["orders"]
    assert (seen["order_id"], seen["assisted_by"], seen["pickup_code"]) == (
        order["order_id"], order["assisted_by"], order["pickup_code"])
    roster = get(client, f"/api/communities/{demo['community_id']}/roster", demo["tokens"]["liaison"]).json_body
    assert roster["households"][0]["order"]["assisted"] is True


def test_assisted_order__counts_against_the_same_household_limit(client, demo, grandpa):
    fair_share_off(demo["community_id"])
    own = post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][RICE_OIL], 2)),
               grandpa["token"], idempotency_key="own-order-key-1")
    assert own.status_code == 201
    before = stock_left(demo["round_id"])

    with writes() as written:
        response = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][RICE_OIL], 1))

    error_of(response, 422, "over_household_limit")
    assert written == []
    assert stock_left(demo["round_id"]) == before
    assert len(orders_in(demo["round_id"])) == 1


def test_assisted_order__sold_out_is_refused_like_anyones(client, demo, grandpa):
    small = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    body = order_body(small["round_id"], (small["bundle_ids"][0], 4))

    response = assist(client, demo, grandpa["ref"], body)

    error_of(response, 422, "sold_out")
    assert stock_left(small["round_id"])[small["bundle_ids"][0]] == 3


def test_assisted_order__same_key_same_body__is_the_same_order(client, demo, grandpa):
    first = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][VEG], 1), key="assist-replay-1")
    again = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][VEG], 1), key="assist-replay-1")
    other = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][VEG], 2), key="assist-replay-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body["order_id"] == first.json_body["order_id"]
    error_of(other, 409, "idempotency_key_reused")
    assert len(orders_in(demo["round_id"])) == 1


def test_assisted_order__for_a_flat_without_a_smartphone__carries_its_landline_to_the_packing_list(client, demo):
    created = post(client, f"/api/communities/{demo['community_id']}/households",
                   {"building": "1栋", "room": "102", "phone": "0710-3456789", "name": "李奶奶"},
                   demo["tokens"]["liaison"]).json_body

    response = assist(client, demo, created["flat_ref"], (demo["bundle_ids"][VEG], 1))

    assert response.status_code == 201
    packing = get(client, f"/api/rounds/{demo['round_id']}/exports/packing?format=csv&status=all_live",
                  demo["tokens"]["supplier"])
    [row] = list(csv.DictReader(io.StringIO(packing.body.decode("utf-8-sig"))))
    assert (row["房号 Room"], row["电话 Phone"]) == ("102", "0710-3456789")


def test_assisted_order__by_the_information_officer(client, demo, grandpa):
    response = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][VEG], 1), token=demo["tokens"]["info_officer"])

    assert response.status_code == 201
    assert response.json_body["assisted_by"] == staff_id(demo["tokens"]["info_officer"])


def test_assisted_order__unregistered_flat__is_404(client, demo):
    error_of(assist(client, demo, "B001.U00.R00000999", (demo["bundle_ids"][VEG], 1)), 404, "not_found")


def test_assisted_order__in_a_round_not_offered_to_the_community__is_404(client, demo, grandpa):
    other = create_community(demo["sub_district_id"])
    foreign = create_round(demo["tokens"]["supplier"], [other["community_id"]])

    with writes() as written:
        response = assist(client, demo, grandpa["ref"], order_body(foreign["round_id"], (foreign["bundle_ids"][0], 1)))

    error_of(response, 404, "not_found")
    assert written == []


@pytest.mark.parametrize("role", ["volunteer", "supplier"])
def test_assisted_order__other_staff_roles__are_403(client, demo, grandpa, role):
    response = assist(client, demo, grandpa["ref"], (demo["bundle_ids"][VEG], 1), token=demo["tokens"][role])

    error_of(response, 403, "wrong_role")


def test_assisted_order__without_idempotency_key__is_400(client, demo, grandpa):
    response = post(client, f"/api/communities/{demo['community_id']}/households/{grandpa['ref']}/orders",
                    order_body(demo["round_id"], (demo["bundle_ids"][VEG], 1)), demo["tokens"]["liaison"])

    error_of(response, 400, "bad_input")
