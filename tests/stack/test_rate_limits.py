"""On a `make dev` stack of its own, started as a newcomer would (no settings: the limits of prod), over HTTP:
one household hammering one write is stopped with 429 and Retry-After, its count is in the stack's table, and a
key-guessing caller is stopped at the join route. (The shared stack of the other tests has its limits raised.)"""
import math
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import requests

from tests.stackrunner import DevStack

HOUSEHOLD_WRITES, WINDOW = 30, 600  # api/config.py's defaults
JOIN_MISSES = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with DevStack(tmp_path_factory.mktemp("limits-stack")) as started:
        yield started


def _post(url, token=None, **kwargs):
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url, headers=headers, timeout=60, **kwargs)


def _window() -> int:
    return int(time.time() // WINDOW)


def _counter(info: dict, household_id: str, window: int) -> dict | None:
    dynamodb = boto3.client("dynamodb", endpoint_url=info["moto_url"], region_name="cn-north-1",
                            aws_access_key_id="local", aws_secret_access_key="local")
    return dynamodb.get_item(TableName="baogong-local", ConsistentRead=True, Key={
        "PK": {"S": f"LIMIT#household_writes#{household_id}#{window * WINDOW}"}, "SK": {"S": "LIMIT"}}).get("Item")


@pytest.mark.stack
def test_make_dev__runs_with_the_limits_on(stack):
    assert "Rate limits on, as in prod" in stack.output()


@pytest.mark.stack
def test_one_household_hammering_an_order__is_429_with_retry_after_after_30_writes(stack):
    info = stack.info
    base = info["base_url"]
    now = datetime.now(timezone.utc)
    created = _post(f"{base}/api/rounds", info["tokens"]["supplier"], json={
        "name": "限流", "community_ids": [info["community_id"]],
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat(),
        "payment_deadline": (now + timedelta(days=1, hours=1)).isoformat(), "payment_qr": "wxp://limits",
        "bundles": [{"name": "鸡蛋", "items": [{"name": "鸡蛋", "qty": "30", "unit": "枚"}], "price": "23.50",
                     "stock": 100, "per_household_limit": 1}]})
    assert created.status_code == 201, created.text
    round_id, bundle_id = created.json()["round_id"], created.json()["bundles"][0]["bundle_id"]

    for room in ("1515", "1516"):  # a second flat only if a window boundary fell inside the first run
        joined = _post(f"{base}/api/join/{info['join_key']}/households",
                       json={"building": "1栋", "room": room, "phone": f"1370000{room}"})
        assert joined.status_code == 201, joined.text
        household = joined.json()
        window = _window()
        answers = [_post(f"{base}/api/orders", household["token"],
                         json={"round_id": round_id, "lines": [{"bundle_id": bundle_id, "qty": 1}]})
                   for _ in range(HOUSEHOLD_WRITES + 1)]
        if _window() == window:
            break
    else:
        pytest.fail("two window boundaries in two runs")

    statuses = [a.status_code for a in answers]
    assert statuses[0] == 201 and 429 not in statuses[:HOUSEHOLD_WRITES], statuses  # the rest: fair share, 422
    refused = answers[HOUSEHOLD_WRITES]
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "too_many_requests" and error["message"] and error["message_en"]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= math.ceil((window + 1) * WINDOW - time.time()) + 1
    counter = _counter(info, household["household_id"], window)
    assert counter["n"] == {"N": str(HOUSEHOLD_WRITES)}
    assert int(counter["expires_at"]["N"]) == (window + 2) * WINDOW
    mine = requests.get(f"{base}/api/orders/mine", headers={"Authorization": f"Bearer {household['token']}"},
                        timeout=60)
    assert mine.status_code == 200 and len(mine.json()["orders"]) == 1  # reads are not limited


@pytest.mark.stack
def test_a_key_guessing_caller__is_429_at_the_join_route_after_20_wrong_keys(stack):
    base = stack.info["base_url"]
    for _ in range(2):  # again only if a window boundary fell inside the first run (the count starts again)
        window = _window()
        misses = [requests.get(f"{base}/api/join/guess{i:010d}", timeout=60).status_code for i in range(JOIN_MISSES)]
        right_key = requests.get(f"{base}/api/join/{stack.info['join_key']}", timeout=60)
        if _window() == window:
            break
    assert misses == [404] * JOIN_MISSES
    assert right_key.status_code == 429, right_key.text
    assert right_key.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(right_key.headers["Retry-After"]) <= WINDOW
