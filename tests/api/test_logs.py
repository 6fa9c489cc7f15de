"""api/logs.py: JSON log lines with the request id, one access line per request, and no phone or ID number.

The logs are read where they would leave the process: the stream of the handler `logs.install`
set up (stdout; in Lambda, the runtime's handler to CloudWatch).
"""
import io
import json
import logging
import re
import sys

import pytest
from chalice.local import LambdaContext

from api import logs
from app import app
from tests.api.helpers import get, place_order, post, register

PHONE = re.compile(r"1[3-9]\d{9}")
ID_NUMBER = re.compile(r"\d{17}[\dXx]")
RESIDENT_PHONE, FAMILY_PHONE = "13812341234", "15987654321"
ID = "11010519491231002X"


@pytest.fixture
def captured():
    """What the app's log handlers write, as a list of parsed lines (call it to read so far)."""
    buffer = io.StringIO()
    handlers = logs.handlers()
    assert handlers, "logs.install(app) set up no handler"
    previous = [h.setStream(buffer) for h in handlers]

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    lines.text = buffer.getvalue
    yield lines
    for handler, stream in zip(handlers, previous):
        handler.setStream(stream)


def access(lines) -> list[dict]:
    return [line for line in lines if line.get("type") == "access"]


# --- a full run, order to pickup ------------------------------------------------------------------

def test_order_to_pickup__logs_no_phone_no_id_number_no_token_and_no_path_values(client, demo, captured):
    # A flat registers (and a second phone of it asks to join), orders, says it paid; the supplier
    # confirms; a volunteer finds the bag by its pickup code and marks it collected.
    resident = register(client, demo["join_key"], building="3栋", unit="1单元", room="501", phone=RESIDENT_PHONE,
                        name="张三")
    register(client, demo["join_key"], building="3栋", unit="1单元", room="501", phone=FAMILY_PHONE)
    placed = place_order(client, resident["token"], demo["round_id"], (demo["bundle_ids"][0], 1))
    assert placed.status_code == 201, placed.body
    order = placed.json_body
    claim = post(client, f"/api/orders/{order['order_id']}/payment-claim", {"reference": "4821"}, resident["token"],
                 idempotency_key="claim-key-0001")
    assert claim.status_code == 200, claim.body
    confirm = post(client, f"/api/rounds/{demo['round_id']}/payments/confirm", {"order_ids": [order["order_id"]]},
                   demo["tokens"]["supplier"])
    assert confirm.status_code == 200 and confirm.json_body["confirmed"], confirm.body
    found = get(client, f"/api/rounds/{demo['round_id']}/pickup/{order['pickup_code']}", demo["tokens"]["volunteer"])
    assert found.status_code == 200, found.body
    picked = post(client, f"/api/orders/{order['order_id']}/pickup", {"method": "self"}, demo["tokens"]["volunteer"],
                  idempotency_key="pickup-key-0001")
    assert picked.status_code == 200, picked.body
    mine = get(client, "/api/orders/mine", resident["token"])
    assert mine.json_body["orders"][0]["status"] == "picked_up"
    # A request refused for bad input that names a phone, and one with a forged token.
    bad = post(client, f"/api/join/{demo['join_key']}/households",
               {"building": "99栋", "room": "1", "phone": "13700001111"})
    assert bad.status_code == 400
    assert get(client, "/api/orders/mine", "forged.token.here").status_code == 401

    lines = captured()
    text = captured.text()

    assert not PHONE.search(text), PHONE.findall(text)
    assert not ID_NUMBER.search(text)
    # Request ids (random UUIDs), times and durations can hold any short run of digits by chance: the
    # digit-only secrets (the pickup code, the payment reference) are looked for in everything else.
    chosen = "\n".join(json.dumps({k: v for k, v in line.items() if k not in ("request_id", "time", "duration_ms")},
                                  ensure_ascii=False) for line in lines)
    for secret in (resident["token"], demo["tokens"]["supplier"], demo["tokens"]["volunteer"], demo["join_key"],
                   order["order_id"], "forged.token.here", "张三"):
        assert secret not in text
    for secret in (order["pickup_code"], "4821"):
        assert secret not in chosen
    made = access(lines)
    assert [(line["method"], line["route"], line["status"], line["role"]) for line in made] == [
        ("POST", "/api/join/{join_key}/households", 201, None),
        ("POST", "/api/join/{join_key}/households", 201, None),
        ("POST", "/api/orders", 201, "resident"),
        ("POST", "/api/orders/{order_id}/payment-claim", 200, "resident"),
        ("POST", "/api/rounds/{round_id}/payments/confirm", 200, "supplier"),
        ("GET", "/api/rounds/{round_id}/pickup/{code}", 200, "volunteer"),
        ("POST", "/api/orders/{order_id}/pickup", 200, "volunteer"),
        ("GET", "/api/orders/mine", 200, "resident"),
        ("POST", "/api/join/{join_key}/households", 400, None),
        ("GET", "/api/orders/mine", 401, None),
    ]
    for line in made:
        assert line["level"] == "INFO" and line["logger"] == logs.ACCESS_LOGGER
        assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert set(line) == {"time", "level", "logger", "message", "request_id", "type", "method", "route", "status",
                             "duration_ms", "role"}
    assert len({line["request_id"] for line in made}) == len(made)  # one id per request
    assert picked.headers["X-Request-Id"] == made[6]["request_id"]


def test_a_failing_request__its_traceback_is_logged_masked_with_the_route_and_request_id(client, demo, captured,
                                                                                           monkeypatch):
    resident = register(client, demo["join_key"], phone=RESIDENT_PHONE)
    from api import orders

    def broken(principal):
        raise RuntimeError(f"lookup failed for {RESIDENT_PHONE} (+86 159-8765-4321), id {ID}")
    monkeypatch.setattr(orders, "mine", broken)

    response = get(client, "/api/orders/mine", resident["token"])

    assert response.status_code == 500
    text = captured.text()
    assert not PHONE.search(text) and not ID_NUMBER.search(text)
    assert "159-8765" not in text
    errors = [line for line in captured() if line["level"] == "ERROR"]
    assert len(errors) == 1
    error = errors[0]
    assert "RuntimeError: lookup failed for 138****1234 (159****4321), id 110105********002X" in error["exception"]
    assert "/api/orders/mine" in error["message"]
    [line] = [line for line in access(captured()) if line["route"] == "/api/orders/mine"]
    assert (line["status"], line["role"]) == (500, "resident")
    assert error["request_id"] == line["request_id"] == response.headers["X-Request-Id"]


def test_api_gateways_request_id__is_the_one_logged_and_returned(captured):
    event = {"requestContext": {"httpMethod": "GET", "resourcePath": "/api/health", "requestId": "c6af9ac6-7b61-11e6",
                                "path": "/prod/api/health", "identity": {"sourceIp": "10.0.0.1"}},
             "headers": {"accept": "application/json"}, "pathParameters": None, "multiValueQueryStringParameters": None,
             "body": None, "stageVariables": None, "isBase64Encoded": False}

    response = app(event, LambdaContext("api_handler", 128))

    assert response["statusCode"] == 200
    assert response["headers"]["X-Request-Id"] == "c6af9ac6-7b61-11e6"
    [line] = access(captured())
    assert (line["request_id"], line["route"], line["status"]) == ("c6af9ac6-7b61-11e6", "/api/health", 200)


def test_a_line_logged_outside_a_request__has_no_request_id_but_is_masked(captured):
    logging.getLogger("api.test").warning("texting %s about %s", RESIDENT_PHONE, ID)

    [line] = captured()
    assert line["message"] == "texting 138****1234 about 110105********002X"
    assert "request_id" not in line and line["logger"] == "api.test" and line["level"] == "WARNING"


def test_library_debug_lines__stay_out(captured, table):
    logging.getLogger("botocore.test").debug("a request with %s", RESIDENT_PHONE)

    assert captured() == []


# --- the masks ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, masked", [
    ("13812341234", "138****1234"),
    ("电话13812341234。", "电话138****1234。"),
    ("+8613812341234", "138****1234"),
    ("+86 138 1234 1234", "138****1234"),
    ("86-138-1234-1234", "138****1234"),
    ("phone=19912345678&x=1", "phone=199****5678&x=1"),
    ('{"phone": "17700001111"}', '{"phone": "177****1111"}'),
    ("two: 13800000001, 15900000002", "two: 138****0001, 159****0002"),
])
def test_redact__masks_mobile_phones(raw, masked):
    assert logs.redact(raw) == masked


@pytest.mark.parametrize("raw, masked", [
    ("11010519491231002X", "110105********002X"),
    ("id 11010519491231002x.", "id 110105********002x."),
    ("身份证号320102199003071234，", "身份证号320102********1234，"),
    # An ID number whose middle looks like a mobile is still masked as an ID number, leaving no phone.
    ("430104138123412345", "430104********2345"),
])
def test_redact__masks_id_numbers(raw, masked):
    assert logs.redact(raw) == masked
    assert not PHONE.search(logs.redact(raw))


@pytest.mark.parametrize("kept", [
    "12812341234",           # 12… is no mobile prefix
    "1381234123",            # 10 digits
    "1738123412345",         # a 13-digit millisecond timestamp
    "01J8Z3K5Q2W7YH",        # an id
    "¥128.00 × 2",
    "2026-11-29T13:52:12.334Z",
    "",
])
def test_redact__leaves_other_numbers_alone(kept):
    assert logs.redact(kept) == kept


def test_filter__masks_the_message_with_its_args_the_traceback_and_the_stack():
    record = logging.LogRecord("api.x", logging.ERROR, __file__, 1, "sms to %s failed", (RESIDENT_PHONE,), None)
    try:
        raise ValueError(f"bad number {FAMILY_PHONE}")
    except ValueError:
        record.exc_info = sys.exc_info()
    record.stack_info = f"stack with {ID}"

    assert logs.RedactFilter().filter(record) is True

    assert record.getMessage() == "sms to 138****1234 failed"
    assert record.args is None
    assert "ValueError: bad number 159****4321" in record.exc_text
    assert record.stack_info == "stack with 110105********002X"


def test_filter__masks_dict_args_and_survives_a_bad_format_string():
    by_name = logging.LogRecord("api.x", logging.INFO, __file__, 1, "call %(phone)s", ({"phone": RESIDENT_PHONE},),
                                None)
    broken = logging.LogRecord("api.x", logging.INFO, __file__, 1, "two %s %s", (RESIDENT_PHONE,), None)

    logs.RedactFilter().filter(by_name)
    logs.RedactFilter().filter(broken)

    assert by_name.getMessage() == "call 138****1234"
    assert RESIDENT_PHONE not in broken.getMessage() and "138****1234" in broken.getMessage()


def test_formatter__one_json_line_with_extra_fields_masked():
    record = logging.LogRecord("baogong", logging.INFO, __file__, 1, "sent", None, None)
    record.fields = {"to": RESIDENT_PHONE, "count": 2, "message": "not allowed to replace the message"}

    line = logs.JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "sent" and entry["to"] == "138****1234" and entry["count"] == 2
    assert entry["level"] == "INFO" and entry["logger"] == "baogong"
