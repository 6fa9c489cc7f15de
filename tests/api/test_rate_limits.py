"""Rate limits (429 with Retry-After, counters in the table with TTL) and body caps (413), through the
Chalice test client (api/limits.py).

Limits are off in process (tests/conftest.py); `limits_on` turns them on with small numbers, after a test's
households are registered. The clock stands a few seconds into a fresh window (time-machine, not ticking),
so Retry-After is known to the second. The caller's IP is what Chalice's local gateway puts in
`requestContext.identity.sourceIp`; `from_ip` changes it.
"""
import contextlib
import json
import types
from datetime import datetime, timezone

import pytest
import time_machine
from chalice.local import LambdaEventConverter

from api import clock, config, limits, models
from api.models import RateCounter
from tests.api.helpers import (
    error_of, fair_share_off, get, new_key, order_body, orders_in, place_order, post, register, round_body, writes,
)

WINDOW = 60
SMALL = {"ip_writes": (5, WINDOW), "household_writes": (3, WINDOW), "staff_writes": (4, WINDOW),
         "join": (6, WINDOW)}
INTO_WINDOW = 5  # seconds past the window's start where each test stands


@pytest.fixture
def now():
    """The frozen time: 5 s into a fresh 60 s window, a few minutes from the real now (tokens stay valid)."""
    real = clock.now().timestamp()
    start = (int(real // WINDOW) + 3) * WINDOW
    with time_machine.travel(datetime.fromtimestamp(start + INTO_WINDOW, timezone.utc), tick=False) as traveller:
        yield traveller


@pytest.fixture
def limits_on(monkeypatch):
    """limits_on(**overrides): the rate limits on, with SMALL's numbers (and 2 join misses) unless overridden."""
    def turn_on(join_misses: int = 2, **overrides):
        monkeypatch.setattr(config, "RATE_LIMITS", True)
        monkeypatch.setattr(config, "LIMITS", {**SMALL, **overrides})
        monkeypatch.setattr(config, "JOIN_MISSES", join_misses)
    return turn_on


@contextlib.contextmanager
def from_ip(ip: str):
    original = LambdaEventConverter.LOCAL_SOURCE_IP
    LambdaEventConverter.LOCAL_SOURCE_IP = ip
    try:
        yield
    finally:
        LambdaEventConverter.LOCAL_SOURCE_IP = original


def egg_order(client, demo, token):
    return place_order(client, token, demo["round_id"], (demo["bundle_ids"][1], 1))


def five_orders(client, demo, token) -> list[int]:
    """Five orders one flat may place as far as the round goes (vegetables: 3 a flat, rice: 2): their statuses."""
    return [place_order(client, token, demo["round_id"], (demo["bundle_ids"][b], 1)).status_code
            for b in (1, 1, 1, 0, 0)]


def flats(client, demo, n: int) -> list[dict]:
    fair_share_off(demo["community_id"])
    return [register(client, demo["join_key"], room=f"{101 + i}", phone=f"1380000{101 + i:04d}") for i in range(n)]


def window_end() -> int:
    return int(clock.now().timestamp()) - INTO_WINDOW + WINDOW


def too_many(response, retry_after: int = WINDOW - INTO_WINDOW) -> dict:
    error = error_of(response, 429, "too_many_requests")
    assert response.headers["Retry-After"] == str(retry_after)
    return error


# --- per household ---------------------------------------------------------------------------------

def test_household__the_4th_write_in_a_window__is_429_with_retry_after_and_writes_nothing(client, demo, limits_on, now):
    [flat] = flats(client, demo, 1)
    limits_on()
    for _ in range(3):
        assert egg_order(client, demo, flat["token"]).status_code == 201

    with writes() as written:
        refused = egg_order(client, demo, flat["token"])

    error = too_many(refused)
    assert "55" in error["message"] and "55 seconds" in error["message_en"]
    assert written == []
    assert len(orders_in(demo["round_id"])) == 3


def test_household__a_new_window__allows_again(client, demo, limits_on, now):
    [flat] = flats(client, demo, 1)
    limits_on()
    for _ in range(3):
        assert egg_order(client, demo, flat["token"]).status_code == 201
    too_many(egg_order(client, demo, flat["token"]))

    now.shift(WINDOW - INTO_WINDOW)  # the first second of the next window

    rice = place_order(client, flat["token"], demo["round_id"], (demo["bundle_ids"][0], 1))  # eggs: 3 a flat
    assert rice.status_code == 201, rice.json_body
    assert len(orders_in(demo["round_id"])) == 4


def test_household__its_limit_does_not_touch_its_neighbour(client, demo, limits_on, now):
    mine, neighbour = flats(client, demo, 2)
    limits_on()
    for _ in range(3):
        egg_order(client, demo, mine["token"])
    too_many(egg_order(client, demo, mine["token"]))

    assert egg_order(client, demo, neighbour["token"]).status_code == 201


def test_household__every_phone_of_the_flat_shares_its_count(client, demo, limits_on, now):
    fair_share_off(demo["community_id"])
    first = register(client, demo["join_key"], room="501", phone="13800000501")
    second = register(client, demo["join_key"], room="501", phone="13900000501")
    post(client, f"/api/households/mine/members/{second['member_id']}/approve", {}, first["token"])
    limits_on()
    for token in (first["token"], second["token"], first["token"]):
        assert egg_order(client, demo, token).status_code == 201

    too_many(egg_order(client, demo, second["token"]))


def test_household__the_same_key_retried__counts_each_time(client, demo, limits_on, now):
    """An outbox that resends one order is still one caller writing: each try counts (and 429 is retryable)."""
    [flat] = flats(client, demo, 1)
    limits_on()
    body, key = order_body(demo["round_id"], (demo["bundle_ids"][1], 1)), new_key()
    answers = [post(client, "/api/orders", body, flat["token"], idempotency_key=key).status_code for _ in range(4)]

    assert answers == [201, 200, 200, 429]
    assert len(orders_in(demo["round_id"])) == 1


# --- per IP ----------------------------------------------------------------------------------------

def test_ip__its_limit_spans_households(client, demo, limits_on, now):
    a, b, c = flats(client, demo, 3)
    limits_on()
    with from_ip("203.0.113.7"):
        answers = [egg_order(client, demo, flat["token"]).status_code for flat in (a, a, b, b, c)]
        refused = egg_order(client, demo, c["token"])  # c has written once: its household limit is 3
    assert answers == [201] * 5
    too_many(refused)
    with from_ip("198.51.100.9"):  # the same household from another network
        assert egg_order(client, demo, c["token"]).status_code == 201


def test_ip__x_forwarded_for__is_not_believed(client, demo, limits_on, now):
    flats_ = flats(client, demo, 3)
    limits_on(household_writes=(100, WINDOW))
    with from_ip("203.0.113.7"):
        for i in range(5):
            assert post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][1], 1)),
                        flats_[i % 3]["token"], idempotency_key=new_key(),
                        x_forwarded_for=f"10.0.0.{i}").status_code == 201
        refused = post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][1], 1)),
                       flats_[0]["token"], idempotency_key=new_key(), x_forwarded_for="10.9.9.9")
    too_many(refused)


def test_ip__behind_cloudfront__is_the_viewer_address_cloudfront_gives(client, demo, limits_on, now):
    """In a deployed stage every request comes through CloudFront: sourceIp is an edge server's address."""
    [flat] = flats(client, demo, 1)
    limits_on()
    with from_ip("54.222.1.1"):  # a CloudFront server
        for port in (40000, 40001):
            assert post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][1], 1)), flat["token"],
                        idempotency_key=new_key(), x_amz_cf_id="abc123==",
                        cloudfront_viewer_address=f"203.0.113.50:{port}").status_code == 201
        get(client, "/api/join/guess00000001", x_amz_cf_id="abc124==",
            cloudfront_viewer_address="2001:db8::7:40002")
    assert raw_counter("ip_writes", "203.0.113.50")["n"] == {"N": "2"}
    assert raw_counter("join", "2001:db8::7")["miss"] == {"N": "1"}
    assert raw_counter("ip_writes", "54.222.1.1") is None


def test_ip__behind_cloudfront_without_the_viewer_address__no_per_ip_count(client, demo, limits_on, now):
    """An edge's address would lump a district together: wrong keys from one phone must not lock out the rest."""
    [flat] = flats(client, demo, 1)
    limits_on()
    with from_ip("54.222.1.1"):
        misses = [get(client, f"/api/join/guess{i:08d}", x_amz_cf_id=f"cf{i}").status_code for i in range(5)]
        right = get(client, f"/api/join/{demo['join_key']}", x_amz_cf_id="cf-right")
        answers = [post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][1], 1)), flat["token"],
                        idempotency_key=new_key(), x_amz_cf_id=f"cf-order-{i}").status_code for i in range(3)]
    assert misses == [404] * 5 and right.status_code == 200
    assert answers == [201] * 3  # the household's limit still holds (3)...
    too_many(post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][0], 1)), flat["token"],
                  idempotency_key=new_key(), x_amz_cf_id="cf-last"))
    assert raw_counter("ip_writes", "54.222.1.1") is None and raw_counter("join", "54.222.1.1") is None


def test_ip__reads_are_not_counted(client, demo, limits_on, now):
    [flat] = flats(client, demo, 1)
    limits_on()
    for _ in range(10):
        assert get(client, "/api/orders/mine", flat["token"]).status_code == 200
    assert egg_order(client, demo, flat["token"]).status_code == 201


def test_ip__a_write_without_a_valid_token__counts_per_ip_only(client, demo, limits_on, now):
    limits_on()
    with from_ip("203.0.113.8"):
        answers = [post(client, "/api/orders", order_body(demo["round_id"], (demo["bundle_ids"][1], 1)), "forged",
                        idempotency_key=new_key()).status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]


# --- staff -----------------------------------------------------------------------------------------

def invite(client, demo, role: str = "liaison"):
    return post(client, "/api/invites", {"role": "volunteer", "scope_id": demo["community_id"]}, demo["tokens"][role])


def test_staff__counted_per_staff_member(client, demo, limits_on, now):
    limits_on(ip_writes=(100, WINDOW))
    assert [invite(client, demo).status_code for _ in range(4)] == [201] * 4
    too_many(invite(client, demo))

    other = invite(client, demo, "admin")  # another staff member, same IP
    assert other.status_code == 201, other.json_body


# --- join keys -------------------------------------------------------------------------------------

def test_join__wrong_keys_past_the_miss_limit__refuse_even_the_right_key_from_that_ip(client, demo, limits_on, now):
    limits_on()
    with from_ip("203.0.113.20"):
        misses = [get(client, f"/api/join/guess{i:08d}").status_code for i in range(2)]
        refused = get(client, f"/api/join/{demo['join_key']}")
        refused_post = post(client, f"/api/join/{demo['join_key']}/households",
                            {"building": "1栋", "room": "909", "phone": "13812340909"})
    assert misses == [404, 404]
    too_many(refused)
    too_many(refused_post)
    with from_ip("198.51.100.20"):
        assert get(client, f"/api/join/{demo['join_key']}").status_code == 200


def test_join__wrong_keys_on_the_registration_route__count_as_misses(client, demo, limits_on, now):
    limits_on()
    body = {"building": "1栋", "room": "909", "phone": "13812340909"}
    with from_ip("203.0.113.21"):
        misses = [post(client, f"/api/join/guess{i:08d}/households", body).status_code for i in range(2)]
        refused = get(client, f"/api/join/{demo['join_key']}")
    assert misses == [404, 404]
    too_many(refused)


def test_join__attempts_past_the_limit__are_429_even_with_the_right_key(client, demo, limits_on, now):
    limits_on(join_misses=100)
    with from_ip("203.0.113.22"):
        answers = [get(client, f"/api/join/{demo['join_key']}").status_code for _ in range(6)]
        with writes() as written:
            refused = post(client, f"/api/join/{demo['join_key']}/households",
                           {"building": "1栋", "room": "910", "phone": "13812340910"})
    assert answers == [200] * 6
    too_many(refused)
    assert written == []


# --- the counters in the table ---------------------------------------------------------------------

def raw_counter(limit: str, caller: str) -> dict:
    start = window_end() - WINDOW
    return models.dynamodb_client().get_item(TableName=config.TABLE_NAME, ConsistentRead=True, Key={
        "PK": {"S": limits.counter_key(limit, caller, start)}, "SK": {"S": "LIMIT"}}).get("Item")


def test_counters__are_items_in_the_table_with_the_ttl_attribute_set(client, demo, limits_on, now):
    [flat] = flats(client, demo, 1)
    limits_on()
    with from_ip("203.0.113.30"):
        for _ in range(2):
            egg_order(client, demo, flat["token"])
        get(client, "/api/join/guess00000000")

    household = raw_counter("household_writes", flat["household_id"])
    ip = raw_counter("ip_writes", "203.0.113.30")
    join = raw_counter("join", "203.0.113.30")
    assert household["n"] == {"N": "2"} and ip["n"] == {"N": "2"}
    assert join["n"] == {"N": "1"} and join["miss"] == {"N": "1"}
    ttl = models.dynamodb_client().describe_time_to_live(TableName=config.TABLE_NAME)["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expires_at"
    for item in (household, ip, join):
        assert int(item["expires_at"]["N"]) == window_end() + WINDOW  # one window past its end
        assert item["kind"] == {"S": "RateCounter"}
    counter = RateCounter.get(limits.counter_key("household_writes", flat["household_id"], window_end() - WINDOW),
                              "LIMIT", consistent_read=True)
    assert counter.n == 2 and counter.expires_at == datetime.fromtimestamp(window_end() + WINDOW, timezone.utc)


def test_counters__a_refused_request_does_not_count(client, demo, limits_on, now):
    [flat] = flats(client, demo, 1)
    limits_on()
    for _ in range(6):
        egg_order(client, demo, flat["token"])
    assert raw_counter("household_writes", flat["household_id"])["n"] == {"N": "3"}
    assert raw_counter("ip_writes", "127.0.0.1")["n"] == {"N": "3"}


def test_counters__cost_one_update_each__a_resident_write_two_and_a_read_none(client, demo, limits_on, now,
                                                                              dynamodb_calls):
    [flat] = flats(client, demo, 1)
    egg_order(client, demo, flat["token"])
    dynamodb_calls.clear()
    egg_order(client, demo, flat["token"])
    get(client, "/api/orders/mine", flat["token"])
    off = dict(dynamodb_calls)
    limits_on()

    dynamodb_calls.clear()
    egg_order(client, demo, flat["token"])
    get(client, "/api/orders/mine", flat["token"])

    on = dict(dynamodb_calls)
    assert on.pop("UpdateItem", 0) == off.pop("UpdateItem", 0) + 2
    assert on == off


# --- a counter DynamoDB cannot write ---------------------------------------------------------------

def _throttled(model, params, **kwargs):
    if json.loads(params["body"])["Key"]["PK"]["S"].startswith("LIMIT#"):
        return (types.SimpleNamespace(status_code=400, headers={}),
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"},
                 "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}})
    return None


def _timed_out(model, params, **kwargs):
    if json.loads(params["body"])["Key"]["PK"]["S"].startswith("LIMIT#"):
        from botocore.exceptions import ReadTimeoutError
        raise ReadTimeoutError(endpoint_url="https://dynamodb")
    return None


@pytest.mark.parametrize("failure", [_throttled, _timed_out], ids=["throttled", "timed-out"])
def test_counter_write_that_fails__lets_the_request_through_never_a_500(client, demo, limits_on, now, failure):
    [flat] = flats(client, demo, 1)
    limits_on()
    events = models.dynamodb_client().meta.events
    events.register("before-call.dynamodb.UpdateItem", failure, unique_id="limit-failure")
    try:
        answers = five_orders(client, demo, flat["token"])
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", unique_id="limit-failure")

    assert answers == [201] * 5  # fail open: more than the limit of 3, and no 500
    assert raw_counter("household_writes", flat["household_id"]) is None


# --- body caps -------------------------------------------------------------------------------------

def padded(body: dict, size: int) -> bytes:
    """`body` as JSON, padded with trailing spaces (still valid JSON) to exactly `size` bytes."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def test_body_cap__a_json_route__at_the_cap_is_taken__one_byte_over_is_413_and_writes_nothing(client, demo):
    token = register(client, demo["join_key"])["token"]
    body = order_body(demo["round_id"], (demo["bundle_ids"][1], 1))
    assert limits.cap_of("POST", "/api/orders") == limits.JSON_CAP == 64 * 1024

    with writes() as written:
        over = post(client, "/api/orders", padded(body, limits.JSON_CAP + 1), token, idempotency_key=new_key())
    at = post(client, "/api/orders", padded(body, limits.JSON_CAP), token, idempotency_key=new_key())

    error = error_of(over, 413, "body_too_large")
    assert "64 KB" in error["message"] and "64 KB" in error["message_en"]
    assert written == []
    assert at.status_code == 201, at.json_body
    assert len(orders_in(demo["round_id"])) == 1


def test_body_cap__applies_to_every_method_and_to_routes_without_a_body(client, demo):
    over = b" " * (limits.JSON_CAP + 1)
    for method in ("GET", "POST"):
        path = "/api/health" if method == "GET" else "/api/orders/01JNOSUCHORDER000000000000/cancel"
        response = client.http.request(method, path, headers={"content-type": "application/json"}, body=over)
        error_of(response, 413, "body_too_large")


def test_body_cap__a_declared_content_length_over_the_cap__is_413_before_the_body_is_read(client, demo):
    response = client.http.post("/api/orders", body=b"{}", headers={
        "content-type": "application/json", "content-length": str(limits.JSON_CAP + 1)})
    error_of(response, 413, "body_too_large")


def test_body_cap__a_round_takes_more_than_64_kb(client, demo):
    cap = limits.cap_of("POST", "/api/rounds")
    assert cap == 512 * 1024
    body = round_body(demo["community_id"])

    over = post(client, "/api/rounds", padded(body, cap + 1), demo["tokens"]["supplier"])
    at = post(client, "/api/rounds", padded(body, cap), demo["tokens"]["supplier"])

    error_of(over, 413, "body_too_large")
    assert at.status_code == 201, at.json_body


def upload(client, round_id: str, data: bytes, token: str):
    return client.http.post(f"/api/rounds/{round_id}/payments/statement", body=data, headers={
        "content-type": "application/octet-stream", "authorization": f"Bearer {token}"})


def test_body_cap__the_statement_upload__has_its_own_cap(client, demo):
    cap = limits.cap_of("POST", "/api/rounds/{round_id}/payments/statement")
    assert cap == limits.STATEMENT_CAP == 6 * 1024 * 1024
    data = b"amount,note\n128.00,#7K3Q\n"

    with writes() as written:
        over = upload(client, demo["round_id"], data + b"\n" * (cap + 1 - len(data)), demo["tokens"]["supplier"])
    at = upload(client, demo["round_id"], data + b"\n" * (cap - len(data)), demo["tokens"]["supplier"])

    error = error_of(over, 413, "body_too_large")
    assert "6 MB" in error["message_en"]
    assert written == []
    # At the cap the route reads the file, and the statement's own rule (5 MB, a 400 on the file) answers.
    assert error_of(at, 400, "bad_input")["fields"]["file"]


def test_body_cap__holds_with_the_limits_on_too_and_counts_nothing(client, demo, limits_on, now):
    [flat] = flats(client, demo, 1)
    limits_on()
    body = order_body(demo["round_id"], (demo["bundle_ids"][1], 1))
    for _ in range(5):
        error_of(post(client, "/api/orders", padded(body, limits.JSON_CAP + 1), flat["token"],
                      idempotency_key=new_key()), 413, "body_too_large")
    assert raw_counter("household_writes", flat["household_id"]) is None


def test_limits_off__no_counter_is_written(client, demo, now):
    [flat] = flats(client, demo, 1)
    assert config.RATE_LIMITS is False  # tests/conftest.py
    assert five_orders(client, demo, flat["token"]) == [201] * 5
    assert raw_counter("household_writes", flat["household_id"]) is None
