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


# --- input hardening (issue 12, point 6): NFKC names, strict phones ---------------------------------

HOUSEHOLD = VALID[schemas.HouseholdSchema]


@pytest.mark.parametrize("typed, stored", [
    ("３号楼", "3号楼"),            # full-width digit from an IME
    ("3号楼", "3号楼"),
    ("  3号楼 ", "3号楼"),          # ends stripped
    ("３号楼\u3000", "3号楼"),      # ideographic space (NFKC: a plain space), then stripped
    ("Ａ座", "A座"),                # full-width letter
    ("1 栋", "1 栋"),               # an inner space stays (one)
    ("1 \t 栋", "1 栋"),            # a run of whitespace is one space
    ("⑫栋", "12栋"),                # a circled number is its digits under NFKC
])
def test_household__building__is_nfkc_normalised_and_stripped(typed, stored):
    assert schemas.load(schemas.HouseholdSchema(), {**HOUSEHOLD, "building": typed})["building"] == stored


@pytest.mark.parametrize("typed, stored", [("５０１", "501"), ("501", "501"), (" 501 ", "501"), ("Ｂ１２", "B12"),
                                           ("１－２", "1-2")])
def test_household__room__full_width_digits_and_letters_are_ascii(typed, stored):
    assert schemas.load(schemas.HouseholdSchema(), {**HOUSEHOLD, "room": typed})["room"] == stored


@pytest.mark.parametrize("room", ["５０１室", "5 01", "５０１\n1", "五〇一", "", "１２３４５６７８９"])
def test_household__room__still_refused_after_nfkc(room):
    assert set(refusal(schemas.HouseholdSchema, {**HOUSEHOLD, "room": room}).fields) == {"room"}


@pytest.mark.parametrize("schema_class, data, field", [
    (schemas.HouseholdSchema, HOUSEHOLD, "name"),
    (schemas.HouseholdSchema, HOUSEHOLD, "unit"),
    (schemas.StaffHouseholdSchema, {"building": "1栋", "room": "101"}, "name"),
    (schemas.InviteSchema, {"role": "volunteer", "scope_id": "c1"}, "name"),
    (schemas.RosterQuerySchema, {}, "building"),
    (schemas.PickupListQuerySchema, {"building": "x"}, "building"),
    (schemas.BoardQuerySchema, {}, "building"),
    (schemas.ExportQuerySchema, {}, "building"),
    (schemas.PackedSchema, {"community_id": "c1"}, "building"),
    (schemas.SlotGroupSchema, {"building": "x"}, "building"),
    (schemas.SpecialSchema, {"category": "disabled"}, "contact_name"),
    (schemas.SeriesQuerySchema, {"commodity": "x"}, "commodity"),
])
def test_names_and_lookups__are_nfkc_normalised_in_every_schema(schema_class, data, field):
    loaded = schemas.load(schema_class(), {**data, field: "  ３号楼　Ａ "})

    assert loaded[field] == "3号楼 A"


def test_slot_plan__building_order__each_building_normalised():
    loaded = schemas.load(schemas.SlotGenerateSchema(), {
        "start_at": "2026-12-01T08:00:00+08:00", "minutes_per_slot": 30, "households_per_slot": 10,
        "building_order": ["１栋", "2栋", " １０栋"]})

    assert loaded["building_order"] == ["1栋", "2栋", "10栋"]


@pytest.mark.parametrize("schema_class, data", [
    (schemas.DistributionPointSchema, {}), (schemas.UnloadingPointSchema, {}), (schemas.SiteSchema, {})])
def test_place_labels__keep_their_full_width_punctuation(schema_class, data):
    """A label staff write for a place people walk to (配送点, 卸货点, 门岗) is shown as written."""
    assert schemas.load(schema_class(), {**data, "name": "2号卸货点（改）"})["name"] == "2号卸货点（改）"


def test_free_text__keeps_its_full_width_punctuation():
    """Notes are what a person wrote: NFKC would turn ，（） into ASCII, so they are left as typed."""
    note = "腿脚不便，需送上楼（3楼）"
    loaded = schemas.load(schemas.SpecialSchema(), {"category": "other", "note": note, "needs": note})

    assert (loaded["note"], loaded["needs"]) == (note, note)


@pytest.mark.parametrize("typed, stored", [
    ("13812341234", "13812341234"),
    ("１３８１２３４１２３４", "13812341234"),         # full-width digits typed through an IME
    ("13８１２３４１２３４", "13812341234"),           # mixed widths
    ("138 1234 1234", "13812341234"),                 # grouped as people read it out
    ("138-1234-1234", "13812341234"),
    ("１３８　１２３４　１２３４", "13812341234"),       # full-width digits and ideographic spaces
    (" 13812341234 ", "13812341234"),
    ("+86 13812341234", "13812341234"),
    ("+8613812341234", "13812341234"),
    ("14512341234", "14512341234"), ("14912341234", "14912341234"),
    ("15012341234", "15012341234"), ("15312341234", "15312341234"), ("15512341234", "15512341234"),
    ("16212341234", "16212341234"), ("16512341234", "16512341234"), ("16612341234", "16612341234"),
    ("16712341234", "16712341234"),
    ("17012341234", "17012341234"), ("17812341234", "17812341234"),
    ("18012341234", "18012341234"), ("18912341234", "18912341234"),
    ("19012341234", "19012341234"), ("19912341234", "19912341234"),
])
def test_mobile__real_numbers_in_the_forms_people_type__load_as_11_digits(typed, stored):
    assert schemas.load(schemas.HouseholdSchema(), {**HOUSEHOLD, "phone": typed})["phone"] == stored


@pytest.mark.parametrize("typed, says", [
    ("1381234123", "11 位数字，这里是 10 位"),          # one digit short
    ("138123412345", "这里是 12 位"),                  # one too many
    ("12812341234", "没有 128 开头"),                  # no 12x segment
    ("11012341234", "没有 110 开头"),
    ("14012341234", "没有 140 开头"),                  # 140-144: 13-digit IoT numbers
    ("14412341234", "没有 144 开头"),
    ("15412341234", "没有 154 开头"),                  # 154 is not allocated
    ("16012341234", "没有 160 开头"), ("16112341234", "没有 161 开头"), ("16312341234", "没有 163 开头"),
    ("16412341234", "没有 164 开头"), ("16812341234", "没有 168 开头"), ("16912341234", "没有 169 开头"),
    ("17912341234", "没有 179 开头"),
    ("23812341234", "没有 238 开头"),
    ("03812341234", "没有 038 开头"),
    ("13812341234\n", "只能填数字"),                   # a trailing newline is no typing slip
    ("138\t1234 1234", "只能填数字"),
    ("1381234123a", "只能填数字"),
    ("138.1234.1234", "只能填数字"),
    ("13812341234转8", "只能填数字"),                  # an extension
    ("+1 13812341234", "只能填数字"),
    ("", "只能填数字"),
])
def test_mobile__near_misses__are_refused_saying_what_to_fix(typed, says):
    [message] = refusal(schemas.HouseholdSchema, {**HOUSEHOLD, "phone": typed}).fields["phone"]

    assert says in message
    assert is_bilingual(message)


def test_mobile__a_driver_needs_one_too():
    person = {"role": "driver", "name": "王师傅", "id_number": "x", "test_at": "2026-12-01T08:00:00+08:00"}

    assert schemas.load(schemas.PersonSchema(), {**person, "phone": "１３９ １２３４ ５６７８"})["phone"] == "13912345678"
    assert "phone" in refusal(schemas.PersonSchema, {**person, "phone": "0710-3456789"}).fields


@pytest.mark.parametrize("typed, stored", [
    ("", ""),
    ("   ", ""),
    ("13812341234", "13812341234"),
    ("１３８ １２３４ １２３４", "13812341234"),
    ("0710-3456789", "0710-3456789"),
    ("07103456789", "0710-3456789"),
    ("0710 3456789", "0710-3456789"),
    ("(0710)3456789", "0710-3456789"),
    ("０７１０－３４５６７８９", "0710-3456789"),     # full width, hyphen included
    ("0710-34567890", "0710-34567890"),               # 8 digits after a 4-digit code
    ("010-87654321", "010-87654321"),
    ("021-62345678", "021-62345678"),
    ("0755-88889999", "0755-88889999"),
])
def test_phone_or_landline__loads_in_one_form(typed, stored):
    data = {"building": "1栋", "room": "101", "phone": typed}

    assert schemas.load(schemas.StaffHouseholdSchema(), data)["phone"] == stored


@pytest.mark.parametrize("typed, says", [
    ("010-1234567", "带区号"),        # Beijing numbers have 8 digits
    ("021-6234567", "带区号"),
    ("0710-345678", "带区号"),        # 6 digits is too few
    ("0710-345678901", "带区号"),
    ("0710-0456789", "带区号"),       # a local number never starts with 0
    ("0710-1456789", "带区号"),       # nor with 1 (special services)
    ("3456789", "带区号"),           # no area code
    ("12345", "11 位"),
    ("15412341234", "没有 154 开头"),
    ("0710-3456789 转 12", "只能填数字"),
    ("0710/3456789", "只能填数字"),
    ("tel:07103456789", "只能填数字"),
])
def test_phone_or_landline__near_misses__are_refused_saying_what_to_fix(typed, says):
    [message] = refusal(schemas.StaffHouseholdSchema, {"building": "1栋", "room": "101", "phone": typed}).fields["phone"]

    assert says in message
    assert is_bilingual(message)


@pytest.mark.parametrize("schema_class, data, field", [
    (schemas.SpecialSchema, {"category": "disabled"}, "contact_phone"),
    (schemas.AllocationSchema, {
        "category": "rice", "quantity": 1, "unit": "kg", "unit_price": "4.30", "source": "reserve",
        "community_id": "c1", "deliver_at": "2026-12-01T08:00:00+08:00", "contact_name": "李经理"}, "contact_phone"),
])
def test_contact_phones__take_a_landline_in_one_form(schema_class, data, field):
    assert schemas.load(schema_class(), {**data, field: "０７１０ ３４５６７８９"})[field] == "0710-3456789"
    assert field in refusal(schema_class, {**data, field: "12812341234"}).fields


def test_units_of_measure__are_nfkc_so_one_balance_per_unit():
    line = {"category": "rice", "quantity": 1, "unit": "ｋｇ"}

    assert schemas.load(schemas.DemandReportSchema(), {"lines": [line]})["lines"][0]["unit"] == "kg"
