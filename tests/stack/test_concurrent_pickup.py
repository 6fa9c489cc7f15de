"""On the running `make dev`: two volunteers tap the same bag 20 times at once (a crowded gate, a
double tap, a queued mark replayed) and there is one pickup record."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests


def _call(method, url, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)


@pytest.mark.stack
def test_20_parallel_marks_by_two_volunteers__one_pickup_record(dev_stack):
    info = dev_stack.info
    base, tokens = info["base_url"], info["tokens"]
    now = datetime.now(timezone.utc)
    created = _call("POST", f"{base}/api/rounds", tokens["supplier"], json={
        "name": "取货并发", "community_ids": [info["community_id"]],
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat(),
        "payment_deadline": (now + timedelta(days=1, hours=1)).isoformat(), "payment_qr": "wxp://pickup-race",
        "bundles": [{"name": "鸡蛋", "items": [{"name": "鸡蛋", "qty": "30", "unit": "枚"}], "price": "23.50",
                     "stock": 5, "per_household_limit": 1}]})
    assert created.status_code == 201, created.text
    rnd = created.json()
    # A flat of its own (rooms ending in 14: no other test uses them).
    joined = _call("POST", f"{base}/api/join/{info['join_key']}/households",
                   json={"building": "2栋", "room": "1414", "phone": "13700001414"})
    assert joined.status_code == 201, joined.text
    resident = joined.json()["token"]
    order = _call("POST", f"{base}/api/orders", resident, headers={"Idempotency-Key": str(uuid.uuid4())},
                  json={"round_id": rnd["round_id"], "lines": [{"bundle_id": rnd["bundles"][0]["bundle_id"], "qty": 1}]})
    assert order.status_code == 201, order.text
    order_id = order.json()["order_id"]
    paid = _call("POST", f"{base}/api/rounds/{rnd['round_id']}/payments/confirm", tokens["supplier"],
                 json={"order_ids": [order_id]})
    assert paid.status_code == 200 and paid.json()["confirmed"], paid.text
    # A second volunteer, invited by the liaison.
    invite = _call("POST", f"{base}/api/invites", tokens["liaison"],
                   json={"role": "volunteer", "scope_id": info["community_id"]})
    assert invite.status_code == 201, invite.text
    second = _call("POST", f"{base}/api/invites/{invite.json()['code']}/accept").json()["token"]

    start = threading.Barrier(20)

    def tap(n):
        token = tokens["volunteer"] if n % 2 else second
        start.wait()
        return _call("POST", f"{base}/api/orders/{order_id}/pickup", token,
                     headers={"Idempotency-Key": f"tap-{n}-{uuid.uuid4()}"}, json={"method": "self"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(tap, range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers if a.status_code != 200]
    records = {(a.json()["picked_up"]["at"], a.json()["picked_up"]["method"]) for a in answers}
    assert len(records) == 1  # every volunteer sees the same, single pickup
    # One volunteer made the record: all ten of their taps say "by me", none of the other's.
    assert sum(a.json()["picked_up"]["by_me"] for a in answers) == 10
    mine = _call("GET", f"{base}/api/orders/mine", resident).json()["orders"]
    [bag] = [o for o in mine if o["order_id"] == order_id]
    assert bag["status"] == "picked_up" and (bag["picked_up"]["at"], bag["picked_up"]["method"]) in records
