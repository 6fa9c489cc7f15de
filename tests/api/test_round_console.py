"""The supplier's console for one round: the detail page's counts, adding stock, closing early,
marking bags packed, the group-chat announcement, and the pickers of the create form
(communities of the supplier's sub-district; suppliers a liaison may open a round for).

Another supplier's round is 404 on every route, as if it did not exist.
"""
import pytest

from api import packing
from api.models import Bundle, Order, Round
from tests.api.helpers import (
    create_community, create_round, create_sub_district, create_supplier, error_of, fair_share_off, get, orders_in,
    place_order, post, register, round_body, writes,
)

# (building, unit, room, phone) of the flats that order in these tests.
FLATS = [("1栋", "", "101", "13800000101"), ("1栋", "", "102", "13800000102"),
         ("3栋", "1单元", "301", "13800000301"), ("10栋", "2单元", "1001", "13800001001")]


def order_all(client, demo, rnd, flats=FLATS) -> list[dict]:
    placed = []
    for building, unit, room, phone in flats:
        household = register(client, demo["join_key"], building=building, unit=unit, room=room, phone=phone)
        response = place_order(client, household["token"], rnd["round_id"], (rnd["bundle_ids"][1], 1))
        assert response.status_code == 201, response.body
        placed.append({**response.json_body, "token": household["token"], "building": building})
    return placed


def confirm(client, demo, round_id, *order_ids):
    response = post(client, f"/api/rounds/{round_id}/payments/confirm", {"order_ids": list(order_ids)},
                    demo["tokens"]["supplier"])
    assert response.status_code == 200 and not response.json_body["refused"], response.body


def close(client, demo, round_id, token=None):
    return post(client, f"/api/rounds/{round_id}/close", {}, token or demo["tokens"]["supplier"])


@pytest.fixture
def rnd(demo):
    fair_share_off(demo["community_id"])
    return create_round(demo["tokens"]["supplier"], [demo["community_id"]])


@pytest.fixture
def stranger(demo):
    """A supplier of the same sub-district that does not run these rounds."""
    return create_supplier(demo["sub_district_id"], "隔壁超市")


# --- creating a round: prices in yuan, and what the form may pick ----------------------

def test_create_round__price_in_yuan__is_stored_in_fen(client, demo):
    body = round_body(demo["community_id"])
    body["bundles"][0].pop("price_fen")
    body["bundles"][0]["price"] = "39.9"
    response = post(client, "/api/rounds", body, demo["tokens"]["supplier"])
    assert response.status_code == 201, response.body
    assert response.json_body["bundles"][0]["price_fen"] == 3990


@pytest.mark.parametrize("bundle_change, field", [
    ({"price": "12.345"}, "price"),
    ({"price": "-3"}, "price"),
    ({"price": "十二"}, "price"),
    ({"price_fen": 1200, "price": "12"}, "price"),
    ({"stock": -1}, "stock"),
])
def test_create_round__bad_bundle__400_names_the_bundle_and_field(client, demo, bundle_change, field):
    body = round_body(demo["community_id"])
    body["bundles"].append(dict(body["bundles"][0], name="第二个套餐"))
    body["bundles"][1].pop("price_fen")
    body["bundles"][1].update(bundle_change)
    with writes() as written:
        response = post(client, "/api/rounds", body, demo["tokens"]["supplier"])
    error = error_of(response, 400, "bad_input")
    messages = error["fields"]["bundles"]["1"][field]
    assert any(" / " in m for m in messages)  # Chinese and English
    assert "0" not in error["fields"]["bundles"]
    assert written == []


def test_create_round__times_out_of_order__400_on_the_later_field(client, demo):
    body = round_body(demo["community_id"])
    body["closes_at"], body["opens_at"] = body["opens_at"], body["closes_at"]
    error = error_of(post(client, "/api/rounds", body, demo["tokens"]["supplier"]), 400, "bad_input")
    assert "closes_at" in error["fields"]


def test_create_round__community_outside_the_suppliers_sub_district__is_refused_as_unknown(client, demo):
    elsewhere = create_community(create_sub_district()["sub_district_id"], "别处小区")
    response = post(client, "/api/rounds", round_body(elsewhere["community_id"]), demo["tokens"]["supplier"])
    assert set(error_of(response, 400, "bad_input")["fields"]) == {"community_ids"}


def test_my_communities__lists_the_sub_districts_communities_only(client, demo):
    neighbour = create_community(demo["sub_district_id"], "和平里小区")
    create_community(create_sub_district()["sub_district_id"], "别处小区")
    response = get(client, "/api/suppliers/mine/communities", demo["tokens"]["supplier"])
    assert response.status_code == 200, response.body
    found = {c["community_id"]: c for c in response.json_body["communities"]}
    assert set(found) == {demo["community_id"], neighbour["community_id"]}
    assert [b["name"] for b in found[demo["community_id"]]["buildings"]] == ["1栋", "2栋", "3栋", "10栋"]


def test_community_suppliers__liaison_sees_the_sub_districts_suppliers(client, demo, stranger):
    create_supplier(create_sub_district()["sub_district_id"], "外区超市")
    response = get(client, f"/api/communities/{demo['community_id']}/suppliers", demo["tokens"]["liaison"])
    assert response.status_code == 200, response.body
    assert {s["supplier_id"] for s in response.json_body["suppliers"]} == {demo["supplier_id"], stranger["supplier_id"]}


def test_community_suppliers__another_communitys_liaison_404_and_a_supplier_403(client, demo):
    from api import bootstrap
    other = create_community(demo["sub_district_id"], "和平里小区")
    other_liaison = bootstrap.create_staff("liaison", other["community_id"])
    error_of(get(client, f"/api/communities/{demo['community_id']}/suppliers", other_liaison), 404, "not_found")
    assert get(client, f"/api/communities/{demo['community_id']}/suppliers",
               demo["tokens"]["supplier"]).status_code == 403


def test_liaison__creates_a_round_for_a_named_supplier(client, demo):
    body = round_body(demo["community_id"], supplier_id=demo["supplier_id"])
    response = post(client, "/api/rounds", body, demo["tokens"]["liaison"])
    assert response.status_code == 201, response.body
    assert response.json_body["supplier"]["supplier_id"] == demo["supplier_id"]
    mine = get(client, "/api/suppliers/mine/rounds", demo["tokens"]["supplier"]).json_body["rounds"]
    assert response.json_body["round_id"] in [r["round_id"] for r in mine]


# --- the round's page ---------------------------------------------------------------

def test_detail__counts_per_status_money_and_buildings(client, demo, rnd):
    placed = order_all(client, demo, rnd)
    confirm(client, demo, rnd["round_id"], placed[0]["order_id"], placed[2]["order_id"])
    response = get(client, f"/api/rounds/{rnd['round_id']}", demo["tokens"]["supplier"])
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["by_status"]["placed"] == 2 and body["by_status"]["paid"] == 2
    assert sum(body["by_status"].values()) == 4
    assert body["totals"]["ordered"] == {"count": 4, "fen": 4 * 2350}
    assert body["totals"]["paid"] == {"count": 2, "fen": 2 * 2350}
    [community] = body["communities"]
    assert community["join_url"] == f"http://baogong.test/#/join/{demo['join_key']}"
    assert community["buildings"] == [
        {"building": "1栋", "live": 2, "unpaid": 1, "paid": 1, "packed": 0},
        {"building": "3栋", "live": 1, "unpaid": 0, "paid": 1, "packed": 0},
        {"building": "10栋", "live": 1, "unpaid": 1, "paid": 0, "packed": 0},
    ]


def test_supplier_rounds__carry_counts_per_status(client, demo, rnd):
    order_all(client, demo, rnd, FLATS[:2])
    mine = get(client, "/api/suppliers/mine/rounds", demo["tokens"]["supplier"]).json_body["rounds"]
    listed = next(r for r in mine if r["round_id"] == rnd["round_id"])
    assert listed["by_status"]["placed"] == 2 and listed["totals"]["ordered"]["count"] == 2


def test_detail__another_supplier_404_a_resident_403_a_liaison_sees_own_community(client, demo, rnd, stranger):
    error_of(get(client, f"/api/rounds/{rnd['round_id']}", stranger["token"]), 404, "not_found")
    household = register(client, demo["join_key"], room="909", phone="13800000909")
    assert get(client, f"/api/rounds/{rnd['round_id']}", household["token"]).status_code == 403
    seen = get(client, f"/api/rounds/{rnd['round_id']}", demo["tokens"]["liaison"])
    assert seen.status_code == 200
    assert [c["community_id"] for c in seen.json_body["communities"]] == [demo["community_id"]]


def test_detail__liaison_of_a_community_the_round_does_not_serve__404(client, demo):
    from api import bootstrap
    other = create_community(demo["sub_district_id"], "和平里小区")
    rnd = create_round(demo["tokens"]["supplier"], [other["community_id"]])
    error_of(get(client, f"/api/rounds/{rnd['round_id']}", demo["tokens"]["liaison"]), 404, "not_found")
    assert get(client, f"/api/rounds/{rnd['round_id']}",
               bootstrap.create_staff("liaison", other["community_id"])).status_code == 200


# --- stock and closing -------------------------------------------------------------------

def test_add_stock__grows_total_and_left_and_residents_can_buy_it(client, demo, rnd):
    rice = rnd["bundle_ids"][0]
    response = post(client, f"/api/rounds/{rnd['round_id']}/bundles/{rice}/stock", {"add": 7},
                    demo["tokens"]["supplier"])
    assert response.status_code == 200, response.body
    bundle = next(b for b in response.json_body["bundles"] if b["bundle_id"] == rice)
    assert (bundle["stock_total"], bundle["stock_left"]) == (10, 10)
    stored = Bundle.get(f"ROUND#{rnd['round_id']}", f"ROUND#BUNDLE#{rice}", consistent_read=True)
    assert (int(stored.stock_total), int(stored.stock_left)) == (10, 10)
    household = register(client, demo["join_key"], room="808", phone="13800000808")
    assert place_order(client, household["token"], rnd["round_id"], (rice, 5)).status_code == 201


@pytest.mark.parametrize("body", [{"add": 0}, {"add": -5}, {"add": "many"}, {}, {"add": 1, "extra": 1}])
def test_add_stock__bad_amount__400(client, demo, rnd, body):
    response = post(client, f"/api/rounds/{rnd['round_id']}/bundles/{rnd['bundle_ids'][0]}/stock", body,
                    demo["tokens"]["supplier"])
    error_of(response, 400, "bad_input")


def test_add_stock__unknown_bundle_or_another_supplier__404_and_nothing_written(client, demo, rnd, stranger):
    path = f"/api/rounds/{rnd['round_id']}/bundles"
    with writes() as written:
        error_of(post(client, f"{path}/NOPE/stock", {"add": 1}, demo["tokens"]["supplier"]), 404, "not_found")
        error_of(post(client, f"{path}/{rnd['bundle_ids'][0]}/stock", {"add": 1}, stranger["token"]), 404,
                 "not_found")
    assert written == []
    assert list(Bundle.query(f"ROUND#{rnd['round_id']}", Bundle.sk == "ROUND#BUNDLE#NOPE", consistent_read=True)) == []


def test_close__stops_orders_and_keeps_the_placed_ones(client, demo, rnd):
    placed = order_all(client, demo, rnd, FLATS[:1])
    response = close(client, demo, rnd["round_id"])
    assert response.status_code == 200, response.body
    assert response.json_body["status"] == "closed" and response.json_body["closed_early_at"]
    household = register(client, demo["join_key"], room="707", phone="13800000707")
    late = place_order(client, household["token"], rnd["round_id"], (rnd["bundle_ids"][1], 1))
    error_of(late, 422, "round_closed")
    assert [o.order_id for o in orders_in(rnd["round_id"])] == [placed[0]["order_id"]]


def test_close__twice__422_and_after_closes_at_stock_cannot_be_added(client, demo, rnd):
    assert close(client, demo, rnd["round_id"]).status_code == 200
    error_of(close(client, demo, rnd["round_id"]), 422, "round_closed")
    response = post(client, f"/api/rounds/{rnd['round_id']}/bundles/{rnd['bundle_ids'][0]}/stock", {"add": 1},
                    demo["tokens"]["supplier"])
    error_of(response, 422, "round_closed")


def test_close__another_supplier_404_a_liaison_403(client, demo, rnd, stranger):
    error_of(close(client, demo, rnd["round_id"], stranger["token"]), 404, "not_found")
    assert close(client, demo, rnd["round_id"], demo["tokens"]["liaison"]).status_code == 403
    assert Round.get(f"ROUND#{rnd['round_id']}", "ROUND", consistent_read=True).closed_early_at is None


# --- packed --------------------------------------------------------------------------

def packed(client, demo, round_id, token=None, **body):
    return post(client, f"/api/rounds/{round_id}/packed", body, token or demo["tokens"]["supplier"])


def statuses(round_id) -> dict[str, str]:
    return {o.order_id: o.status for o in orders_in(round_id)}


def test_packed__while_the_round_is_open__422(client, demo, rnd):
    error_of(packed(client, demo, rnd["round_id"], community_id=demo["community_id"]), 422, "round_open")


def test_packed__community__packs_the_paid_bags_only_and_residents_see_it(client, demo, rnd):
    placed = order_all(client, demo, rnd)
    confirm(client, demo, rnd["round_id"], placed[0]["order_id"], placed[3]["order_id"])
    close(client, demo, rnd["round_id"])
    response = packed(client, demo, rnd["round_id"], community_id=demo["community_id"])
    assert response.status_code == 200, response.body
    assert response.json_body == {"packed": 2, "not_paid": 2, "already_packed": 0, "next_cursor": None}
    now = statuses(rnd["round_id"])
    assert [now[p["order_id"]] for p in placed] == ["packed", "placed", "placed", "packed"]
    mine = get(client, "/api/orders/mine", placed[0]["token"]).json_body["orders"]
    assert mine[0]["status"] == "packed"
    again = packed(client, demo, rnd["round_id"], community_id=demo["community_id"]).json_body
    assert again == {"packed": 0, "not_paid": 2, "already_packed": 2, "next_cursor": None}


def test_packed__one_building__leaves_the_others(client, demo, rnd):
    placed = order_all(client, demo, rnd)
    confirm(client, demo, rnd["round_id"], *[p["order_id"] for p in placed])
    close(client, demo, rnd["round_id"])
    response = packed(client, demo, rnd["round_id"], community_id=demo["community_id"], building="1栋")
    assert response.json_body["packed"] == 2
    now = statuses(rnd["round_id"])
    assert {p["building"]: now[p["order_id"]] for p in placed} == {"1栋": "packed", "3栋": "paid", "10栋": "paid"}


def test_packed__pages__with_a_cursor_until_done(client, demo, rnd, monkeypatch):
    monkeypatch.setattr(packing, "PAGE", 1)
    placed = order_all(client, demo, rnd, FLATS[:3])
    confirm(client, demo, rnd["round_id"], *[p["order_id"] for p in placed])
    close(client, demo, rnd["round_id"])
    total, cursor, calls = 0, None, 0
    while True:
        body = packed(client, demo, rnd["round_id"], community_id=demo["community_id"],
                      **({"cursor": cursor} if cursor else {})).json_body
        total, cursor, calls = total + body["packed"], body["next_cursor"], calls + 1
        if not cursor:
            break
    assert total == 3 and calls >= 3
    assert set(statuses(rnd["round_id"]).values()) == {"packed"}


def test_packed__an_order_cancelled_meanwhile__is_left_out_and_the_rest_are_packed(client, demo, rnd, monkeypatch):
    placed = order_all(client, demo, rnd, FLATS[:3])
    confirm(client, demo, rnd["round_id"], *[p["order_id"] for p in placed])
    close(client, demo, rnd["round_id"])
    original = packing._transition

    def cancel_first_then_pack(orders, actions, from_statuses):
        # The supplier cancels (for a refund) one of the bags between the read and the write.
        post(client, f"/api/rounds/{rnd['round_id']}/orders/{orders[0].order_id}/cancel", {"reason": "缺货"},
             demo["tokens"]["supplier"])
        return original(orders, actions, from_statuses)

    monkeypatch.setattr(packing, "_transition", cancel_first_then_pack)
    response = packed(client, demo, rnd["round_id"], community_id=demo["community_id"])
    assert response.json_body["packed"] == 2
    assert sorted(statuses(rnd["round_id"]).values()) == ["cancelled", "packed", "packed"]


def test_packed__bad_input__400(client, demo, rnd):
    close(client, demo, rnd["round_id"])
    error = error_of(packed(client, demo, rnd["round_id"], community_id=demo["community_id"], building="99栋"),
                     400, "bad_input")
    assert "building" in error["fields"]
    other = create_community(demo["sub_district_id"], "和平里小区")
    error = error_of(packed(client, demo, rnd["round_id"], community_id=other["community_id"]), 400, "bad_input")
    assert "community_id" in error["fields"]
    error_of(packed(client, demo, rnd["round_id"]), 400, "bad_input")
    error_of(packed(client, demo, rnd["round_id"], community_id=demo["community_id"], cursor="garbage"),
             400, "bad_input")


def test_packed__another_supplier_404_a_liaison_403_nothing_written(client, demo, rnd, stranger):
    placed = order_all(client, demo, rnd, FLATS[:1])
    confirm(client, demo, rnd["round_id"], placed[0]["order_id"])
    close(client, demo, rnd["round_id"])
    with writes() as written:
        error_of(packed(client, demo, rnd["round_id"], stranger["token"], community_id=demo["community_id"]),
                 404, "not_found")
        assert packed(client, demo, rnd["round_id"], demo["tokens"]["liaison"],
                      community_id=demo["community_id"]).status_code == 403
    assert written == []
    assert Order.get(f"ROUND#{rnd['round_id']}", orders_in(rnd["round_id"])[0].sk).status == "paid"


# --- the announcement ----------------------------------------------------------------

def test_announcement__one_per_community_with_bundles_prices_deadlines_and_join_link(client, demo):
    other = create_community(demo["sub_district_id"], "和平里小区")
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"], other["community_id"]])
    response = get(client, f"/api/rounds/{rnd['round_id']}/announcement", demo["tokens"]["supplier"])
    assert response.status_code == 200, response.body
    texts = {a["community_id"]: a for a in response.json_body["announcements"]}
    assert list(texts) == [demo["community_id"], other["community_id"]]
    text = texts[other["community_id"]]["text"]
    assert text.startswith("【团购通知】测试团购")
    assert "大米套餐 ¥50.00（大米5kg），每户限5份" in text and "鸡蛋套餐 ¥23.50" in text
    assert "下单截止" in text and "付款截止" in text and "北京时间" in text
    assert text.endswith(f"http://baogong.test/#/join/{other['join_key']}")
    assert demo["join_key"] not in text


def test_announcement__liaison_gets_own_community_another_supplier_404(client, demo, stranger):
    other = create_community(demo["sub_district_id"], "和平里小区")
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"], other["community_id"]])
    seen = get(client, f"/api/rounds/{rnd['round_id']}/announcement", demo["tokens"]["liaison"]).json_body
    assert [a["community_id"] for a in seen["announcements"]] == [demo["community_id"]]
    error_of(get(client, f"/api/rounds/{rnd['round_id']}/announcement", stranger["token"]), 404, "not_found")
    assert get(client, f"/api/rounds/{rnd['round_id']}/announcement",
               demo["tokens"]["volunteer"]).status_code == 403


# --- a repeated tap ---------------------------------------------------------------------

def test_create_round__same_idempotency_key_and_body__one_round_200_the_second_time(client, demo):
    body = round_body(demo["community_id"])
    first = post(client, "/api/rounds", body, demo["tokens"]["supplier"], idempotency_key="new-round-0001")
    again = post(client, "/api/rounds", body, demo["tokens"]["supplier"], idempotency_key="new-round-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body["round_id"] == first.json_body["round_id"]
    mine = get(client, "/api/suppliers/mine/rounds", demo["tokens"]["supplier"]).json_body["rounds"]
    assert [r["round_id"] for r in mine].count(first.json_body["round_id"]) == 1
    assert len(mine) == 2  # the demo round and this one


def test_create_round__same_key_another_body__409_and_no_round(client, demo):
    body = round_body(demo["community_id"])
    assert post(client, "/api/rounds", body, demo["tokens"]["supplier"], idempotency_key="new-round-0002").status_code == 201
    error_of(post(client, "/api/rounds", dict(body, name="另一期"), demo["tokens"]["supplier"],
                  idempotency_key="new-round-0002"), 409, "idempotency_key_reused")
    assert len(get(client, "/api/suppliers/mine/rounds", demo["tokens"]["supplier"]).json_body["rounds"]) == 2


def test_community_suppliers__information_officer__403(client, demo):
    assert get(client, f"/api/communities/{demo['community_id']}/suppliers",
               demo["tokens"]["info_officer"]).status_code == 403
