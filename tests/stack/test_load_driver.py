"""`make load`'s driver (bench/load.py): a small surge on its own `make dev` stack holds every invariant,
and its table checks do fail on a table that breaks one.

The small run is the real driver in a process of its own (so no moto mock of this session can stand
between it and the stack's moto): 60 households for 20 units of A and 8 of B, 20 residents in flight,
with more cancels, double taps and dropped answers than `make load` uses, so each path is taken.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import load

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.stack
def test_load__small_surge__holds_every_invariant_in_the_table(tmp_path):
    report = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--households", "60", "--stock", "20", "--stock-b", "8",
         "--concurrency", "20", "--seed", "7", "--json", str(report),
         "--set", "p_cancel=0.5", "--set", "p_double_tap=0.3", "--set", "p_drop_answer=0.3",
         "--set", "p_late_replay=0.3", "--set", "p_flaky=0.1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    result = json.loads(report.read_text())
    failed = [i for i in result["invariants"] if not i["passed"]]
    assert not failed, failed
    assert {i["name"] for i in result["invariants"]} >= {
        "oversold", "stock_left = stock - live units", "lost", "duplicated", "phantom", "pickup codes unique",
        "statuses agree", "household quotas = live units", "no 500 answers"}
    summary = result["summary"]
    # The surge really raced for stock and took the mixed-in paths.
    assert summary["sold_out"] > 0
    assert summary["placed"] >= 20
    assert result["table"]["by_status"].get("cancelled", 0) > 0
    assert summary["events"].get("double taps (same key twice at once)", 0) > 0
    assert summary["events"].get("2xx answers dropped by the client, asked again with the same key", 0) > 0
    assert "ALL INVARIANTS PASS" in done.stdout


# --- the checks themselves, on hand-made tables ------------------------------------------------------

A, B = "BUNDLE_A", "BUNDLE_B"
ROUND = "ROUND1"


def _order(n: int, household: str, status="placed", bundles=(A,), code=None) -> dict:
    return {"SK": f"ORDER#C#FLAT{household}#O{n}", "order_id": f"O{n}", "household_id": household,
            "status": status, "pickup_code": code or f"{100000 + n}",
            "lines": [{"bundle_id": b, "qty": 1} for b in bundles]}


def _world(orders: list, stock=(2, 1)):
    """A table and the clients' ledger that agree: one household and one key per order."""
    households, idempotency = [], {}
    for o in orders:
        h = load.Household(int(o["household_id"][1:]), {}, "")
        h.household_id, h.member_id = o["household_id"], f"M{o['household_id']}"
        use = load.KeyUse(key=f"key-{o['order_id']}", body={}, order_ids={o["order_id"]}, outcome="placed")
        h.keys.append(use)
        h.last_status[o["order_id"]] = o["status"]
        households.append(h)
        idempotency[f"IDEMPOTENCY#{h.member_id}#{use.key}"] = {"result_sk": o["SK"]}
    live = [o for o in orders if o["status"] not in load.LIVE_EXCLUDED]
    bundles = {b: {"bundle_id": b, "stock_total": total,
                   "stock_left": total - sum(load._units(o, b) for o in live)} for b, total in zip((A, B), stock)}
    quotas = {(f"HOUSEHOLD#{o['household_id']}", f"QUOTA#{ROUND}#{line['bundle_id']}"): {"qty": 1}
              for o in live for line in o["lines"]}
    table = {"bundles": bundles, "orders": orders, "idempotency": idempotency, "quotas": quotas,
             "codes": [{"PK": f"PICKUP#{ROUND}#{o['pickup_code']}", "order_id": o["order_id"]} for o in orders]}
    return table, households


def _verdicts(table, households) -> dict:
    return {name: passed for name, passed, _ in load.check(table, households, {"A": A, "B": B}, ROUND)}


def test_check__agreeing_table__passes_everything():
    table, households = _world([_order(1, "H1", bundles=(A, B)), _order(2, "H2"), _order(3, "H3", "cancelled")])
    assert all(_verdicts(table, households).values())


def test_check__more_live_units_than_stock__is_oversold():
    table, households = _world([_order(1, "H1"), _order(2, "H2"), _order(3, "H3")])  # 3 of A, stock 2
    verdicts = _verdicts(table, households)
    assert verdicts["oversold"] is False


def test_check__stock_left_not_matching_live_orders__fails():
    table, households = _world([_order(1, "H1"), _order(2, "H2", "cancelled")])
    table["bundles"][A]["stock_left"] = 0  # the cancel's unit never came back
    verdicts = _verdicts(table, households)
    assert verdicts["stock_left = stock - live units"] is False
    assert verdicts["oversold"] is True


def test_check__order_a_client_was_given_but_not_in_the_table__is_lost():
    table, households = _world([_order(1, "H1"), _order(2, "H2")])
    table["orders"] = table["orders"][:1]
    assert _verdicts(table, households)["lost"] is False


def test_check__second_order_under_no_client_key__is_duplicated():
    table, households = _world([_order(1, "H1")])
    table["orders"].append(_order(9, "H1"))  # same household, made by no key: a double-placed retry
    table["codes"].append({"PK": f"PICKUP#{ROUND}#100009", "order_id": "O9"})
    verdicts = _verdicts(table, households)
    assert verdicts["duplicated"] is False


def test_check__key_answered_with_two_orders__is_duplicated():
    table, households = _world([_order(1, "H1")])
    households[0].keys[0].order_ids.add("O7")
    assert _verdicts(table, households)["duplicated"] is False


def test_check__order_under_a_refused_key__is_phantom():
    table, households = _world([_order(1, "H1")])
    households[0].keys[0].order_ids.clear()
    households[0].keys[0].outcome = "refused:422:sold_out"
    assert _verdicts(table, households)["phantom"] is False


def test_check__two_orders_with_one_pickup_code__fail():
    table, households = _world([_order(1, "H1", code="123456"), _order(2, "H2", code="123456")])
    assert _verdicts(table, households)["pickup codes unique"] is False


def test_check__status_other_than_the_client_saw__fails():
    table, households = _world([_order(1, "H1")])
    households[0].last_status["O1"] = "cancelled"
    assert _verdicts(table, households)["statuses agree"] is False


def test_check__quota_not_given_back__fails():
    table, households = _world([_order(1, "H1"), _order(2, "H2", "cancelled")])
    table["quotas"][("HOUSEHOLD#H2", f"QUOTA#{ROUND}#{A}")] = {"qty": 1}
    assert _verdicts(table, households)["household quotas = live units"] is False
