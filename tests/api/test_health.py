"""GET /api/health (anyone, no storage call) and GET /api/health/deep (staff: the table is reachable, else 503)."""
import pytest

from api import models
from tests.api.helpers import error_of, get, register


def test_health__anyone__gets_ok_true(client):
    response = client.http.get("/api/health")

    assert response.status_code == 200
    assert response.json_body == {"ok": True}


def test_health__needs_no_token_and_ignores_a_bad_one(client):
    response = client.http.get("/api/health", headers={"authorization": "Bearer garbage"})

    assert response.status_code == 200
    assert response.json_body == {"ok": True}


def dynamodb_calls():
    calls = []
    client = models.dynamodb_client()
    client.meta.events.register("before-call.dynamodb", lambda model, **kw: calls.append(model.name),
                                unique_id="health-calls")
    return calls, lambda: client.meta.events.unregister("before-call.dynamodb", unique_id="health-calls")


def test_health__stays_cheap_it_calls_no_storage(client):
    calls, done = dynamodb_calls()
    try:
        assert client.http.get("/api/health").status_code == 200
    finally:
        done()

    assert calls == []


@pytest.mark.parametrize("role", ["admin", "liaison", "info_officer", "volunteer", "supplier"])
def test_deep_health__staff__gets_ok_with_the_table_checked(client, demo, role):
    response = get(client, "/api/health/deep", demo["tokens"][role])

    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["ok"] is True
    assert body["checks"]["table"]["ok"] is True and body["checks"]["table"]["ms"] >= 0


def test_deep_health__reads_one_item_by_key_and_nothing_else(client, demo):
    calls, done = dynamodb_calls()
    try:
        response = get(client, "/api/health/deep", demo["tokens"]["admin"])
    finally:
        done()

    assert response.status_code == 200
    assert calls == ["GetItem"]


def test_deep_health__table_gone__is_503_naming_the_check(client, demo):
    token = demo["tokens"]["liaison"]
    models.Item.delete_table()
    try:
        response = get(client, "/api/health/deep", token)
    finally:
        models.create_table()  # the fixture deletes it again afterwards

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    body = response.json_body
    assert body["ok"] is False
    assert body["checks"]["table"] == {"ok": False, "error": "ResourceNotFoundException"}
    assert body["error"]["code"] == "table_unreachable"
    assert body["error"]["message"] and body["error"]["message_en"]


def test_deep_health__no_token_is_401_and_a_resident_is_403(client, demo):
    resident = register(client, demo["join_key"])

    error_of(get(client, "/api/health/deep"), 401, "unauthorized")
    error_of(get(client, "/api/health/deep", resident["token"]), 403, "wrong_role")


def test_deep_health__is_documented_as_staff_only(client):
    spec = client.http.get("/api/openapi.json").json_body

    assert "security" not in spec["paths"]["/api/health"]["get"]
    deep = spec["paths"]["/api/health/deep"]["get"]
    assert deep["security"] == [{"bearer": []}]
    assert {"200", "401", "403", "503"} <= set(deep["responses"])
