"""What the API tests share: calling the app, registering households, placing orders, and
setting up extra sub-districts, communities and rounds through the domain modules.

Test bodies stay about the rule they check; the plumbing lives here.
"""
import contextlib
import json
import uuid
from datetime import datetime, timedelta

from api import auth, bootstrap, clock, communities, models, rounds
from api.models import Household, Order

JSON = {"content-type": "application/json"}

# Two small bundles for rounds made in tests: stock and limits low enough to hit.
SMALL_BUNDLES = [
    {"name": "大米套餐", "price_fen": 5000, "stock": 3, "per_household_limit": 5,
     "items": [{"name": "大米", "qty": "5", "unit": "kg"}]},
    {"name": "鸡蛋套餐", "price_fen": 2350, "stock": 10, "per_household_limit": 5,
     "items": [{"name": "鸡蛋", "qty": "30", "unit": "枚"}]},
]


# --- HTTP -------------------------------------------------------------------

def auth_headers(token: str | None = None, **extra: str) -> dict:
    headers = dict(JSON)
    if token:
        headers["authorization"] = f"Bearer {token}"
    headers.update({name.replace("_", "-"): value for name, value in extra.items()})
    return headers


def get(client, path: str, token: str | None = None, **headers: str):
    return client.http.get(path, headers=auth_headers(token, **headers))


def post(client, path: str, body, token: str | None = None, **headers: str):
    """POST `body` as JSON; a `str` or `bytes` body is sent as is (for malformed bodies)."""
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.http.post(path, headers=auth_headers(token, **headers), body=raw)


def put(client, path: str, body, token: str | None = None, **headers: str):
    return client.http.put(path, headers=auth_headers(token, **headers), body=json.dumps(body))


def patch(client, path: str, body, token: str | None = None, **headers: str):
    return client.http.patch(path, headers=auth_headers(token, **headers), body=json.dumps(body))


def error_of(response, status: int, code: str) -> dict:
    """The `error` object of a refusal, after checking its status, code and both messages."""
    assert response.status_code == status, response.body
    error = response.json_body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"].strip()
    assert isinstance(error["message_en"], str) and error["message_en"].strip()
    assert error["message"] != error["message_en"]
    return error


@contextlib.contextmanager
def writes():
    """The items the app writes inside the block, as their PK prefixes: ["INVITE", "STAFF"].

    Counted from the successful write calls on the app's own DynamoDB client (a refused
    conditional write or transaction counts as nothing). Items whose keys can't be listed
    without a Scan (invites, staff) can still be shown not to have been written.
    """
    written: list[str] = []

    def pk_prefix(item_or_key: dict) -> str:
        return item_or_key["PK"]["S"].split("#", 1)[0]

    def remember(params, context, **kwargs):
        context["test_writes_body"] = params["body"]

    def record(http_response, model, context, **kwargs):
        if http_response.status_code >= 300:
            return
        params = json.loads(context.get("test_writes_body") or b"{}")
        if model.name == "PutItem":
            written.append(pk_prefix(params["Item"]))
        elif model.name in ("UpdateItem", "DeleteItem"):
            written.append(pk_prefix(params["Key"]))
        elif model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                for action in ("Put", "Update", "Delete"):
                    if action in entry:
                        written.append(pk_prefix(entry[action].get("Item") or entry[action]["Key"]))
        elif model.name == "BatchWriteItem":
            written.extend("BATCH" for _ in params["RequestItems"])

    events = models.dynamodb_client().meta.events
    events.register("before-call.dynamodb", remember, unique_id="test-writes-body")
    events.register("after-call.dynamodb", record, unique_id="test-writes")
    try:
        yield written
    finally:
        events.unregister("after-call.dynamodb", unique_id="test-writes")
        events.unregister("before-call.dynamodb", unique_id="test-writes-body")

# --- households -------------------------------------------------------------

def register(client, join_key: str, building: str = "1栋", room: str = "101", phone: str = "13812341234",
             unit: str = "", name: str = "") -> dict:
    """Register a flat through the join route; returns the 201 body (household_id, token, ...)."""
    body = {"building": building, "room": room, "phone": phone}
    if unit:
        body["unit"] = unit
    if name:
        body["name"] = name
    response = post(client, f"/api/join/{join_key}/households", body)
    assert response.status_code == 201, response.body
    return response.json_body


def approve(client, member_token: str, member_id: str) -> dict:
    """A member approves a pending phone of their flat; returns the household view."""
    response = post(client, f"/api/households/mine/members/{member_id}/approve", {}, member_token)
    assert response.status_code == 200, response.body
    return response.json_body


def family_phone(client, join_key: str, member_token: str, **flat) -> dict:
    """Another phone of a registered flat, registered and then approved by a member: the 201 body."""
    body = register(client, join_key, **flat)
    assert body["membership"] == "pending"
    approve(client, member_token, body["member_id"])
    return body


def households_in(community_id: str) -> list[Household]:
    return list(Household.query(f"COMMUNITY#{community_id}", Household.sk.startswith("HOUSEHOLD#"),
                                consistent_read=True))


# --- orders -----------------------------------------------------------------

def new_key() -> str:
    """A fresh Idempotency-Key, as a phone's outbox would make one."""
    return f"test-{uuid.uuid4().hex}"


def order_body(round_id: str, *lines: tuple[str, int]) -> dict:
    return {"round_id": round_id, "lines": [{"bundle_id": b, "qty": q} for b, q in lines]}


def place_order(client, token: str, round_id: str, *lines: tuple[str, int], key: str | None = None):
    """POST /api/orders with `lines` as (bundle_id, qty) pairs, under `key` or a fresh one."""
    return post(client, "/api/orders", order_body(round_id, *lines), token,
                idempotency_key=key or new_key())


def orders_in(round_id: str) -> list[Order]:
    return list(Order.query(f"ROUND#{round_id}", Order.sk.startswith("ORDER#"), consistent_read=True))


def stock_left(round_id: str) -> dict[str, int]:
    """bundle_id → stock_left, read straight from the table."""
    _, bundles = rounds.load(round_id)
    return {b.bundle_id: int(b.stock_left) for b in bundles}


def fair_share_off(community_id: str) -> None:
    """Let a household order more than once per few days (the community setting 0), for tests of
    what happens across several orders of one household."""
    communities.settings(communities.get(community_id), {"fair_share_days": 0})


# --- places and rounds --------------------------------------------------------

def create_sub_district(name: str = "另一个街道") -> dict:
    """A second sub-district with its own admin: {sub_district_id, token}."""
    return bootstrap.first_admin(name)


def create_community(sub_district_id: str, name: str = "和平里小区") -> dict:
    """A community laid out like the demo one: {community_id, join_key}."""
    community = communities.create(sub_district_id, name, bootstrap.DEMO_BUILDINGS,
                                   {"name": "南门配送点", "note": ""})
    return {"community_id": community.community_id, "join_key": community.join_key}


def create_supplier(sub_district_id: str, name: str = "另一家超市") -> dict:
    """A supplier with a staff token: {supplier_id, token}."""
    supplier = bootstrap.create_supplier(sub_district_id, name, "13900000000")
    return {"supplier_id": supplier.supplier_id, "token": bootstrap.create_staff("supplier", supplier.supplier_id)}


def create_round(supplier_token: str, community_ids: list[str], bundles: list[dict] | None = None, *,
                 opens_at: datetime | None = None, closes_at: datetime | None = None) -> dict:
    """A round made through api.rounds (not HTTP): {round_id, bundle_ids, opens_at, closes_at}.

    By default it opened an hour ago and closes in two days.
    """
    now = clock.now()
    opens_at = opens_at or now - timedelta(hours=1)
    closes_at = closes_at or now + timedelta(days=2)
    created = rounds.create(auth.from_headers({"authorization": f"Bearer {supplier_token}"}), {
        "name": "测试团购", "community_ids": community_ids, "supplier_id": None,
        "opens_at": opens_at, "closes_at": closes_at, "payment_deadline": closes_at + timedelta(hours=6),
        "payment_qr": "wxp://test-payment-code", "bundles": bundles or SMALL_BUNDLES,
    })
    return {"round_id": created["round_id"], "bundle_ids": [b["bundle_id"] for b in created["bundles"]],
            "opens_at": opens_at, "closes_at": closes_at}


def round_body(community_id: str, **overrides) -> dict:
    """A valid POST /api/rounds body (open now, closing tomorrow); `overrides` replace fields."""
    now = clock.now()
    body = {
        "name": "第2期 保供团购",
        "community_ids": [community_id],
        "opens_at": clock.iso(now - timedelta(minutes=5)),
        "closes_at": clock.iso(now + timedelta(days=1)),
        "payment_deadline": clock.iso(now + timedelta(days=1, hours=6)),
        "payment_qr": "wxp://f2f0-test-payment-code",
        "bundles": [{"name": "蔬菜包", "price_fen": 3990, "stock": 50, "per_household_limit": 2,
                     "items": [{"name": "白菜", "qty": "1", "unit": "颗"}, {"name": "土豆", "qty": "2", "unit": "kg"}]}],
    }
    body.update(overrides)
    return body
