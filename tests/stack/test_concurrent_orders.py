"""300 residents order the same 100 bags at once, over HTTP, against the running stack.

The stack is the real `make dev` process: the threaded server, the Chalice
app and moto behind its lock. Stock is guarded only by DynamoDB's
conditional transaction, so this is the test that it holds.
"""
import csv
import io
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

HOUSEHOLDS = 300
STOCK = 100


def _flats(n: int):
    """n distinct flats of the demo compound: 1栋/2栋 have no units, 3栋/10栋 have two."""
    blocks = [("1栋", ""), ("2栋", ""), ("3栋", "1单元"), ("3栋", "2单元"), ("10栋", "1单元"), ("10栋", "2单元")]
    flats = []
    for floor in range(1, 40):
        for door in range(1, 5):
            for building, unit in blocks:
                flats.append({"building": building, "unit": unit, "room": f"{floor}{door:02d}"})
    return flats[:n]


@pytest.fixture(scope="module")
def contest(dev_stack):
    """A fresh round with one bundle of STOCK bags, and HOUSEHOLDS registered households."""
    info = dev_stack.info
    base = info["base_url"]
    now = datetime.now(timezone.utc)
    created = requests.post(f"{base}/api/rounds", timeout=30,
                            headers={"Authorization": f"Bearer {info['tokens']['supplier']}"},
                            json={"name": "抢购测试", "community_ids": [info["community_id"]],
                                  "opens_at": (now - timedelta(minutes=5)).isoformat(),
                                  "closes_at": (now + timedelta(hours=2)).isoformat(),
                                  "payment_deadline": (now + timedelta(hours=3)).isoformat(),
                                  "payment_qr": "wxp://contest",
                                  "bundles": [{"name": "大米 10kg", "items": [{"name": "大米", "qty": "10", "unit": "kg"}],
                                               "price_fen": 5990, "stock": STOCK, "per_household_limit": 1}]})
    assert created.status_code == 201, created.text
    round_ = created.json()
    tokens = []
    for i, flat in enumerate(_flats(HOUSEHOLDS)):
        r = requests.post(f"{base}/api/join/{info['join_key']}/households", timeout=30,
                          json={**flat, "phone": f"139{i:08d}"})
        assert r.status_code == 201, r.text
        tokens.append(r.json()["token"])
    requests_ = [{"token": t, "key": str(uuid.uuid4()),
                  "body": {"round_id": round_["round_id"], "lines": [{"bundle_id": round_["bundles"][0]["bundle_id"], "qty": 1}]}}
                 for t in tokens]
    return {"base": base, "info": info, "round": round_, "requests": requests_}


def _fire_all(base: str, batch: list[dict]) -> list[requests.Response]:
    """Send every order at once: all threads wait at a barrier, then post together."""
    barrier = threading.Barrier(len(batch))

    def post(req):
        barrier.wait()
        return requests.post(f"{base}/api/orders", json=req["body"], timeout=120,
                             headers={"Authorization": f"Bearer {req['token']}", "Idempotency-Key": req["key"]})

    with ThreadPoolExecutor(max_workers=len(batch)) as pool:
        return list(pool.map(post, batch))


def _stock_left(contest) -> int:
    rounds = requests.get(f"{contest['base']}/api/rounds", timeout=30,
                          params={"community_id": contest["info"]["community_id"]},
                          headers={"Authorization": f"Bearer {contest['info']['tokens']['liaison']}"}).json()["rounds"]
    mine = next(r for r in rounds if r["round_id"] == contest["round"]["round_id"])
    return mine["bundles"][0]["stock_left"]


def _orders_in_packing_list(contest) -> list[str]:
    r = requests.get(f"{contest['base']}/api/rounds/{contest['round']['round_id']}/exports/packing",
                     params={"format": "csv", "status": "all_live"}, timeout=30,
                     headers={"Authorization": f"Bearer {contest['info']['tokens']['supplier']}"})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    return [row["订单号 Order"] for row in rows]


@pytest.fixture(scope="module")
def first_wave(contest):
    return _fire_all(contest["base"], contest["requests"])


def test_300_parallel_orders_for_100_bags__exactly_100_are_placed(first_wave):
    statuses = Counter(r.status_code for r in first_wave)
    assert statuses == {201: STOCK, 422: HOUSEHOLDS - STOCK}, statuses


def test_300_parallel_orders__the_refusals_say_sold_out_in_both_languages(first_wave):
    refusals = [r.json()["error"] for r in first_wave if r.status_code == 422]
    assert {e["code"] for e in refusals} == {"sold_out"}
    assert all("库存不足" in e["message"] and "stock" in e["message_en"] for e in refusals)


def test_300_parallel_orders__stock_ends_at_exactly_zero(first_wave, contest):
    assert _stock_left(contest) == 0


def test_300_parallel_orders__no_order_lost_or_duplicated(first_wave, contest):
    placed = [r.json()["order_id"] for r in first_wave if r.status_code == 201]
    assert len(set(placed)) == STOCK
    in_table = _orders_in_packing_list(contest)
    assert len(in_table) == STOCK
    assert set(in_table) == set(placed)
    codes = [r.json()["pickup_code"] for r in first_wave if r.status_code == 201]
    assert len(set(codes)) == STOCK  # no two bags share a pickup code


def test_300_parallel_replays_with_the_same_keys__change_nothing(first_wave, contest):
    second_wave = _fire_all(contest["base"], contest["requests"])
    assert not [r for r in second_wave if r.status_code >= 500]
    for first, again in zip(first_wave, second_wave):
        if first.status_code == 201:
            assert again.status_code == 200
            assert again.json()["order_id"] == first.json()["order_id"]
            assert again.json()["pickup_code"] == first.json()["pickup_code"]
        else:
            assert again.status_code == 422 and again.json()["error"]["code"] == "sold_out"
    assert _stock_left(contest) == 0
    assert sorted(_orders_in_packing_list(contest)) == sorted(r.json()["order_id"] for r in first_wave
                                                             if r.status_code == 201)


def test_each_winner_sees_exactly_its_own_order(first_wave, contest):
    for req, resp in zip(contest["requests"], first_wave):
        mine = requests.get(f"{contest['base']}/api/orders/mine", timeout=30,
                            headers={"Authorization": f"Bearer {req['token']}"}).json()["orders"]
        in_round = [o["order_id"] for o in mine if o["round_id"] == contest["round"]["round_id"]]
        assert in_round == ([resp.json()["order_id"]] if resp.status_code == 201 else [])
