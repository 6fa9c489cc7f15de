"""The community QR code: GET /api/join/{key} and POST /api/join/{key}/households.

Every refused registration must leave the community without a new household.
"""
import pytest

from tests.api.helpers import error_of, get, households_in, post, register

PHONE = "13812341234"
VALID = {"building": "1栋", "room": "101", "phone": PHONE}


def join(client, join_key, body):
    return post(client, f"/api/join/{join_key}/households", body)


# --- public info ------------------------------------------------------------

def test_join_info__known_key__gives_name_buildings_units_and_pickup_points(client, demo):
    response = get(client, f"/api/join/{demo['join_key']}")

    assert response.status_code == 200
    info = response.json_body
    assert info["community_id"] == demo["community_id"]
    assert info["name"] == "幸福家园小区"
    assert info["sub_district"] == {"sub_district_id": demo["sub_district_id"], "name": "樊城区示范街道"}
    assert info["buildings"] == [
        {"name": "1栋", "units": []},
        {"name": "2栋", "units": []},
        {"name": "3栋", "units": ["1单元", "2单元"]},
        {"name": "10栋", "units": ["1单元", "2单元"]},
    ]
    assert [p["name"] for p in info["pickup_points"]] == ["北门配送点"]


def test_join_info__needs_no_token(client, demo):
    response = client.http.get(f"/api/join/{demo['join_key']}")

    assert response.status_code == 200


def test_join_info__unknown_key__is_404_with_bilingual_message(client, demo):
    response = get(client, "/api/join/not-a-real-key")

    error_of(response, 404, "not_found")


# --- registering a household ---------------------------------------------------

def test_register__new_flat__is_201_with_household_token_flat_and_masked_phone(client, demo):
    response = join(client, demo["join_key"], {"building": "3栋", "unit": "2单元", "room": "502", "phone": PHONE,
                                               "name": "王阿姨"})

    assert response.status_code == 201
    body = response.json_body
    assert set(body) == {"household_id", "member_id", "membership", "token", "community_id", "flat", "phone_masked"}
    assert body["household_id"] and body["token"] and body["member_id"]
    assert body["membership"] == "member"
    assert body["community_id"] == demo["community_id"]
    assert body["flat"] == {"building": "3栋", "unit": "2单元", "room": "502"}
    assert body["phone_masked"] == "138****1234"
    [household] = households_in(demo["community_id"])
    assert household.household_id == body["household_id"]
    assert {m: (v["phone"], v["status"]) for m, v in household.members.as_dict().items()} == {
        body["member_id"]: (PHONE, "member")}
    assert household.name == "王阿姨"


def test_register__response__never_contains_the_full_phone(client, demo):
    response = join(client, demo["join_key"], {"building": "1栋", "room": "101", "phone": PHONE})

    assert response.status_code == 201
    assert PHONE not in response.body.decode()


def test_register__room_letters__are_stored_upper_case(client, demo):
    body = register(client, demo["join_key"], building="2栋", room="101a")

    assert body["flat"] == {"building": "2栋", "unit": "", "room": "101A"}


def test_register__same_flat_with_another_phone__is_a_pending_request_on_the_same_household(client, demo):
    first = register(client, demo["join_key"], building="3栋", unit="1单元", room="501", phone="13812341234")
    second = register(client, demo["join_key"], building="3栋", unit="1单元", room="501", phone="13987654321")

    assert second["household_id"] == first["household_id"]
    assert second["membership"] == "pending"
    assert second["phone_masked"] == "139****4321"
    [household] = households_in(demo["community_id"])
    assert {m: (v["phone"], v["status"]) for m, v in household.members.as_dict().items()} == {
        first["member_id"]: ("13812341234", "member"), second["member_id"]: ("13987654321", "pending")}


def test_register__a_members_number_typed_on_another_phone__is_only_a_pending_request(client, demo):
    # A phone number is typed, not verified: knowing a member's number must not make you one.
    first = register(client, demo["join_key"], room="101", phone=PHONE)
    again = register(client, demo["join_key"], room="101", phone=PHONE)

    assert again["household_id"] == first["household_id"]
    assert again["membership"] == "pending"
    assert again["member_id"] != first["member_id"]


def test_register__eleventh_phone_for_one_flat__is_422_too_many_phones(client, demo):
    phones = [f"1380000{n:04d}" for n in range(11)]
    for phone in phones[:10]:
        register(client, demo["join_key"], room="101", phone=phone)

    response = join(client, demo["join_key"], {**VALID, "phone": phones[10]})

    error_of(response, 422, "too_many_phones")
    [household] = households_in(demo["community_id"])
    assert sorted(m["phone"] for m in household.members.as_dict().values()) == phones[:10]


def test_register__other_room_of_same_building__is_another_household(client, demo):
    first = register(client, demo["join_key"], room="101")
    second = register(client, demo["join_key"], room="102")

    assert second["household_id"] != first["household_id"]
    assert len(households_in(demo["community_id"])) == 2


def test_register__unknown_join_key__is_404_and_writes_nothing(client, demo):
    response = join(client, "not-a-real-key", {"building": "1栋", "room": "101", "phone": PHONE})

    error_of(response, 404, "not_found")
    assert households_in(demo["community_id"]) == []


# --- buildings and units -----------------------------------------------------

def test_register__building_with_units_without_unit__is_400_naming_unit(client, demo):
    response = join(client, demo["join_key"], {"building": "3栋", "room": "501", "phone": PHONE})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"unit"}
    assert households_in(demo["community_id"]) == []


def test_register__unknown_unit__is_400_naming_unit(client, demo):
    response = join(client, demo["join_key"], {"building": "3栋", "unit": "5单元", "room": "501", "phone": PHONE})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"unit"}
    assert households_in(demo["community_id"]) == []


def test_register__unit_for_building_without_units__is_400_naming_unit(client, demo):
    response = join(client, demo["join_key"], {"building": "1栋", "unit": "1单元", "room": "101", "phone": PHONE})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"unit"}
    assert households_in(demo["community_id"]) == []


def test_register__unknown_building__is_400_naming_building(client, demo):
    response = join(client, demo["join_key"], {"building": "99栋", "room": "101", "phone": PHONE})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"building"}
    assert "1栋" in error["fields"]["building"][0]
    assert households_in(demo["community_id"]) == []


# --- bad input: 400 naming the field, nothing written -------------------------------

@pytest.mark.parametrize("field, value", [
    ("phone", "1381234123"),        # 10 digits
    ("phone", "138123412345"),      # 12 digits
    ("phone", "2381234123x"),
    ("phone", "12812341234"),       # no mainland mobile starts with 12
    ("phone", ""),
    ("phone", 13812341234),         # a number, not a string
    ("building", "栋" * 21),
    ("building", ""),
    ("building", 1),
    ("name", "名" * 21),
    ("room", "123456789"),          # 9 characters
    ("room", ""),
    ("room", "5 01"),
    ("room", "<b>1</b>"),
    ("unit", "单" * 21),
], ids=lambda v: repr(v)[:12])
def test_register__bad_field__is_400_naming_it_and_writes_nothing(client, demo, field, value):
    response = join(client, demo["join_key"], {**VALID, field: value})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {field}
    assert households_in(demo["community_id"]) == []


@pytest.mark.parametrize("missing", ["building", "room", "phone"])
def test_register__missing_required_field__is_400_naming_it(client, demo, missing):
    body = {k: v for k, v in VALID.items() if k != missing}

    error = error_of(join(client, demo["join_key"], body), 400, "bad_input")

    assert error["fields"] == {missing: ["必填 / Required"]}
    assert households_in(demo["community_id"]) == []


def test_register__unknown_field__is_400_naming_it(client, demo):
    response = join(client, demo["join_key"], {**VALID, "is_admin": True})

    error = error_of(response, 400, "bad_input")
    assert error["fields"] == {"is_admin": ["不认识的字段，请删除 / Unknown field; remove it"]}
    assert households_in(demo["community_id"]) == []


@pytest.mark.parametrize("raw", ["{not json", "", "null", '["1栋", "101"]', '"1栋"', "42"],
                         ids=["broken", "empty", "null", "list", "string", "number"])
def test_register__body_not_a_json_object__is_400_and_writes_nothing(client, demo, raw):
    response = join(client, demo["join_key"], raw)

    error_of(response, 400, "bad_input")
    assert households_in(demo["community_id"]) == []


def test_register__phone_with_trailing_newline__is_400(client, demo):
    response = join(client, demo["join_key"], {**VALID, "phone": "13812341234\n"})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"phone"}
    assert households_in(demo["community_id"]) == []


def test_register__phone_with_full_width_digits__is_folded_to_ascii_and_registered(client, demo):
    """An IME's full-width digits are the same number (NFKC): kept as 11 ASCII digits."""
    response = join(client, demo["join_key"], {**VALID, "phone": "13８１２３４１２３４"})

    assert response.status_code == 201
    assert response.json_body["phone_masked"] == "138****1234"
    [household] = households_in(demo["community_id"])
    assert [m["phone"] for m in household.members.as_dict().values()] == [PHONE]


@pytest.mark.parametrize("phone, says", [
    ("15412341234", "没有 154 开头的手机号段"),
    ("1381234123", "手机号应为 11 位数字"),
    ("138.1234.1234", "手机号只能填数字"),
    ("0710-3456789", "没有 071 开头"),  # a resident signs in with a mobile; landlines are for the liaison's register
])
def test_register__phone_that_is_no_mainland_mobile__is_400_saying_what_to_fix(client, demo, phone, says):
    response = join(client, demo["join_key"], {**VALID, "phone": phone})

    error = error_of(response, 400, "bad_input")
    [message] = error["fields"]["phone"]
    assert says in message and " / " in message  # Chinese, then English
    assert households_in(demo["community_id"]) == []


def test_register__room_with_trailing_newline__is_stored_without_it(client, demo):
    """A room is a name (schemas.Name): whitespace around it is layout, stripped before the format check,
    so the newline never reaches the table (a phone is stricter: see above)."""
    response = join(client, demo["join_key"], {**VALID, "room": "501\n"})

    assert response.status_code == 201
    [household] = households_in(demo["community_id"])
    assert household.room == "501"


def test_register__room_with_a_newline_inside__is_400(client, demo):
    response = join(client, demo["join_key"], {**VALID, "room": "50\n1"})

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"room"}
    assert households_in(demo["community_id"]) == []
