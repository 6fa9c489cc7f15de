"""The benchmarks' own machinery (bench/): the size rules, the meter on a real order, the route coverage.

No timing is asserted anywhere; these check counts and the arithmetic the capacity model rests on.
"""
import json
import uuid

import pytest

from bench import calls, capacity


@pytest.mark.parametrize("value, size", [
    ({"S": "abc"}, 3),
    ({"S": "米面油"}, 9),  # UTF-8 bytes, not characters
    ({"N": "12800"}, 3),  # 3 significant digits: (3 + 1) // 2 + 1
    ({"N": "0.5"}, 2),
    ({"BOOL": True}, 1),
    ({"NULL": True}, 1),
    ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),
    ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
    ({"SS": ["a", "bb"]}, 3),
])
def test_value_size__follows_dynamodbs_rules(value, size):
    assert capacity.value_size(value) == size


def test_item_size__counts_attribute_names_and_values():
    assert capacity.item_size({"PK": {"S": "ROUND#1"}, "qty": {"N": "2"}}) == 2 + 7 + 3 + 2
    assert capacity.item_size(None) == 0


def test_units__round_up_and_double_in_a_transaction():
    assert capacity.wcu(1) == 1 and capacity.wcu(1024) == 1 and capacity.wcu(1025) == 2
    assert capacity.wcu(5914, 2) == 12
    assert capacity.rcu(4096, True) == 1 and capacity.rcu(4097, True) == 2 and capacity.rcu(10, False) == 0.5


def test_every_write_route_has_a_least_to_compare_with():
    from app import app
    writes = {(method, path) for path, methods in app.routes.items() for method in methods if method != "GET"}
    assert writes - set(calls.LEAST) == set(), "a write route has no least-possible entry in bench/calls.py"


def test_meter__an_order_is_one_batch_read_and_one_transaction_billed_per_item(client, demo):
    import boto3

    from api import config, models
    r = client.http.post(f"/api/join/{demo['join_key']}/households", headers={"content-type": "application/json"},
                         body=json.dumps({"building": "1栋", "room": "501", "phone": "13812341234"}))
    token = r.json_body["token"]
    meter = capacity.Meter(models.dynamodb_client(), boto3.client("dynamodb", region_name=config.REGION),
                           config.TABLE_NAME)
    try:
        meter.start()
        body = {"round_id": demo["round_id"], "lines": [{"bundle_id": b, "qty": 1} for b in demo["bundle_ids"]]}
        response = client.http.post("/api/orders", body=json.dumps(body), headers={
            "authorization": f"Bearer {token}", "content-type": "application/json",
            "idempotency-key": str(uuid.uuid4())})
        meter.stop()
    finally:
        meter.close()
    assert response.status_code == 201
    assert meter.calls == {"BatchGetItem": 1, "TransactWriteItems": 1}
    # One check (the flat; the round's being open is checked on each bundle, not on the round item), five
    # puts (idempotency, order, pickup code, id index, ledger), the fair-share slot, and each of the 3
    # bundles' stock and household quota: 13 items, each under 1 KB, 2 WCU apiece.
    assert [a for a, *_ in meter.items].count("ConditionCheck") == 1
    assert ("ConditionCheck", "ROUND") not in [(a, key) for a, key, *_ in meter.items], meter.items
    assert len(meter.items) == 13
    assert meter.wcu == 26
    assert meter.gsi_wcu == 1  # the order carries GSI1 (the household's orders)
    # The batch read: round, flat, community, fair-share slot, exemption and 3 bundles, strongly consistent.
    assert meter.rcu == 8
