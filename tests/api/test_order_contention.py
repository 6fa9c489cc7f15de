"""DynamoDB's TransactionConflict, which moto (serial) never produces, injected through botocore's
own `before-call` short-circuit: a handler that returns (http, parsed) stands in for DynamoDB's
answer to that one call, and every other call still goes to moto."""
import json
import types
import uuid

import pytest

from api import models, order_state
from tests.api.helpers import register, stock_left


def _conflict(operation_items: int):
    reasons = [{"Code": "None"}] * operation_items
    reasons[-2] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    return (types.SimpleNamespace(status_code=400, headers={}),
            {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
             "CancellationReasons": reasons, "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}})


@pytest.fixture
def conflicts(table, monkeypatch):
    """conflicts(n): the next n TransactWriteItems are cancelled with TransactionConflict."""
    monkeypatch.setattr(order_state, "_BACKOFF_SECONDS", 0)  # the pauses are not what is tested
    state = {"left": 0, "sent": 0}

    def answer(model, params, **kwargs):
        state["sent"] += 1
        if state["left"]:
            state["left"] -= 1
            return _conflict(len(json.loads(params["body"])["TransactItems"]))
        return None

    client = models.dynamodb_client()
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", answer, unique_id="conflicts")
    yield lambda n: state.update(left=n, sent=0) or state
    client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="conflicts")


def _order(client, demo, token):
    body = {"round_id": demo["round_id"], "lines": [{"bundle_id": demo["bundle_ids"][0], "qty": 1}]}
    return client.http.post("/api/orders", body=json.dumps(body), headers={
        "authorization": f"Bearer {token}", "content-type": "application/json", "idempotency-key": str(uuid.uuid4())})


def test_order__transaction_conflict__is_retried_and_placed_once(client, demo, conflicts):
    token = register(client, demo["join_key"])["token"]
    before = stock_left(demo["round_id"])[demo["bundle_ids"][0]]
    state = conflicts(2)
    response = _order(client, demo, token)
    assert response.status_code == 201
    assert state["sent"] == 3  # two conflicts, then the one that landed
    assert stock_left(demo["round_id"])[demo["bundle_ids"][0]] == before - 1


def test_order__conflict_that_persists__is_503_with_retry_after_and_writes_nothing(client, demo, conflicts):
    token = register(client, demo["join_key"])["token"]
    before = stock_left(demo["round_id"])[demo["bundle_ids"][0]]
    state = conflicts(100)
    response = _order(client, demo, token)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    error = response.json_body["error"]
    assert error["code"] == "storage_busy" and error["message"] and error["message_en"]
    assert state["sent"] == order_state.ATTEMPTS
    assert stock_left(demo["round_id"])[demo["bundle_ids"][0]] == before


def test_cancel__transaction_conflict__is_retried_and_stock_returns_once(client, demo, conflicts):
    token = register(client, demo["join_key"])["token"]
    before = stock_left(demo["round_id"])[demo["bundle_ids"][0]]
    order = _order(client, demo, token).json_body
    state = conflicts(1)
    response = client.http.post(f"/api/orders/{order['order_id']}/cancel", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json_body["status"] == "cancelled"
    assert state["sent"] == 2
    assert stock_left(demo["round_id"])[demo["bundle_ids"][0]] == before
