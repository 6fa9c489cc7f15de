"""On the running `make dev`: an order still unpaid when its round's payment deadline passes expires
within two minutes, by the scheduled job alone, and its stock comes back."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests


def _bundle_stock(base, info, round_id):
    rounds = requests.get(f"{base}/api/rounds", params={"community_id": info["community_id"]}, timeout=30,
                          headers={"Authorization": f"Bearer {info['tokens']['liaison']}"}).json()["rounds"]
    [bundle] = next(r for r in rounds if r["round_id"] == round_id)["bundles"]
    return bundle["stock_left"]


@pytest.mark.stack
def test_unpaid_order__expires_within_two_minutes_of_the_deadline_and_its_stock_comes_back(dev_stack):
    info = dev_stack.info
    base = info["base_url"]
    now = datetime.now(timezone.utc)
    deadline = now + timedelta(seconds=20)
    created = requests.post(f"{base}/api/rounds", timeout=30,
                            headers={"Authorization": f"Bearer {info['tokens']['supplier']}"},
                            json={"name": "限时团购", "community_ids": [info["community_id"]],
                                  "opens_at": (now - timedelta(minutes=1)).isoformat(),
                                  "closes_at": (now + timedelta(seconds=15)).isoformat(),
                                  "payment_deadline": deadline.isoformat(), "payment_qr": "wxp://expiry-test",
                                  "bundles": [{"name": "鸡蛋", "items": [{"name": "鸡蛋", "qty": "30", "unit": "枚"}],
                                               "price_fen": 2350, "stock": 10, "per_household_limit": 2}]})
    assert created.status_code == 201, created.text
    round_ = created.json()
    bundle_id = round_["bundles"][0]["bundle_id"]
    # Two flats of their own (rooms ending in 09: no other test uses them): one leaves its order
    # unpaid, the other says it paid, which the job must never expire.
    tokens = []
    for room in ("3909", "3809"):
        joined = requests.post(f"{base}/api/join/{info['join_key']}/households", timeout=30,
                               json={"building": "2栋", "room": room, "phone": f"1370000{room}"})
        assert joined.status_code == 201, joined.text
        tokens.append({"Authorization": f"Bearer {joined.json()['token']}"})
    orders = []
    for headers in tokens:
        placed = requests.post(f"{base}/api/orders", timeout=30, headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                               json={"round_id": round_["round_id"], "lines": [{"bundle_id": bundle_id, "qty": 2}]})
        assert placed.status_code == 201, placed.text
        orders.append(placed.json())
    claimed = requests.post(f"{base}/api/orders/{orders[1]['order_id']}/payment-claim", timeout=30,
                            headers={**tokens[1], "Idempotency-Key": str(uuid.uuid4())}, json={"reference": "4321"})
    assert claimed.json()["status"] == "payment_claimed", claimed.text
    assert _bundle_stock(base, info, round_["round_id"]) == 6

    status = None
    while datetime.now(timezone.utc) < deadline + timedelta(minutes=2):
        mine = requests.get(f"{base}/api/orders/mine", headers=tokens[0], timeout=30).json()["orders"]
        status = next(o for o in mine if o["order_id"] == orders[0]["order_id"])["status"]
        if status == "expired":
            break
        time.sleep(2)

    assert status == "expired", dev_stack.output()[-2000:]
    assert _bundle_stock(base, info, round_["round_id"]) == 8  # the unpaid 2 came back, once
    mine = requests.get(f"{base}/api/orders/mine", headers=tokens[1], timeout=30).json()["orders"]
    assert next(o for o in mine if o["order_id"] == orders[1]["order_id"])["status"] == "payment_claimed"
