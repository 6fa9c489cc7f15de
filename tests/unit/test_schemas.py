"""api.schemas: marshmallow payload schemas, unknown fields refused, messages in Chinese and English."""
from datetime import datetime, timezone

import pytest

from api import schemas
from api.errors import BadInput

UNKNOWN = "不认识的字段，请删除 / Unknown field; remove it"

ROUND = {
    "name": "第1期", "community_ids": ["c1"], "opens_at": "2026-12-01T08:00:00+08:00",
    "closes_at": "2026-12-02T18:00:00+08:00", "payment_deadline": "2026-12-02T20:00:00+08:00",
    "payment_qr": "wxp://x",
    "bundles": [{"name": "米", "price_fen": 100, "stock": 1, "per_household_limit": 1,
                 "items": [{"name": "大米", "qty": "5", "unit": "kg"}]}],
}
VALID = {
    schemas.HouseholdSchema: {"building": "1栋", "room": "101", "phone": "13812341234"},
    schemas.OrderSchema: {"round_id": "r1", "lines": [{"bundle_id": "b1", "qty": 1}]},
    schemas.InviteSchema: {"role": "volunteer", "scope_id": "c1"},
    schemas.RoundSchema: ROUND,
    schemas.RoundsQuerySchema: {"community_id": "c1"},
    schemas.ExportQuerySchema: {"format": "csv"},
}


def refusal(schema_class, data) -> BadInput:
    with pytest.raises(BadInput) as caught:
        schemas.load(schema_class(), data)
    return caught.value


def is_bilingual(message: str) -> bool:
    zh, sep, en = message.partition(" / ")
    return bool(sep and zh and en) and any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii()


@pytest.mark.parametrize("schema_class", list(VALID), ids=lambda s: s.__name__)
def test_schema__valid_payload__loads(schema_class):
    assert schemas.load(schema_class(), VALID[schema_class])


@pytest.mark.parametrize("schema_class", list(VALID), ids=lambda s: s.__name__)
def test_schema__unknown_field__is_refused_with_bilingual_message(schema_class):
    error = refusal(schema_class, {**VALID[schema_class], "extra": 1})

    assert error.status == 400 and error.code == "bad_input"
    assert error.fields == {"extra": [UNKNOWN]}
    assert is_bilingual(error.fields["extra"][0])
    assert error.message and error.message_en


def test_schema__unknown_field_in_nested_line__is_refused():
    error = refusal(schemas.OrderSchema, {"round_id": "r", "lines": [{"bundle_id": "b", "qty": 1, "x": 2}]})

    assert error.fields == {"lines": {0: {"x": [UNKNOWN]}}}


def test_schema__missing_required__says_so_in_both_languages():
    error = refusal(schemas.HouseholdSchema, {"building": "1栋", "room": "101"})

    assert error.fields == {"phone": ["必填 / Required"]}


@pytest.mark.parametrize("data", [["a"], "text", 3, None])
def test_schema__not_an_object__is_refused(data):
    error = refusal(schemas.OrderSchema, data)

    assert error.status == 400


@pytest.mark.parametrize("field, value, message_part", [
    ("phone", "1381234123", "11"),
    ("building", "x" * 21, "1 到 20"),
    ("room", "123456789", "1 到 8"),
    ("building", 5, "应为文字"),
])
def test_household__bad_field__gives_a_bilingual_message(field, value, message_part):
    error = refusal(schemas.HouseholdSchema, {**VALID[schemas.HouseholdSchema], field: value})

    [message] = error.fields[field]
    assert message_part in message
    assert is_bilingual(message)


def test_household__unit_and_name__default_to_empty():
    loaded = schemas.load(schemas.HouseholdSchema(), VALID[schemas.HouseholdSchema])

    assert loaded == {"building": "1栋", "room": "101", "phone": "13812341234", "unit": "", "name": ""}


@pytest.mark.parametrize("qty", ["3", 2.5, 3.0, True, 0, 100, -1])
def test_order_line__qty_must_be_a_json_integer_from_1_to_99(qty):
    error = refusal(schemas.OrderSchema, {"round_id": "r", "lines": [{"bundle_id": "b", "qty": qty}]})

    assert list(error.fields["lines"][0]) == ["qty"]


@pytest.mark.parametrize("qty", [1, 99])
def test_order_line__qty_at_the_bounds__loads(qty):
    loaded = schemas.load(schemas.OrderSchema(), {"round_id": "r", "lines": [{"bundle_id": "b", "qty": qty}]})

    assert loaded["lines"][0]["qty"] == qty


def test_order__same_bundle_twice__is_refused_on_lines():
    error = refusal(schemas.OrderSchema, {"round_id": "r", "lines": [{"bundle_id": "b", "qty": 1},
                                                                     {"bundle_id": "b", "qty": 2}]})

    assert list(error.fields) == ["lines"]
    assert is_bilingual(error.fields["lines"][0])


def test_round__times__are_converted_to_utc():
    loaded = schemas.load(schemas.RoundSchema(), ROUND)

    assert loaded["opens_at"] == datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
    assert loaded["opens_at"].utcoffset().total_seconds() == 0
    assert loaded["supplier_id"] is None


def test_round__naive_time__is_refused_asking_for_a_timezone():
    error = refusal(schemas.RoundSchema, {**ROUND, "opens_at": "2026-12-01T08:00:00"})

    [message] = error.fields["opens_at"]
    assert "时区" in message and "timezone" in message


def test_round__closing_at_the_opening_moment__is_refused():
    error = refusal(schemas.RoundSchema, {**ROUND, "closes_at": ROUND["opens_at"],
                                          "payment_deadline": ROUND["opens_at"]})

    assert list(error.fields) == ["closes_at"]


def test_round__payment_deadline_equal_to_close__loads():
    loaded = schemas.load(schemas.RoundSchema(), {**ROUND, "payment_deadline": ROUND["closes_at"]})

    assert loaded["payment_deadline"] == loaded["closes_at"]


def test_round__payment_deadline_before_close__is_refused():
    error = refusal(schemas.RoundSchema, {**ROUND, "payment_deadline": "2026-12-02T17:59:59+08:00"})

    assert list(error.fields) == ["payment_deadline"]


@pytest.mark.parametrize("role", ["resident", "root", ""])
def test_invite__role_other_than_staff__is_refused(role):
    error = refusal(schemas.InviteSchema, {"role": role, "scope_id": "c1"})

    assert list(error.fields) == ["role"]


def test_export_query__defaults_to_csv_a4_3x7_paid_only_whole_round():
    assert schemas.load(schemas.ExportQuerySchema(), {}) == {
        "format": "csv", "layout": "a4-3x7", "status": "paid", "community_id": None, "building": None}
    assert list(refusal(schemas.ExportQuerySchema, {"status": "all"}).fields) == ["status"]
    assert list(refusal(schemas.ExportQuerySchema, {"format": "docx"}).fields) == ["format"]
    assert list(refusal(schemas.ExportQuerySchema, {"format": "pdf", "layout": "a5"}).fields) == ["layout"]


_BUNDLE = {"name": "米", "items": [{"name": "大米", "qty": "5", "unit": "kg"}], "stock": 1, "per_household_limit": 1}


@pytest.mark.parametrize("price, fen", [("12.5", 1250), ("12.50", 1250), ("0.01", 1), (" 128 ", 12800),
                                        (39.9, 3990), (7, 700), ("100000", 10_000_000)])
def test_bundle_price__yuan_with_at_most_two_decimals__becomes_exact_fen(price, fen):
    loaded = schemas.load(schemas.BundleSchema(), {**_BUNDLE, "price": price})
    assert loaded["price_fen"] == fen and "price" not in loaded


@pytest.mark.parametrize("price", ["12.345", "0.001", "0", "0.00", "-1", "1e3", "12,50", "¥12", "", "100000.01",
                                   True, None, [12]])
def test_bundle_price__anything_else__is_refused_on_price(price):
    assert list(refusal(schemas.BundleSchema, {**_BUNDLE, "price": price}).fields) == ["price"]
