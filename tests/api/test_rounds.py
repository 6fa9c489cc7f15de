"""团购轮次 rounds: POST /api/rounds (supplier, liaison, admin) and GET /api/rounds?community_id=."""
from datetime import timedelta

import pytest

from api import clock, rounds
from tests.api.helpers import (
    create_community, create_round, create_sub_district, create_supplier, error_of, get, post, register,
    round_body, writes,
)


def rounds_of(client, community_id, token):
    return get(client, f"/api/rounds?community_id={community_id}", token)


def round_ids(client, community_id, token) -> list[str]:
    response = rounds_of(client, community_id, token)
    assert response.status_code == 200, response.body
    return [r["round_id"] for r in response.json_body["rounds"]]


@pytest.fixture
def resident(client, demo):
    return register(client, demo["join_key"])


# --- listing ------------------------------------------------------------------

def test_list__resident_of_community__sees_open_round_with_bundles_times_and_supplier(client, demo, resident):
    response = rounds_of(client, demo["community_id"], resident["token"])

    assert response.status_code == 200
    [rnd] = response.json_body["rounds"]
    assert rnd["round_id"] == demo["round_id"]
    assert rnd["status"] == "open"
    assert rnd["supplier"] == {"supplier_id": demo["supplier_id"], "name": "邻家便利超市"}
    assert rnd["closes_at"].endswith("Z") and rnd["payment_deadline"].endswith("Z")
    assert rnd["payment_deadline"] > rnd["closes_at"]
    assert [b["bundle_id"] for b in rnd["bundles"]] == demo["bundle_ids"]
    first = rnd["bundles"][0]
    assert first == {
        "bundle_id": demo["bundle_ids"][0], "name": "米面油套餐", "price_fen": 12800,
        "stock_total": 60, "stock_left": 60, "per_household_limit": 2,
        "items": [{"name": "大米", "qty": "5", "unit": "kg"}, {"name": "面粉", "qty": "2.5", "unit": "kg"},
                  {"name": "花生油", "qty": "1.8", "unit": "L"}],
    }


def test_list__newest_round_first(client, demo, resident):
    later = create_round(demo["tokens"]["supplier"], [demo["community_id"]])

    assert round_ids(client, demo["community_id"], resident["token"]) == [later["round_id"], demo["round_id"]]


def test_list__upcoming_and_closed_rounds__carry_their_status(client, demo, resident):
    now = clock.now()
    upcoming = create_round(demo["tokens"]["supplier"], [demo["community_id"]],
                            opens_at=now + timedelta(hours=3), closes_at=now + timedelta(days=1))

    listed = rounds_of(client, demo["community_id"], resident["token"]).json_body["rounds"]
    statuses = {r["round_id"]: r["status"] for r in listed}

    assert statuses == {upcoming["round_id"]: "upcoming", demo["round_id"]: "open"}


def test_list__missing_community_id__is_400_naming_it(client, demo, resident):
    response = get(client, "/api/rounds", resident["token"])

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"community_id"}


def test_list__unknown_community__is_404(client, demo):
    response = rounds_of(client, "01JUNKNOWNCOMMUNITY000000", demo["tokens"]["liaison"])

    error_of(response, 404, "not_found")


@pytest.mark.parametrize("role", ["liaison", "volunteer", "admin", "supplier"])
def test_list__staff_in_scope__sees_the_round(client, demo, role):
    assert round_ids(client, demo["community_id"], demo["tokens"][role]) == [demo["round_id"]]


def test_list__supplier__sees_only_its_own_rounds(client, demo):
    other = create_supplier(demo["sub_district_id"])
    theirs = create_round(other["token"], [demo["community_id"]])

    assert round_ids(client, demo["community_id"], other["token"]) == [theirs["round_id"]]
    assert round_ids(client, demo["community_id"], demo["tokens"]["supplier"]) == [demo["round_id"]]


def test_list__supplier__its_own_closed_round_is_not_pushed_off_by_newer_rounds_of_others(client, demo, monkeypatch):
    # Only the newest closed rounds are listed; a supplier's own are counted among its own, not among all.
    monkeypatch.setattr(rounds, "RECENT_ROUNDS", 1)
    now = clock.now()
    mine = create_round(demo["tokens"]["supplier"], [demo["community_id"]], opens_at=now - timedelta(days=3),
                        closes_at=now - timedelta(days=2))
    other = create_supplier(demo["sub_district_id"])
    for _ in range(2):
        create_round(other["token"], [demo["community_id"]], opens_at=now - timedelta(days=2),
                     closes_at=now - timedelta(days=1))

    listed = round_ids(client, demo["community_id"], demo["tokens"]["supplier"])

    assert mine["round_id"] in listed  # the demo round is open, so it is listed anyway
    assert listed == [r for r in listed if r in (mine["round_id"], demo["round_id"])]


def test_list__round_for_another_community__is_not_listed_here(client, demo, resident):
    elsewhere = create_community(demo["sub_district_id"])
    create_round(demo["tokens"]["supplier"], [elsewhere["community_id"]])

    assert round_ids(client, demo["community_id"], resident["token"]) == [demo["round_id"]]


def test_list__round_for_two_communities__is_listed_in_both(client, demo, resident):
    second = create_community(demo["sub_district_id"])
    shared = create_round(demo["tokens"]["supplier"], [demo["community_id"], second["community_id"]])
    neighbour = register(client, second["join_key"])

    assert round_ids(client, demo["community_id"], resident["token"]) == [shared["round_id"], demo["round_id"]]
    assert round_ids(client, second["community_id"], neighbour["token"]) == [shared["round_id"]]


# --- creating -------------------------------------------------------------------

def create(client, body, token):
    """POST /api/rounds; returns the response and the items written, by PK prefix."""
    with writes() as written:
        response = post(client, "/api/rounds", body, token)
    return response, written


def test_create__supplier__is_201_and_residents_see_it(client, demo, resident):
    response, written = create(client, round_body(demo["community_id"]), demo["tokens"]["supplier"])

    assert response.status_code == 201, response.body
    created = response.json_body
    assert created["status"] == "open"
    assert created["supplier"] == {"supplier_id": demo["supplier_id"], "name": "邻家便利超市"}
    assert created["payment_qr"] == "wxp://f2f0-test-payment-code"
    assert created["community_ids"] == [demo["community_id"]]
    [bundle] = created["bundles"]
    assert bundle["bundle_id"]
    assert {k: bundle[k] for k in ("name", "price_fen", "stock_total", "stock_left", "per_household_limit")} == {
        "name": "蔬菜包", "price_fen": 3990, "stock_total": 50, "stock_left": 50, "per_household_limit": 2}
    # the listing, the round, its one bundle, and its payment-deadline marker
    assert sorted(written) == ["COMMUNITY", "DEADLINE", "ROUND", "ROUND"]
    listed = rounds_of(client, demo["community_id"], resident["token"]).json_body["rounds"]
    assert listed[0] == created


def test_create__times_given_in_beijing_time__are_returned_in_utc(client, demo):
    body = round_body(demo["community_id"], opens_at="2020-01-01T08:00:00+08:00",
                      closes_at="2099-12-01T18:00:00+08:00", payment_deadline="2099-12-01T20:00:00+08:00")

    response, _ = create(client, body, demo["tokens"]["supplier"])

    assert response.status_code == 201, response.body
    assert response.json_body["opens_at"] == "2020-01-01T00:00:00Z"
    assert response.json_body["closes_at"] == "2099-12-01T10:00:00Z"
    assert response.json_body["payment_deadline"] == "2099-12-01T12:00:00Z"


def test_create__closes_before_it_opens__is_400_naming_closes_at(client, demo):
    now = clock.now()
    body = round_body(demo["community_id"], opens_at=clock.iso(now + timedelta(days=1)),
                      closes_at=clock.iso(now + timedelta(hours=1)),
                      payment_deadline=clock.iso(now + timedelta(days=2)))

    response, written = create(client, body, demo["tokens"]["supplier"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {"closes_at"}
    assert written == []


def test_create__payment_deadline_before_close__is_400_naming_payment_deadline(client, demo):
    now = clock.now()
    body = round_body(demo["community_id"], closes_at=clock.iso(now + timedelta(days=1)),
                      payment_deadline=clock.iso(now + timedelta(hours=2)))

    response, written = create(client, body, demo["tokens"]["supplier"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {"payment_deadline"}
    assert written == []


@pytest.mark.parametrize("field", ["opens_at", "closes_at", "payment_deadline"])
def test_create__naive_datetime_without_timezone__is_400_naming_it(client, demo, field):
    body = round_body(demo["community_id"], **{field: "2099-12-01T18:00:00"})

    response, written = create(client, body, demo["tokens"]["supplier"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {field}
    assert written == []


@pytest.mark.parametrize("field, value", [
    ("opens_at", "tomorrow"),
    ("name", ""),
    ("community_ids", []),
    ("community_ids", "not-a-list"),
    ("bundles", []),
    ("payment_qr", ""),
    ("unknown", 1),
])
def test_create__bad_field__is_400_naming_it(client, demo, field, value):
    response, written = create(client, round_body(demo["community_id"], **{field: value}), demo["tokens"]["supplier"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {field}
    assert written == []


@pytest.mark.parametrize("bundle_field, value", [
    ("price_fen", 0), ("price_fen", 39.9), ("price_fen", "3990"),
    ("stock", -1), ("per_household_limit", 0), ("per_household_limit", 100), ("items", []),
])
def test_create__bad_bundle__is_400_naming_the_bundle_field(client, demo, bundle_field, value):
    body = round_body(demo["community_id"])
    body["bundles"][0][bundle_field] = value

    response, written = create(client, body, demo["tokens"]["supplier"])

    fields = error_of(response, 400, "bad_input")["fields"]
    assert list(fields) == ["bundles"] and list(fields["bundles"]) == ["0"]
    assert list(fields["bundles"]["0"]) == [bundle_field]
    assert written == []


def test_create__supplier_naming_another_supplier__is_403(client, demo):
    other = create_supplier(demo["sub_district_id"])
    body = round_body(demo["community_id"], supplier_id=other["supplier_id"])

    response, written = create(client, body, demo["tokens"]["supplier"])

    error_of(response, 403, "wrong_scope")
    assert written == []


def test_create__supplier_of_another_sub_district__is_400_as_for_an_unknown_community(client, demo):
    other = create_sub_district()
    outsider = create_supplier(other["sub_district_id"])

    response, written = create(client, round_body(demo["community_id"]), outsider["token"])
    unknown, _ = create(client, round_body("01JNOSUCHCOMMUNITY0000000"), outsider["token"])

    assert error_of(response, 400, "bad_input") == error_of(unknown, 400, "bad_input")
    assert written == []


def test_create__liaison_naming_a_supplier_of_another_sub_district__is_400_as_for_an_unknown_supplier(client, demo):
    other = create_sub_district()
    outsider = create_supplier(other["sub_district_id"])
    body = round_body(demo["community_id"], supplier_id=outsider["supplier_id"])
    unknown_body = round_body(demo["community_id"], supplier_id="01JNOSUCHSUPPLIER00000000")

    response, written = create(client, body, demo["tokens"]["liaison"])
    unknown, _ = create(client, unknown_body, demo["tokens"]["liaison"])

    error = error_of(response, 400, "bad_input")
    assert error == error_of(unknown, 400, "bad_input")
    assert set(error["fields"]) == {"supplier_id"}
    assert written == []


def test_create__unknown_community__is_400_naming_the_field_and_writes_nothing(client, demo):
    response, written = create(client, round_body("01JNOSUCHCOMMUNITY0000000"), demo["tokens"]["supplier"])

    error = error_of(response, 400, "bad_input")
    assert "community_ids" in error["fields"]
    assert written == []


def test_create__liaison_for_own_community_naming_supplier__is_201(client, demo):
    body = round_body(demo["community_id"], supplier_id=demo["supplier_id"])

    response, _ = create(client, body, demo["tokens"]["liaison"])

    assert response.status_code == 201, response.body
    assert response.json_body["supplier"]["supplier_id"] == demo["supplier_id"]


def test_create__liaison_without_supplier_id__is_400_naming_supplier_id(client, demo):
    response, written = create(client, round_body(demo["community_id"]), demo["tokens"]["liaison"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {"supplier_id"}
    assert written == []


def test_create__liaison_naming_unknown_supplier__is_400_naming_supplier_id(client, demo):
    body = round_body(demo["community_id"], supplier_id="01JNOSUCHSUPPLIER00000000")

    response, written = create(client, body, demo["tokens"]["liaison"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {"supplier_id"}
    assert written == []


def test_create__liaison_for_another_community__is_400_as_for_an_unknown_community(client, demo):
    elsewhere = create_community(demo["sub_district_id"])
    body = round_body(elsewhere["community_id"], supplier_id=demo["supplier_id"])
    unknown_body = round_body("01JNOSUCHCOMMUNITY0000000", supplier_id=demo["supplier_id"])

    response, written = create(client, body, demo["tokens"]["liaison"])
    unknown, _ = create(client, unknown_body, demo["tokens"]["liaison"])

    error = error_of(response, 400, "bad_input")
    assert error == error_of(unknown, 400, "bad_input")
    assert set(error["fields"]) == {"community_ids"}
    assert written == []


def test_create__admin_for_own_sub_district__is_201(client, demo):
    body = round_body(demo["community_id"], supplier_id=demo["supplier_id"])

    response, _ = create(client, body, demo["tokens"]["admin"])

    assert response.status_code == 201, response.body


def test_create__admin_for_community_of_another_sub_district__is_400_as_for_an_unknown_community(client, demo):
    other = create_sub_district()
    elsewhere = create_community(other["sub_district_id"])
    body = round_body(elsewhere["community_id"], supplier_id=demo["supplier_id"])
    unknown_body = round_body("01JNOSUCHCOMMUNITY0000000", supplier_id=demo["supplier_id"])

    response, written = create(client, body, demo["tokens"]["admin"])
    unknown, _ = create(client, unknown_body, demo["tokens"]["admin"])

    assert error_of(response, 400, "bad_input") == error_of(unknown, 400, "bad_input")
    assert written == []


def test_create__volunteer__is_403(client, demo):
    body = round_body(demo["community_id"], supplier_id=demo["supplier_id"])

    response, written = create(client, body, demo["tokens"]["volunteer"])

    error_of(response, 403, "wrong_role")
    assert written == []


def test_create__resident__is_403(client, demo, resident):
    response, written = create(client, round_body(demo["community_id"]), resident["token"])

    error_of(response, 403, "wrong_role")
    assert written == []


def test_create__without_token__is_401(client, demo):
    response, written = create(client, round_body(demo["community_id"]), None)

    error_of(response, 401, "unauthorized")
    assert written == []


def test_list__bundles_keep_the_order_the_supplier_gave(client, demo, monkeypatch):
    from api import ids
    # rounds.create draws the round id, then one id per bundle. Draw the bundle ids in
    # descending order: the listing must follow the supplier's list, not the ids.
    drawn = iter([ids.new_id(), "01ZZZZZZZZZZZZZZZZZZZZZZZ9", "01ZZZZZZZZZZZZZZZZZZZZZZZ5", "01ZZZZZZZZZZZZZZZZZZZZZZZ1"])
    monkeypatch.setattr(ids, "new_id", lambda: next(drawn))
    names = ["鸡蛋", "大米", "青菜"]
    bundle = round_body(demo["community_id"])["bundles"][0]
    response, _ = create(client, round_body(demo["community_id"], bundles=[{**bundle, "name": n} for n in names]),
                         demo["tokens"]["supplier"])
    assert response.status_code == 201, response.body
    listed = rounds_of(client, demo["community_id"], demo["tokens"]["liaison"]).json_body["rounds"]
    mine = next(r for r in listed if r["round_id"] == response.json_body["round_id"])
    assert [b["name"] for b in mine["bundles"]] == names
    assert [b["bundle_id"][-1] for b in mine["bundles"]] == ["9", "5", "1"]


def test_list_rounds__an_open_round_stays_listed_behind_ten_newer_closed_ones(client, demo):
    from datetime import timedelta

    from api import clock, rounds
    from tests.api.helpers import create_round
    now = clock.now()
    for _ in range(11):
        create_round(demo["tokens"]["supplier"], [demo["community_id"]], opens_at=now - timedelta(days=2),
                     closes_at=now - timedelta(days=1))
    listed = client.http.get(f"/api/rounds?community_id={demo['community_id']}",
                             headers={"authorization": f"Bearer {demo['tokens']['liaison']}"}).json_body["rounds"]
    assert demo["round_id"] in [r["round_id"] for r in listed]  # the demo round is open, and older
    assert len(listed) == 11  # the ten newest, and the open one behind them
