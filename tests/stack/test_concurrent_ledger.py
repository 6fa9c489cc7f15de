"""On the running `make dev`: 30 distributions of 10 sent at once against a balance of 100 (a crowded
distribution point, two phones, a queue replayed). Exactly 10 go through, the other 20 are refused
with 422, the balance ends at 0 and no line's balance_after is ever below zero.

The balance comes the way it does in life: the admin orders an allocation for the demo community and
walks it to `received`, which writes the receive line. Each test uses a category and unit of its own,
so the two balances never meet.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

PARALLEL = 30
EACH = 10


def _call(method, url, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)


def _received(info, category, unit, quantity) -> dict:
    """An allocation of `quantity` to the demo community, walked by the admin to `received`."""
    base, admin = info["base_url"], info["tokens"]["admin"]
    created = _call("POST", f"{base}/api/allocations", admin, json={
        "category": category, "quantity": quantity, "unit": unit, "spec": "并发测试", "unit_price": "10.00",
        "source": "supplier", "supplier_id": info["supplier_id"], "community_id": info["community_id"],
        "deliver_at": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat(),
        "contact_name": "李经理", "contact_phone": "13912345678"})
    assert created.status_code == 201, created.text
    allocation = created.json()
    for step in ("allocated", "dispatched", "received"):
        moved = _call("POST", f"{base}/api/allocations/{allocation['allocation_id']}/advance", admin,
                      json={"to": step})
        assert moved.status_code == 200, moved.text
        allocation = moved.json()
    return allocation


def _ledger(info, category, unit) -> dict:
    response = _call("GET", f"{info['base_url']}/api/communities/{info['community_id']}/ledger"
                            f"?category={category}&unit={unit}", info["tokens"]["liaison"])
    assert response.status_code == 200, response.text
    return response.json()


def _balance(ledger: dict) -> int:
    [row] = ledger["balances"]
    return row["balance"]


def _race(info, allocation_id) -> list[requests.Response]:
    """PARALLEL distributions of EACH, released together."""
    start = threading.Barrier(PARALLEL)
    url = f"{info['base_url']}/api/communities/{info['community_id']}/ledger/distribute"

    def hand_out(n):
        start.wait()
        return _call("POST", url, info["tokens"]["liaison"], json={
            "allocation_id": allocation_id, "quantity": EACH, "to": {"kind": "households", "text": f"第{n}批"}})

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(hand_out, range(PARALLEL)))


def _check_lines(ledger: dict, start: int) -> None:
    """The distribute lines: EACH each, balance_after stepping down by EACH from `start` to 0, none below."""
    out = [line for line in ledger["lines"] if line["kind"] == "distribute"]
    assert len(out) == start // EACH
    assert all(line["quantity"] == -EACH for line in out)
    assert sorted(line["balance_after"] for line in out) == list(range(0, start, EACH))
    assert all(line["balance_after"] >= 0 for line in ledger["lines"])


@pytest.mark.stack
def test_30_parallel_distributions_of_10_against_100__exactly_10_succeed_and_the_balance_ends_at_0(dev_stack):
    info = dev_stack.info
    allocation = _received(info, "water", "箱", 100)
    assert _balance(_ledger(info, "water", "箱")) == 100

    answers = _race(info, allocation["allocation_id"])
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 10 and codes.count(422) == 20, [a.text for a in answers if a.status_code >= 500]
    # Refused because nothing is left: of the balance, or (the same goods) of the allocation.
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 422} <= {"insufficient_balance",
                                                                                     "over_allocation"}
    assert sorted(a.json()["balance_after"] for a in answers if a.status_code == 201) == list(range(0, 100, 10))

    ledger = _ledger(info, "water", "箱")
    assert _balance(ledger) == 0
    _check_lines(ledger, 100)
    # All of it was handed out, so supply can end.
    done = _call("POST", f"{info['base_url']}/api/allocations/{allocation['allocation_id']}/advance",
                 info["tokens"]["liaison"], json={"to": "distributed"})
    assert done.status_code == 200, done.text


@pytest.mark.stack
def test_30_parallel_distributions_of_10_against_a_balance_of_100_below_the_allocation__20_insufficient_balance(
        dev_stack):
    """The allocation has 200 left but the balance is 100 (100 written off at the stock-take): only the
    balance's condition holds the race, and every refusal is insufficient_balance."""
    info = dev_stack.info
    allocation = _received(info, "protective", "件", 200)
    [received] = _ledger(info, "protective", "件")["lines"]
    written_off = _call("POST", f"{info['base_url']}/api/communities/{info['community_id']}/ledger/"
                                f"{received['line_id']}/correct", info["tokens"]["liaison"],
                        json={"quantity_delta": -100, "reason": "受潮报损 written off"})
    assert written_off.status_code == 201, written_off.text
    assert _balance(_ledger(info, "protective", "件")) == 100

    answers = _race(info, allocation["allocation_id"])
    codes = [a.status_code for a in answers]
    assert codes.count(201) == 10 and codes.count(422) == 20, [a.text for a in answers if a.status_code >= 500]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 422} == {"insufficient_balance"}

    ledger = _ledger(info, "protective", "件")
    assert _balance(ledger) == 0
    _check_lines(ledger, 100)
