"""api/limits.py without HTTP: every route's body cap against the largest payload its schema allows, the
settings' format, the windows."""
import json
import re
from datetime import datetime, timezone

import pytest
from marshmallow import fields, validate

from api import config, limits

try:
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse

ESCAPED_CHAR = 6  # the worst a character costs in JSON: "\u4e2d" (json.dumps's default, ensure_ascii)
# Dicts bounded by another field: ConfirmSchema's transactions name orders of its order_ids (at most 500).
DICT_ENTRIES = {"ConfirmSchema.transactions": 500}
# Text fields that fold what people type and so carry no Length: the longest real value ("+86 138-1234-1234"
# in full-width digits is 17 characters). Their only hard bound is the route's cap.
FOLDED_TEXT = {"Mobile": 24, "PhoneOrLandline": 24}
# Where the schema allows more than a place has, the cap is checked against the largest real payload instead.
REALISTIC = {
    ("PUT", "/api/communities/{community_id}/rounds/{round_id}/slots"):
        "200 slots x 100 groups each is 20,000 groups (6.5 MB); a compound has at most about 2,000 "
        "(100 buildings x 4 units x 5 floor ranges): test_slot_plan__the_largest_real_one__fits_its_cap",
}


def _routes():
    from app import app
    for path, methods in sorted(app.routes.items()):
        for method, entry in methods.items():
            yield method, path, entry


def _field_bound(field, where: str) -> int:
    """The most bytes `field`'s value can take in JSON."""
    most = choices = pattern = None
    for check in getattr(field, "validators", []):
        if isinstance(check, validate.Length) and check.max is not None:
            most = check.max
        elif isinstance(check, validate.OneOf):
            choices = check.choices
        elif isinstance(check, validate.Regexp):
            pattern = check.regex.pattern
    pattern = pattern or field.metadata.get("pattern")
    if most is None and pattern is None and type(field).__name__ in FOLDED_TEXT:
        most = FOLDED_TEXT[type(field).__name__]
    if isinstance(field, fields.Nested):
        return _schema_bound(field.schema)
    if isinstance(field, fields.List):
        assert most is not None, f"{where}: a list without a maximum length"
        return most * (_field_bound(field.inner, where + "[]") + 1) + 2
    if isinstance(field, fields.Dict):
        entries = DICT_ENTRIES[where]
        return entries * (_field_bound(field.key_field, where) + _field_bound(field.value_field, where) + 2) + 2
    if choices is not None:
        return max(len(json.dumps(choice)) for choice in choices)
    if isinstance(field, fields.Boolean):
        return 5
    if isinstance(field, (fields.Integer, fields.Float, fields.DateTime)) or type(field) is fields.Raw:
        return 40
    assert isinstance(field, fields.String), f"{where}: {type(field).__name__} has no bound here"
    if pattern is not None:
        width = sre_parse.parse(pattern).getwidth()[1]
        most = width if most is None else min(most, width)
    assert most is not None and most < 100_000, f"{where}: a string without a maximum length"
    return most * ESCAPED_CHAR + 2


def _schema_bound(schema) -> int:
    total = 2
    for name, field in schema.fields.items():
        if not field.dump_only:
            total += len(json.dumps(field.data_key or name)) + 2 + _field_bound(field, f"{type(schema).__name__}.{name}")
    return total


def test_every_route__its_cap_takes_the_largest_payload_its_schema_allows():
    checked = []
    for method, path, entry in _routes():
        body = entry.view_function.__openapi__["body"]
        if body is None or (method, path) in REALISTIC:
            continue
        schema = body() if isinstance(body, type) else body
        largest = _schema_bound(schema)
        assert largest <= limits.cap_of(method, path), (method, path, largest)
        checked.append((method, path, largest))
    assert len(checked) >= 40  # every JSON write of the app, not a handful
    # The caps above 64 KB are there for a reason: each route's largest payload needs them.
    for (method, path), cap in limits.ROUTE_CAPS.items():
        needs = [largest for m, p, largest in checked if (m, p) == (method, path)]
        assert not needs or needs[0] > limits.JSON_CAP, (method, path, needs)


def test_slot_plan__the_largest_real_one__fits_its_cap():
    from api import schemas
    groups = [{"building": "一" * 20, "unit": "二" * 20, "floors": [-5, 200]} for _ in range(10)]
    plan = {"version": 1_000_000, "slots": [
        {"slot_id": "0" * 40, "starts_at": "2026-12-01T18:00:00+08:00", "ends_at": "2026-12-01T18:30:00+08:00",
         "groups": groups} for _ in range(200)]}
    schemas.load(schemas.SlotEditSchema(), plan)  # valid
    size = len(json.dumps(plan).encode())  # escaped: the largest form of it
    assert limits.JSON_CAP < size <= limits.cap_of("PUT", "/api/communities/{community_id}/rounds/{round_id}/slots")


def test_every_route_that_takes_a_file__has_a_cap_of_its_own():
    raw = [(method, path) for method, path, entry in _routes()
           if any(not t.startswith("application/json") for t in entry.content_types)]
    assert raw, "the statement upload at least"
    assert all((method, path) in limits.ROUTE_CAPS for method, path in raw), raw


def test_route_caps__name_routes_that_exist():
    known = {(method, path) for method, path, _ in _routes()}
    assert set(limits.ROUTE_CAPS) <= known
    assert set(limits.JOIN_ROUTES) <= {path for _, path in known}


@pytest.mark.parametrize("text, expected", [("1200/60", (1200, 60)), ("1/1", (1, 1))])
def test_limit_setting__requests_per_seconds(monkeypatch, text, expected):
    monkeypatch.setenv("BAOGONG_LIMIT_TEST", text)
    assert config._limit("TEST", "5/5") == expected


def test_limit_setting__absent__is_the_default(monkeypatch):
    monkeypatch.delenv("BAOGONG_LIMIT_TEST", raising=False)
    assert config._limit("TEST", "30/600") == (30, 600)


@pytest.mark.parametrize("text", ["1200", "abc/60", "0/60", "10/0", "-1/60", ""])
def test_limit_setting__malformed__stops_the_start_naming_the_setting(monkeypatch, text):
    monkeypatch.setenv("BAOGONG_LIMIT_TEST", text)
    with pytest.raises(ValueError, match="BAOGONG_LIMIT_TEST"):
        config._limit("TEST", "5/5")


def test_defaults__per_ip_generous__per_household_tight():
    ip, household = config.LIMITS["ip_writes"], config.LIMITS["household_writes"]
    per_hour = {name: count * 3600 / seconds for name, (count, seconds) in config.LIMITS.items()}
    assert per_hour["ip_writes"] >= 100 * per_hour["household_writes"], (ip, household)
    assert per_hour["household_writes"] <= 200  # a household places a few orders a day


def test_window__fixed_and_aligned(monkeypatch):
    monkeypatch.setitem(config.LIMITS, "household_writes", (3, 600))
    moment = datetime(2026, 12, 1, 10, 7, 30, tzinfo=timezone.utc)
    start, end = limits.window("household_writes", moment)
    assert datetime.fromtimestamp(start, timezone.utc) == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    assert end - start == 600
    assert limits.window("household_writes", datetime.fromtimestamp(end, timezone.utc))[0] == end


def test_counter_key__names_the_limit_the_caller_and_the_window():
    assert limits.counter_key("join", "203.0.113.7", 1764583200) == "LIMIT#join#203.0.113.7#1764583200"
    assert re.fullmatch(r"LIMIT#[a-z_]+#.+#\d+", limits.counter_key("ip_writes", "2001:db8::1", 0))
