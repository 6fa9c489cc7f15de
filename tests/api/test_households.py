"""Households are private: a later phone for a flat is pending until a member approves it,
and a removed phone is a stranger again at once.

The takeover these tests close: phone A registers 1栋 919 and orders; phone B
(a neighbour holding the gate poster) registers the same flat. B must not see
A's order or pickup code, nor cancel it.
"""
import pytest

from tests.api.helpers import (
    approve, error_of, get, households_in, orders_in, place_order, post, register, stock_left, writes,
)

A_PHONE, B_PHONE, C_PHONE = "13812340001", "13712341112", "13612342223"


@pytest.fixture
def flat_a(client, demo):
    """Phone A: the first to register 1栋 919, with an order (1 蔬菜套餐)."""
    a = register(client, demo["join_key"], building="1栋", room="919", phone=A_PHONE)
    order = place_order(client, a["token"], demo["round_id"], (demo["bundle_ids"][1], 1))
    assert order.status_code == 201
    return {**a, "order": order.json_body}


@pytest.fixture
def phone_b(client, demo, flat_a):
    """Phone B: registers the same flat after A."""
    return register(client, demo["join_key"], building="1栋", room="919", phone=B_PHONE)


def orders_seen(client, token):
    return get(client, "/api/orders/mine", token)


# --- the takeover, closed ------------------------------------------------------

def test_takeover__phone_b_after_a__is_pending_and_sees_no_order(client, demo, flat_a, phone_b):
    assert phone_b["membership"] == "pending"
    assert phone_b["household_id"] == flat_a["household_id"]

    error_of(orders_seen(client, phone_b["token"]), 404, "not_a_member")
    error_of(get(client, f"/api/orders/{flat_a['order']['order_id']}", phone_b["token"]), 404, "not_a_member")


def test_takeover__phone_b__cannot_cancel_as_order_and_nothing_changes(client, demo, flat_a, phone_b):
    with writes() as written:
        response = post(client, f"/api/orders/{flat_a['order']['order_id']}/cancel", {}, phone_b["token"])

    error_of(response, 404, "not_a_member")
    assert written == []
    [order] = orders_in(demo["round_id"])
    assert order.status == "placed"
    assert stock_left(demo["round_id"])[demo["bundle_ids"][1]] == 99


def test_takeover__phone_b__cannot_order_for_the_flat(client, demo, flat_a, phone_b):
    with writes() as written:
        response = place_order(client, phone_b["token"], demo["round_id"], (demo["bundle_ids"][0], 1))

    error_of(response, 404, "not_a_member")
    assert written == []
    assert len(orders_in(demo["round_id"])) == 1


def test_pending_phone__sees_the_community_and_its_rounds(client, demo, phone_b):
    response = get(client, f"/api/rounds?community_id={demo['community_id']}", phone_b["token"])

    assert response.status_code == 200
    assert [r["round_id"] for r in response.json_body["rounds"]] == [demo["round_id"]]


def test_pending_phone__sees_only_itself_of_the_household(client, phone_b):
    body = get(client, "/api/households/mine", phone_b["token"]).json_body

    assert body["me"] == {"member_id": phone_b["member_id"], "status": "pending", "phone_masked": "137****1112"}
    assert body["members"] == []
    assert A_PHONE[-4:] not in str(body)


def test_member__sees_the_request_with_a_masked_phone(client, flat_a, phone_b):
    body = get(client, "/api/households/mine", flat_a["token"]).json_body

    assert body["flat_label"] == "1栋 919"
    assert [(m["phone_masked"], m["status"], m["me"]) for m in body["members"]] == [
        ("138****0001", "member", True), ("137****1112", "pending", False)]
    assert B_PHONE not in str(body) and A_PHONE not in str(body)


def test_after_approval__phone_b_sees_the_order_and_its_pickup_code(client, flat_a, phone_b):
    body = approve(client, flat_a["token"], phone_b["member_id"])

    assert [m["status"] for m in body["members"]] == ["member", "member"]
    [seen] = orders_seen(client, phone_b["token"]).json_body["orders"]
    assert seen["order_id"] == flat_a["order"]["order_id"]
    assert seen["pickup_code"] == flat_a["order"]["pickup_code"]


def test_after_removal__phone_b_is_a_stranger_again_at_once(client, demo, flat_a, phone_b):
    approve(client, flat_a["token"], phone_b["member_id"])
    assert orders_seen(client, phone_b["token"]).status_code == 200

    response = post(client, f"/api/households/mine/members/{phone_b['member_id']}/remove", {}, flat_a["token"])

    assert response.status_code == 200
    assert [m["member_id"] for m in response.json_body["members"]] == [flat_a["member_id"]]
    # The very next request of B's still-unexpired token is refused, on every route.
    error_of(orders_seen(client, phone_b["token"]), 401, "membership_ended")
    error_of(get(client, f"/api/orders/{flat_a['order']['order_id']}", phone_b["token"]), 401, "membership_ended")
    error_of(post(client, f"/api/orders/{flat_a['order']['order_id']}/cancel", {}, phone_b["token"]), 401,
             "membership_ended")
    error_of(place_order(client, phone_b["token"], demo["round_id"], (demo["bundle_ids"][0], 1)), 401,
             "membership_ended")
    error_of(get(client, "/api/households/mine", phone_b["token"]), 401, "membership_ended")
    error_of(get(client, f"/api/rounds?community_id={demo['community_id']}", phone_b["token"]), 401,
             "membership_ended")
    [order] = orders_in(demo["round_id"])
    assert order.status == "placed"


def test_refusing_a_request__removes_it_and_its_token_stops_working(client, flat_a, phone_b):
    post(client, f"/api/households/mine/members/{phone_b['member_id']}/remove", {}, flat_a["token"])

    error_of(get(client, "/api/households/mine", phone_b["token"]), 401, "membership_ended")


def test_member_leaving__takes_only_themselves_off(client, demo, flat_a, phone_b):
    approve(client, flat_a["token"], phone_b["member_id"])

    response = post(client, f"/api/households/mine/members/{phone_b['member_id']}/remove", {}, phone_b["token"])

    assert response.json_body == {"household_id": flat_a["household_id"], "left": True}
    error_of(get(client, "/api/households/mine", phone_b["token"]), 401, "membership_ended")
    assert orders_seen(client, flat_a["token"]).status_code == 200


def test_flat_everyone_left__next_phone_is_its_first_member(client, demo, flat_a):
    post(client, f"/api/households/mine/members/{flat_a['member_id']}/remove", {}, flat_a["token"])

    again = register(client, demo["join_key"], building="1栋", room="919", phone=C_PHONE)

    assert again["membership"] == "member"
    assert again["household_id"] == flat_a["household_id"]


# --- what a pending phone, or a phone of another flat, cannot do ----------------

def test_pending_phone__cannot_approve_itself_or_others(client, demo, flat_a, phone_b):
    phone_c = register(client, demo["join_key"], building="1栋", room="919", phone=C_PHONE)

    with writes() as written:
        own = post(client, f"/api/households/mine/members/{phone_b['member_id']}/approve", {}, phone_b["token"])
        other = post(client, f"/api/households/mine/members/{phone_c['member_id']}/approve", {}, phone_b["token"])

    error_of(own, 404, "not_a_member")
    error_of(other, 404, "not_a_member")
    assert written == []


def test_approving_a_phone_of_another_flat__is_404_and_changes_nothing(client, demo, flat_a):
    other_flat = register(client, demo["join_key"], building="2栋", room="919", phone=B_PHONE)
    squatter = register(client, demo["join_key"], building="2栋", room="919", phone=C_PHONE)

    with writes() as written:
        response = post(client, f"/api/households/mine/members/{squatter['member_id']}/approve", {}, flat_a["token"])

    error_of(response, 404, "not_found")
    assert written == []
    other = next(h for h in households_in(demo["community_id"]) if h.household_id == other_flat["household_id"])
    assert other.members.as_dict()[squatter["member_id"]]["status"] == "pending"


def test_removing_a_phone_of_another_flat__is_404_and_changes_nothing(client, demo, flat_a):
    other_flat = register(client, demo["join_key"], building="2栋", room="919", phone=B_PHONE)

    with writes() as written:
        response = post(client, f"/api/households/mine/members/{other_flat['member_id']}/remove", {}, flat_a["token"])

    error_of(response, 404, "not_found")
    assert written == []
    assert get(client, "/api/households/mine", other_flat["token"]).status_code == 200


def test_approving_twice__is_a_no_op(client, flat_a, phone_b):
    approve(client, flat_a["token"], phone_b["member_id"])

    with writes() as written:
        body = approve(client, flat_a["token"], phone_b["member_id"])

    assert written == []
    assert [m["status"] for m in body["members"]] == ["member", "member"]


def test_household_routes__need_a_resident_token(client, demo):
    error_of(get(client, "/api/households/mine"), 401, "unauthorized")
    error_of(get(client, "/api/households/mine", demo["tokens"]["liaison"]), 403, "wrong_role")


# --- races -----------------------------------------------------------------------

def test_concurrent_changes__a_stale_copy_is_read_again_not_written_over(client, demo, flat_a, phone_b):
    from api import households
    phone_c = register(client, demo["join_key"], building="1栋", room="919", phone=C_PHONE)
    stale = households.get(demo["community_id"], "B001#U00#R00000919")
    households.remove(households.get(demo["community_id"], "B001#U00#R00000919"), phone_c["member_id"])

    households.approve(stale, phone_b["member_id"])  # its copy still lists C

    members = households.get(demo["community_id"], "B001#U00#R00000919").members.as_dict()
    assert {m: v["status"] for m, v in members.items()} == {flat_a["member_id"]: "member",
                                                           phone_b["member_id"]: "member"}


def test_phone_removed_between_the_read_and_the_write__the_transaction_refuses_it(client, demo, flat_a, phone_b,
                                                                                 monkeypatch):
    from api import households
    approve(client, flat_a["token"], phone_b["member_id"])
    post(client, f"/api/households/mine/members/{phone_b['member_id']}/remove", {}, flat_a["token"])
    # As if B's read had happened just before A removed it: the read-side check passes.
    monkeypatch.setattr(households, "ensure_member", lambda principal, household: None)

    with writes() as written:
        response = place_order(client, phone_b["token"], demo["round_id"], (demo["bundle_ids"][0], 1))

    error_of(response, 401, "membership_ended")
    assert written == []
    assert len(orders_in(demo["round_id"])) == 1


def test_pending_phone__may_withdraw_its_own_request_and_nothing_else(client, demo, flat_a, phone_b):
    refused = post(client, f"/api/households/mine/members/{flat_a['member_id']}/remove", {}, phone_b["token"])
    error_of(refused, 404, "not_a_member")

    response = post(client, f"/api/households/mine/members/{phone_b['member_id']}/remove", {}, phone_b["token"])

    assert response.json_body == {"household_id": flat_a["household_id"], "left": True}
    members = get(client, "/api/households/mine", flat_a["token"]).json_body["members"]
    assert [m["member_id"] for m in members] == [flat_a["member_id"]]


# --- one flat, whatever width its digits were typed in (issue 12, point 6) -------------------------------

@pytest.mark.parametrize("first, second", [
    (("3栋", "1单元", "501"), ("３栋", "１单元", "５０１")),
    (("３栋", "１单元", "５０１"), ("3栋", "1单元", "501")),
    (("3栋", "1单元", "501"), (" 3栋\u3000", "1单元 ", " 0501")),  # spaces around, room 0501 is room 501
])
def test_full_width_and_ascii_flat__are_the_same_flat_so_the_second_phone_is_pending(client, demo, first, second):
    a = register(client, demo["join_key"], building=first[0], unit=first[1], room=first[2], phone=A_PHONE)
    b = register(client, demo["join_key"], building=second[0], unit=second[1], room=second[2], phone=B_PHONE)

    assert (a["membership"], b["membership"]) == ("member", "pending")
    assert b["household_id"] == a["household_id"]
    assert a["flat"] == {"building": "3栋", "unit": "1单元", "room": "501"}  # stored as NFKC, whichever came first
    [household] = households_in(demo["community_id"])
    assert (household.building, household.unit, household.room) == ("3栋", "1单元", "501")


def test_full_width_flat__is_found_by_the_roster_and_a_staff_registration_of_it(client, demo):
    a = register(client, demo["join_key"], building="１０栋", unit="２单元", room="１５０２", phone=A_PHONE)
    liaison = demo["tokens"]["liaison"]
    cid = demo["community_id"]

    found = get(client, f"/api/communities/{cid}/roster?building=１０栋&room=１５０２", liaison)
    again = post(client, f"/api/communities/{cid}/households", {"building": "10栋", "unit": "2单元", "room": "1502"},
                 liaison)

    assert [h["household_id"] for h in found.json_body["households"]] == [a["household_id"]]
    assert again.status_code == 200 and again.json_body["household_id"] == a["household_id"]
    assert len(households_in(cid)) == 1
