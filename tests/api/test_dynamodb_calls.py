"""DynamoDB calls per request, counted with botocore event hooks on the app's client.

These are the invariants the cost model rests on: an order is one
TransactWriteItems, and no request path ever Scans.
"""
import json
import uuid
from collections import Counter

from api import models




def _register(client, demo, room="501", phone="13812341234") -> dict:
    r = client.http.post(f"/api/join/{demo['join_key']}/households", headers={"content-type": "application/json"},
                         body=json.dumps({"building": "1栋", "room": room, "phone": phone}))
    assert r.status_code == 201
    return r.json_body


def _bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def _resident(client, demo, room="501"):
    return _bearer(_register(client, demo, room)["token"])


def _order(client, demo, headers, key=None, qty=1):
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": b, "qty": qty} for b in demo["bundle_ids"]]}
    return client.http.post("/api/orders", body=json.dumps(body),
                            headers={**headers, "idempotency-key": key or str(uuid.uuid4())})


def test_place_order__costs_exactly_one_transact_write_items_and_no_scan(client, demo, dynamodb_calls):
    headers = _resident(client, demo)
    dynamodb_calls.clear()
    response = _order(client, demo, headers)
    assert response.status_code == 201
    assert dynamodb_calls["TransactWriteItems"] == 1
    assert dynamodb_calls["Scan"] == 0
    # One read: the round, the flat and the ordered bundles, by key, in one BatchGetItem.
    assert dynamodb_calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})


def test_place_order__by_an_approved_second_phone__membership_check_adds_no_call(client, demo, dynamodb_calls):
    first = _register(client, demo)
    second = _register(client, demo, phone="13912345678")
    approved = client.http.post(f"/api/households/mine/members/{second['member_id']}/approve",
                                headers=_bearer(first["token"]))
    assert approved.status_code == 200
    dynamodb_calls.clear()

    response = _order(client, demo, _bearer(second["token"]))

    assert response.status_code == 201
    # Membership rides on the flat's item, which the order's BatchGetItem reads anyway,
    # and is re-checked by a ConditionCheck inside the same transaction.
    assert dynamodb_calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})


def test_place_order__by_a_pending_phone__is_refused_from_the_read_without_a_transaction(client, demo, dynamodb_calls):
    _register(client, demo)
    pending = _register(client, demo, phone="13912345678")
    dynamodb_calls.clear()

    response = _order(client, demo, _bearer(pending["token"]))

    assert response.status_code == 404
    assert dynamodb_calls == Counter({"BatchGetItem": 1})


def test_assisted_order__costs_the_community_read_plus_the_same_two_calls(client, demo, dynamodb_calls):
    _register(client, demo)
    dynamodb_calls.clear()
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": demo["bundle_ids"][1], "qty": 1}]}

    response = client.http.post(f"/api/communities/{demo['community_id']}/households/B001.U00.R00000501/orders",
                                body=json.dumps(body),
                                headers={**_bearer(demo["tokens"]["liaison"]), "idempotency-key": str(uuid.uuid4())})

    assert response.status_code == 201
    # The community (is the caller its liaison?), then the order path as for a resident.
    assert dynamodb_calls == Counter({"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1})


def test_place_order__three_bundles_still_one_transaction(client, demo, dynamodb_calls):
    headers = _resident(client, demo)
    dynamodb_calls.clear()
    assert _order(client, demo, headers).json_body["lines"].__len__() == 3
    assert dynamodb_calls["TransactWriteItems"] == 1


def test_refused_order__writes_nothing_beyond_the_cancelled_transaction(client, demo, dynamodb_calls):
    headers = _resident(client, demo)
    dynamodb_calls.clear()
    response = _order(client, demo, headers, qty=99)  # over every per-household limit
    assert response.status_code == 422
    assert dynamodb_calls["TransactWriteItems"] == 0  # refused before any write
    assert dynamodb_calls["PutItem"] == dynamodb_calls["UpdateItem"] == 0


def test_no_request_path_scans(client, demo, dynamodb_calls):
    headers = _resident(client, demo)
    supplier = {"authorization": f"Bearer {demo['tokens']['supplier']}"}
    key = str(uuid.uuid4())
    assert _order(client, demo, headers, key=key).status_code == 201
    assert _order(client, demo, headers, key=key).status_code == 200
    assert client.http.get("/api/orders/mine", headers=headers).status_code == 200
    assert client.http.get(f"/api/rounds?community_id={demo['community_id']}", headers=headers).status_code == 200
    assert client.http.get(f"/api/join/{demo['join_key']}").status_code == 200
    for kind in ("picklist", "packing", "labels"):
        assert client.http.get(f"/api/rounds/{demo['round_id']}/exports/{kind}?format=csv",
                               headers=supplier).status_code == 200
    invite = client.http.post("/api/invites", headers={"authorization": f"Bearer {demo['tokens']['admin']}",
                                                        "content-type": "application/json"},
                              body=json.dumps({"role": "volunteer", "scope_id": demo["community_id"]}))
    assert client.http.post(f"/api/invites/{invite.json_body['code']}/accept").status_code == 200
    liaison = _bearer(demo["tokens"]["liaison"])
    community = f"/api/communities/{demo['community_id']}"
    assert client.http.get("/api/households/mine", headers=headers).status_code == 200
    assert client.http.get(f"{community}/roster", headers=liaison).status_code == 200
    assert client.http.get(f"{community}/roster?room=501", headers=liaison).status_code == 200
    assert client.http.put(f"{community}/households/B001.U00.R00000501/special", headers=liaison,
                           body=json.dumps({"category": "elderly_alone"})).status_code == 200
    assert client.http.post(f"{community}/households/B001.U00.R00000501/check-ins", headers=liaison,
                            body=json.dumps({"method": "call", "outcome": "ok"})).status_code == 201
    assert client.http.get(f"{community}/households/B001.U00.R00000501", headers=liaison).status_code == 200
    assert client.http.get(f"{community}/special-households?overdue=true", headers=liaison).status_code == 200
    assert client.http.get(community, headers=liaison).status_code == 200
    assert sum(dynamodb_calls.values()) > 10
    assert dynamodb_calls["Scan"] == 0


def test_sold_out_order__is_refused_from_the_read_without_a_transaction(client, demo, dynamodb_calls):
    headers = _resident(client, demo)
    rice = demo["bundle_ids"][0]
    for bundle in models.Bundle.query(f"ROUND#{demo['round_id']}", models.Bundle.sk.startswith("ROUND#BUNDLE#")):
        if bundle.bundle_id == rice:
            bundle.update(actions=[models.Bundle.stock_left.set(0)])
    dynamodb_calls.clear()
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": rice, "qty": 1}]}
    response = client.http.post("/api/orders", body=json.dumps(body),
                                headers={**headers, "idempotency-key": str(uuid.uuid4())})
    assert response.status_code == 422 and response.json_body["error"]["code"] == "sold_out"
    assert response.json_body["error"]["fields"]["stock_left"] == 0
    # The batch read, then the idempotency record (is this a replay?): no transaction.
    assert dynamodb_calls == Counter({"BatchGetItem": 1, "GetItem": 1})


def test_create_round_for_many_communities__reads_them_in_one_batch(client, demo, dynamodb_calls):
    from api import communities
    extra = [communities.create(demo["sub_district_id"], f"小区{i}", [{"name": "1栋"}]).community_id
             for i in range(30)]
    body = {"name": "联合团购", "community_ids": [demo["community_id"], *extra],
            "opens_at": "2026-01-01T08:00:00+08:00", "closes_at": "2099-01-01T08:00:00+08:00",
            "payment_deadline": "2099-01-02T08:00:00+08:00", "payment_qr": "wxp://x",
            "bundles": [{"name": "米", "items": [{"name": "米", "qty": "5", "unit": "kg"}], "price_fen": 100,
                         "stock": 10, "per_household_limit": 1}]}
    dynamodb_calls.clear()
    r = client.http.post("/api/rounds", body=json.dumps(body), headers={
        "authorization": f"Bearer {demo['tokens']['supplier']}", "content-type": "application/json"})
    assert r.status_code == 201, r.json_body
    # The supplier, the 31 communities in one batch, then the writes (listings first, round last).
    assert dynamodb_calls == Counter({"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 2})


def _supplier_get(client, demo, path):
    response = client.http.get(path, headers=_bearer(demo["tokens"]["supplier"]))
    assert response.status_code == 200, response.body
    return response


def test_round_detail__three_reads_whatever_the_number_of_orders(client, demo, dynamodb_calls):
    for n in range(3):
        assert _order(client, demo, _resident(client, demo, room=f"60{n}")).status_code == 201
    dynamodb_calls.clear()
    _supplier_get(client, demo, f"/api/rounds/{demo['round_id']}")
    # The round and its bundles, the orders counted (projected), the communities' names and join links.
    assert dynamodb_calls == Counter({"Query": 2, "BatchGetItem": 1})


def test_export__a_page_of_orders_is_one_query_call(client, demo, dynamodb_calls, monkeypatch):
    from api import exports
    monkeypatch.setattr(exports, "_PAGE_SIZE", 2)
    for n in range(5):
        assert _order(client, demo, _resident(client, demo, room=f"70{n}")).status_code == 201
    dynamodb_calls.clear()
    response = _supplier_get(client, demo, f"/api/rounds/{demo['round_id']}/exports/packing?status=all_live")
    assert response.body.decode("utf-8-sig").count("\r\n") == 6  # the header and five bags
    # The round Query, the communities, then the orders 2 at a time: 3 pages streamed, never all held at once.
    assert dynamodb_calls == Counter({"Query": 1 + 3, "BatchGetItem": 1})
