"""The liaison's console: the roster, squatting and handover, who may see it, and bad input."""
import json

import pytest

from api import bootstrap
from tests.api.helpers import (
    create_community, error_of, get, households_in, patch, place_order, post, put, register, writes,
)

FAMILY_PHONE, SQUATTER_PHONE = "13811112222", "13933334444"


def roster(client, demo, token=None, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return get(client, f"/api/communities/{demo['community_id']}/roster?{params}",
               token or demo["tokens"]["liaison"])


def flat_path(demo, ref):
    return f"/api/communities/{demo['community_id']}/households/{ref}"


@pytest.fixture
def other(demo):
    """Community B in the same sub-district, with its own liaison."""
    community = create_community(demo["sub_district_id"], "和平里小区")
    return {**community, "liaison": bootstrap.create_staff("liaison", community["community_id"])}


@pytest.fixture
def squatted(client, demo):
    """A squatter registered 3栋 2单元 1502 first; the family that lives there asked afterwards."""
    squatter = register(client, demo["join_key"], building="3栋", unit="2单元", room="1502", phone=SQUATTER_PHONE)
    family = register(client, demo["join_key"], building="3栋", unit="2单元", room="1502", phone=FAMILY_PHONE)
    assert (squatter["membership"], family["membership"]) == ("member", "pending")
    return {"squatter": squatter, "family": family, "ref": "B003.U02.R00001502"}


# --- the roster -----------------------------------------------------------------

def test_roster__lists_flats_by_building_with_masked_phones_and_round_status(client, demo):
    a = register(client, demo["join_key"], building="2栋", room="301", phone="13800000001")
    register(client, demo["join_key"], building="1栋", room="101", phone="13800000002")
    order = place_order(client, a["token"], demo["round_id"], (demo["bundle_ids"][1], 1)).json_body

    body = roster(client, demo).json_body

    assert [h["flat_label"] for h in body["households"]] == ["1栋 101", "2栋 301"]
    assert body["round"]["round_id"] == demo["round_id"]
    assert body["households"][1]["order"] == {"order_id": order["order_id"], "status": "placed",
                                              "total_fen": 6800, "assisted": False}
    assert body["households"][0]["order"] is None
    assert body["households"][0]["members"][0]["phone_masked"] == "138****0002"
    assert "13800000002" not in str(body)
    assert body["counts"] == {"households": 2, "members": 2, "pending": 0, "special": 0, "ordered": 1}


def test_roster__flats_with_requests_or_many_phones_come_first(client, demo, squatted):
    register(client, demo["join_key"], building="1栋", room="101", phone="13800000002")

    body = roster(client, demo).json_body

    first = body["households"][0]
    assert first["flat_label"] == "3栋 2单元 1502"
    assert (first["attention"], first["member_count"], first["pending_count"]) == (True, 1, 1)
    assert body["households"][1]["attention"] is False


def test_roster__by_building_and_by_room(client, demo):
    register(client, demo["join_key"], building="3栋", unit="1单元", room="1502", phone="13800000001")
    register(client, demo["join_key"], building="3栋", unit="2单元", room="502", phone="13800000002")
    register(client, demo["join_key"], building="10栋", unit="1单元", room="1502", phone="13800000003")

    in_3 = roster(client, demo, building="3栋").json_body["households"]
    by_room = roster(client, demo, room="1502").json_body["households"]

    assert [h["flat_label"] for h in in_3] == ["3栋 1单元 1502", "3栋 2单元 502"]
    assert [h["flat_label"] for h in by_room] == ["3栋 1单元 1502", "10栋 1单元 1502"]


def test_roster__unknown_building__is_400_naming_the_choices(client, demo):
    error = error_of(roster(client, demo, building="99栋"), 400, "bad_input")
    assert "1栋" in error["fields"]["building"][0]


# --- squatting and handover -------------------------------------------------------

def test_squatting__liaison_hands_the_flat_to_the_family(client, demo, squatted):
    response = post(client, flat_path(demo, squatted["ref"]) + "/handover",
                    {"member_id": squatted["family"]["member_id"]}, demo["tokens"]["liaison"])

    assert response.status_code == 200
    assert [(m["member_id"], m["status"]) for m in response.json_body["members"]] == [
        (squatted["family"]["member_id"], "member")]
    # The squatter's token stops at once; the family's same token now works as a member.
    error_of(get(client, "/api/orders/mine", squatted["squatter"]["token"]), 401, "membership_ended")
    assert get(client, "/api/orders/mine", squatted["family"]["token"]).status_code == 200


def test_squatting__squatters_order_is_not_the_familys_after_handover(client, demo, squatted):
    placed = place_order(client, squatted["squatter"]["token"], demo["round_id"], (demo["bundle_ids"][1], 1))
    post(client, flat_path(demo, squatted["ref"]) + "/handover", {"member_id": squatted["family"]["member_id"]},
         demo["tokens"]["liaison"])

    error_of(post(client, f"/api/orders/{placed.json_body['order_id']}/cancel", {}, squatted["squatter"]["token"]),
             401, "membership_ended")
    # The flat's order stays the flat's: the liaison sees it, and so does the family now.
    assert [o["order_id"] for o in get(client, "/api/orders/mine", squatted["family"]["token"]).json_body["orders"]] \
        == [placed.json_body["order_id"]]


def test_liaison__approves_and_removes_phones(client, demo, squatted):
    path = flat_path(demo, squatted["ref"])
    approved = post(client, f"{path}/members/{squatted['family']['member_id']}/approve", {},
                    demo["tokens"]["liaison"]).json_body
    assert approved["member_count"] == 2 and approved["pending_count"] == 0

    removed = post(client, f"{path}/members/{squatted['squatter']['member_id']}/remove", {},
                   demo["tokens"]["liaison"]).json_body

    assert [m["member_id"] for m in removed["members"]] == [squatted["family"]["member_id"]]
    error_of(get(client, "/api/households/mine", squatted["squatter"]["token"]), 401, "membership_ended")


def test_information_officer__may_approve_too(client, demo, squatted):
    token = demo["tokens"]["info_officer"]
    response = post(client, f"{flat_path(demo, squatted['ref'])}/members/{squatted['family']['member_id']}/approve",
                    {}, token)

    assert response.status_code == 200
    assert get(client, "/api/orders/mine", squatted["family"]["token"]).status_code == 200


def test_liaison__approving_a_phone_of_another_flat__is_404_and_changes_nothing(client, demo, squatted):
    register(client, demo["join_key"], building="1栋", room="101", phone="13800000002")

    with writes() as written:
        response = post(client, f"{flat_path(demo, 'B001.U00.R00000101')}/members/"
                                f"{squatted['family']['member_id']}/approve", {}, demo["tokens"]["liaison"])

    error_of(response, 404, "not_found")
    assert written == []


def test_handover__to_a_phone_that_is_not_on_the_flat__is_404(client, demo, squatted):
    with writes() as written:
        response = post(client, flat_path(demo, squatted["ref"]) + "/handover", {"member_id": "01NOTAMEMBER"},
                        demo["tokens"]["liaison"])

    error_of(response, 404, "not_found")
    assert written == []


# --- who may use the console --------------------------------------------------------

@pytest.mark.parametrize("path", ["/roster", "/special-households", "/households/B003.U02.R00001502"])
def test_console__liaison_of_community_a_reading_b__is_404(client, demo, other, squatted, path):
    response = get(client, f"/api/communities/{demo['community_id']}{path}", other["liaison"])
    error_of(response, 404, "not_found")


def test_console__liaison_of_a_changing_a_flat_of_b__is_404_and_writes_nothing(client, demo, other, squatted):
    path = flat_path(demo, squatted["ref"])
    with writes() as written:
        responses = [
            post(client, f"{path}/members/{squatted['family']['member_id']}/approve", {}, other["liaison"]),
            post(client, f"{path}/handover", {"member_id": squatted["family"]["member_id"]}, other["liaison"]),
            put(client, f"{path}/special", {"category": "disabled"}, other["liaison"]),
            post(client, f"{path}/check-ins", {"method": "call", "outcome": "ok"}, other["liaison"]),
            post(client, f"{path}/orders", {"round_id": demo["round_id"], "lines": [
                {"bundle_id": demo["bundle_ids"][1], "qty": 1}]}, other["liaison"], idempotency_key="assist-key-1"),
        ]
    for response in responses:
        error_of(response, 404, "not_found")
    assert written == []


@pytest.mark.parametrize("role", ["volunteer", "supplier", "admin"])
def test_console__other_staff_roles__are_403(client, demo, role):
    error_of(roster(client, demo, demo["tokens"][role]), 403, "wrong_role")


def test_console__a_resident_even_of_that_community__is_403(client, demo, squatted):
    error_of(roster(client, demo, squatted["squatter"]["token"]), 403, "wrong_role")


def test_console__retired_information_officer__is_404_at_once(client, demo):
    assert roster(client, demo, demo["tokens"]["info_officer"]).status_code == 200

    post(client, f"/api/communities/{demo['community_id']}/info-officer/retire", {}, demo["tokens"]["liaison"])

    error_of(roster(client, demo, demo["tokens"]["info_officer"]), 404, "not_found")


def test_console__unknown_flat_ref__is_404(client, demo):
    error_of(get(client, flat_path(demo, "not-a-flat"), demo["tokens"]["liaison"]), 404, "not_found")
    error_of(get(client, flat_path(demo, "B001.U00.R00000999"), demo["tokens"]["liaison"]), 404, "not_found")


# --- flats without a smartphone -------------------------------------------------------

def test_staff_registration__landline_flat_has_no_members_and_masks_the_landline(client, demo):
    response = post(client, f"/api/communities/{demo['community_id']}/households",
                    {"building": "2栋", "room": "102", "phone": "0710-3456789", "name": "李奶奶"},
                    demo["tokens"]["liaison"])

    assert response.status_code == 201
    body = response.json_body
    assert (body["flat_ref"], body["member_count"], body["contact_phone_masked"]) == ("B002.U00.R00000102", 0,
                                                                                      "071****6789")
    again = post(client, f"/api/communities/{demo['community_id']}/households",
                 {"building": "2栋", "room": "102"}, demo["tokens"]["liaison"])
    assert again.status_code == 200
    assert again.json_body["household_id"] == body["household_id"]


def test_staff_registration__then_a_grandchilds_phone__becomes_its_first_member(client, demo):
    post(client, f"/api/communities/{demo['community_id']}/households", {"building": "2栋", "room": "102"},
         demo["tokens"]["liaison"])

    grandchild = register(client, demo["join_key"], building="2栋", room="102", phone="13800000009")

    assert grandchild["membership"] == "member"


@pytest.mark.parametrize("phone", ["12345", "1381234123", "abc", "010-12"])
def test_staff_registration__malformed_phone__is_400_and_writes_nothing(client, demo, phone):
    with writes() as written:
        response = post(client, f"/api/communities/{demo['community_id']}/households",
                        {"building": "2栋", "room": "102", "phone": phone}, demo["tokens"]["liaison"])

    assert list(error_of(response, 400, "bad_input")["fields"]) == ["phone"]
    assert written == []
    assert households_in(demo["community_id"]) == []


# --- one distribution point, one information officer -----------------------------------

def community_path(demo, suffix=""):
    return f"/api/communities/{demo['community_id']}{suffix}"


def test_community__shows_its_one_distribution_point_and_information_officer(client, demo):
    body = get(client, community_path(demo), demo["tokens"]["liaison"]).json_body
    public = get(client, f"/api/join/{demo['join_key']}").json_body

    assert body["distribution_point"]["name"] == "北门配送点"
    assert body["info_officer"]["name"] == "王阿姨"
    assert body["settings"] == {"check_in_interval_days": 3, "fair_share_days": 3}
    assert public["distribution_point"]["name"] == "北门配送点"
    assert public["info_officer"] == {"name": "王阿姨"}


def test_distribution_point__second_while_one_is_active__is_409_and_changes_nothing(client, demo):
    with writes() as written:
        response = put(client, community_path(demo, "/distribution-point"), {"name": "南门配送点"},
                       demo["tokens"]["liaison"])

    error_of(response, 409, "distribution_point_active")
    assert written == []
    assert get(client, community_path(demo), demo["tokens"]["liaison"]).json_body["distribution_point"]["name"] \
        == "北门配送点"


def test_distribution_point__retired__then_a_new_one(client, demo):
    retired = post(client, community_path(demo, "/distribution-point/retire"), {}, demo["tokens"]["liaison"])
    assert retired.json_body["distribution_point"] is None

    response = put(client, community_path(demo, "/distribution-point"), {"name": "南门配送点", "note": "南门外"},
                   demo["tokens"]["liaison"])

    assert response.status_code == 200
    assert response.json_body["distribution_point"]["name"] == "南门配送点"


def test_info_officer__inviting_a_second_while_one_is_active__is_409_and_writes_nothing(client, demo):
    with writes() as written:
        response = post(client, "/api/invites", {"role": "info_officer", "scope_id": demo["community_id"]},
                        demo["tokens"]["liaison"])

    error_of(response, 409, "info_officer_active")
    assert written == []


def test_info_officer__accepting_after_another_became_active__is_409_and_the_invite_stays_unused(client, demo):
    post(client, community_path(demo, "/info-officer/retire"), {}, demo["tokens"]["liaison"])
    first = post(client, "/api/invites", {"role": "info_officer", "scope_id": demo["community_id"], "name": "张三"},
                 demo["tokens"]["liaison"]).json_body
    second = post(client, "/api/invites", {"role": "info_officer", "scope_id": demo["community_id"], "name": "李四"},
                  demo["tokens"]["admin"]).json_body
    accepted = post(client, f"/api/invites/{first['code']}/accept", {})
    assert accepted.status_code == 200

    with writes() as written:
        response = post(client, f"/api/invites/{second['code']}/accept", {})

    error_of(response, 409, "info_officer_active")
    assert written == []
    community = get(client, community_path(demo), demo["tokens"]["liaison"]).json_body
    assert community["info_officer"]["name"] == "张三"
    # The new information officer works the console; the second invite can be used after a retirement.
    assert roster(client, demo, accepted.json_body["token"]).status_code == 200
    post(client, community_path(demo, "/info-officer/retire"), {}, demo["tokens"]["liaison"])
    assert post(client, f"/api/invites/{second['code']}/accept", {}).status_code == 200


def test_settings__check_in_interval_out_of_range__is_400(client, demo):
    response = patch(client, community_path(demo, "/settings"), {"check_in_interval_days": 0},
                     demo["tokens"]["liaison"])

    assert list(error_of(response, 400, "bad_input")["fields"]) == ["check_in_interval_days"]


def test_community__liaison_of_another_community__is_404(client, demo, other):
    error_of(get(client, community_path(demo), other["liaison"]), 404, "not_found")
    error_of(post(client, community_path(demo, "/info-officer/retire"), {}, other["liaison"]), 404, "not_found")


# --- every new staff route, as a neighbour with the gate poster and as another community's staff ---

def _staff_routes(demo, squatted):
    c = f"/api/communities/{demo['community_id']}"
    flat_ = f"{c}/households/{squatted['ref']}"
    member = squatted["family"]["member_id"]
    order = {"round_id": demo["round_id"], "lines": [{"bundle_id": demo["bundle_ids"][1], "qty": 1}]}
    return [
        ("GET", c, None), ("PATCH", f"{c}/settings", {"check_in_interval_days": 5}),
        ("PUT", f"{c}/distribution-point", {"name": "南门"}), ("POST", f"{c}/distribution-point/retire", {}),
        ("POST", f"{c}/info-officer/retire", {}), ("GET", f"{c}/roster", None),
        ("POST", f"{c}/households", {"building": "1栋", "room": "111"}), ("GET", flat_, None),
        ("POST", f"{flat_}/members/{member}/approve", {}), ("POST", f"{flat_}/members/{member}/remove", {}),
        ("POST", f"{flat_}/handover", {"member_id": member}), ("PUT", f"{flat_}/special", {"category": "disabled"}),
        ("POST", f"{flat_}/special/remove", {}), ("POST", f"{flat_}/check-ins", {"method": "call", "outcome": "ok"}),
        ("GET", f"{c}/special-households", None), ("POST", f"{flat_}/orders", order),
    ]


def _call(client, method, path, body, token):
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}", "idempotency-key": "matrix-key-1"}
    raw = None if body is None else json.dumps(body)
    return getattr(client.http, method.lower())(path, headers=headers, **({} if raw is None else {"body": raw}))


def test_every_staff_route__a_resident_of_the_community_even_a_member__is_403_and_writes_nothing(client, demo,
                                                                                              squatted):
    with writes() as written:
        for method, path, body in _staff_routes(demo, squatted):
            for who in ("squatter", "family"):  # a member, and a pending phone
                response = _call(client, method, path, body, squatted[who]["token"])
                assert response.status_code == 403, (method, path, who, response.body)
                assert response.json_body["error"]["code"] == "wrong_role"
    assert written == []


def test_every_staff_route__staff_of_another_community__is_404_and_writes_nothing(client, demo, other, squatted):
    with writes() as written:
        for method, path, body in _staff_routes(demo, squatted):
            response = _call(client, method, path, body, other["liaison"])
            assert response.status_code == 404, (method, path, response.body)
    assert written == []
