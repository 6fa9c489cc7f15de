"""One order by id, and cancelling it: only ever the caller's own household's."""
import json
import uuid

from datetime import datetime

import pytest
import time_machine

from api.models import Bundle, HouseholdQuota, Order


def _join(client, demo, building="1栋", room="501", phone="13812341234", unit=None):
    body = {"building": building, "room": room, "phone": phone, **({"unit": unit} if unit else {})}
    r = client.http.post(f"/api/join/{demo['join_key']}/households", body=json.dumps(body),
                         headers={"content-type": "application/json"})
    assert r.status_code == 201, r.json_body
    return {"authorization": f"Bearer {r.json_body['token']}", "content-type": "application/json"}, r.json_body


def _place(client, demo, headers, qty=1, bundle=0):
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": demo["bundle_ids"][bundle], "qty": qty}]}
    r = client.http.post("/api/orders", body=json.dumps(body), headers={**headers, "idempotency-key": str(uuid.uuid4())})
    assert r.status_code == 201, r.json_body
    return r.json_body


def _stock(demo, bundle=0):
    return next(int(b.stock_left) for b in Bundle.query(f"ROUND#{demo['round_id']}", Bundle.sk.startswith("ROUND#BUNDLE#"),
                                                          consistent_read=True)
                if b.bundle_id == demo["bundle_ids"][bundle])


def _order_sk(demo, order_id):
    return next(o.sk for o in Order.query(f"ROUND#{demo['round_id']}", Order.sk.startswith("ORDER#"))
                if o.order_id == order_id)


@pytest.fixture
def two_households(client, demo):
    a, _ = _join(client, demo, room="101", phone="13800000001")
    b, _ = _join(client, demo, building="2栋", room="202", phone="13800000002")
    return a, b


def test_get_order__own_order_is_returned(client, demo, two_households):
    a, _ = two_households
    order = _place(client, demo, a)
    r = client.http.get(f"/api/orders/{order['order_id']}", headers=a)
    assert r.status_code == 200
    assert r.json_body["order_id"] == order["order_id"] and r.json_body["pickup_code"] == order["pickup_code"]


def test_get_order__another_households_order_is_404_not_403(client, demo, two_households):
    a, b = two_households
    order = _place(client, demo, a)
    r = client.http.get(f"/api/orders/{order['order_id']}", headers=b)
    assert r.status_code == 404
    assert r.json_body["error"]["code"] == "not_found"
    assert order["pickup_code"] not in json.dumps(r.json_body)


def test_get_order__unknown_id_is_404_like_anothers(client, demo, two_households):
    a, _ = two_households
    assert client.http.get(f"/api/orders/{uuid.uuid4().hex}", headers=a).status_code == 404


def test_cancel__another_households_order_is_404_and_nothing_changes(client, demo, two_households):
    a, b = two_households
    order = _place(client, demo, a, qty=2)
    stock = _stock(demo)
    r = client.http.post(f"/api/orders/{order['order_id']}/cancel", headers=b)
    assert r.status_code == 404
    assert client.http.get(f"/api/orders/{order['order_id']}", headers=a).json_body["status"] == "placed"
    assert _stock(demo) == stock


def test_cancel__returns_stock_and_household_limit(client, demo):
    a, joined = _join(client, demo, room="301", phone="13800000003")
    a_id = joined["household_id"]
    before = _stock(demo)
    order = _place(client, demo, a, qty=2)  # the 米面油套餐 limit is 2 per household
    assert _stock(demo) == before - 2
    r = client.http.post(f"/api/orders/{order['order_id']}/cancel", headers=a)
    assert r.status_code == 200 and r.json_body["status"] == "cancelled"
    assert _stock(demo) == before
    quota = HouseholdQuota.get(f"HOUSEHOLD#{a_id}", f"QUOTA#{demo['round_id']}#{demo['bundle_ids'][0]}")
    assert quota.qty == 0
    again = _place(client, demo, a, qty=2)  # the limit is free again
    assert again["order_id"] != order["order_id"]


def test_cancel__twice_is_a_no_op(client, demo, two_households):
    a, _ = two_households
    before = _stock(demo)
    order = _place(client, demo, a)
    assert client.http.post(f"/api/orders/{order['order_id']}/cancel", headers=a).status_code == 200
    r = client.http.post(f"/api/orders/{order['order_id']}/cancel", headers=a)
    assert r.status_code == 200 and r.json_body["status"] == "cancelled"
    assert _stock(demo) == before  # returned once, not twice


def test_cancel__after_the_round_closed_is_refused_with_422(client, demo, two_households):
    a, _ = two_households
    order = _place(client, demo, a)
    closes_at = datetime.fromisoformat(order["payment_deadline"].replace("Z", "+00:00"))  # after closes_at
    with time_machine.travel(closes_at):
        r = client.http.post(f"/api/orders/{order['order_id']}/cancel", headers=a)
    assert r.status_code == 422
    assert r.json_body["error"]["code"] == "round_closed"
    assert Order.get(f"ROUND#{demo['round_id']}", _order_sk(demo, order["order_id"])).status == "placed"


def test_cancel__a_staff_token_is_403(client, demo, two_households):
    a, _ = two_households
    order = _place(client, demo, a)
    r = client.http.post(f"/api/orders/{order['order_id']}/cancel",
                         headers={"authorization": f"Bearer {demo['tokens']['volunteer']}"})
    assert r.status_code == 403
