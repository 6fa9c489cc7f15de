"""Pre-approval (入场审批, docs/api.md § The gate, "Pre-approval"): documents sent straight to S3, a
registration checked rule by rule with the clock frozen (lead time, the test's 48 hours, the window,
plates, ID numbers, phones, people, documents, rounds), each refusal writing nothing; the
Idempotency-Key; the day's list and the supplier's; document links; and the review.
"""
import base64
import json
from datetime import timedelta

import pytest
import requests

from api import clock
from tests.api.gate_helpers import (  # noqa: F401 (fixtures)
    ARRIVAL_DAY, ARRIVE_FROM, ARRIVE_UNTIL, DAY_BEFORE, DOCUMENTS, DRIVER_ID, DRIVER_PHONE, JPEG, MB5, NOW, PDF,
    PLATE, PNG, TEST_AT, TEXT, another_site, bad_check_digit, bucket, frozen, gate, gone, id_number, names, stable,
    staff_id,
)
from tests.api.helpers import create_community, create_round, create_sub_district, create_supplier, error_of, \
    put, register, writes


DELIVERY_FIELDS = {"delivery_id", "site_id", "supplier_id", "supplier_name", "plate", "vehicle_type", "mode",
                   "arrive_from", "arrive_until", "cargo", "round_ids", "note", "people", "status", "review", "gate",
                   "server_now"}
GATE_FIELDS = {"arrived_at", "outside_window", "disinfections", "rest_ends_at", "point", "released_at",
               "unloaded_at", "departed_at", "set_down_at", "left_at"}


def refused(gate, body, status: int, code: str | None, *paths: str, token: str | None = None) -> dict:
    """Register `body`, expect the refusal, check it names each of `paths` and that nothing was written."""
    with writes() as written:
        response = gate.register(body, token)
        error = gone(response) if status == 404 else error_of(response, status, code)
    for path in paths:
        assert names(error["fields"], path), (path, error["fields"])
    assert written == []
    return error


def without_phones(delivery: dict) -> dict:
    """A delivery as every reader sees it: phones aside (masked for staff, in full for its supplier)."""
    people = [{k: v for k, v in p.items() if not k.startswith("phone")} for p in delivery["people"]]
    return dict(stable(delivery), people=people)


def mine(gate, token=None) -> list[dict]:
    response = gate.get("/api/suppliers/mine/deliveries", token or gate.tokens["supplier"])
    assert response.status_code == 200, response.body
    return response.json_body["deliveries"]


# --- documents ------------------------------------------------------------------------------

def test_presign__supplier__201_a_post_form_for_one_png_jpeg_or_pdf_up_to_5mb(gate):
    response = gate.presign()
    assert response.status_code == 201, response.body
    form = response.json_body
    assert form["url"] and form["key"] and isinstance(form["fields"], dict)
    assert form["max_bytes"] in (MB5, 5_000_000)
    assert set(form["content_types"]) == {"image/png", "image/jpeg", "application/pdf"}
    assert gate.presign().json_body["key"] != form["key"]
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert policy["expiration"].startswith(clock.iso(NOW + timedelta(minutes=15))[:19])
    assert ["content-length-range", 0, form["max_bytes"]] in policy["conditions"] or any(
        isinstance(c, list) and c[0] == "content-length-range" and c[2] == form["max_bytes"]
        for c in policy["conditions"])


@pytest.mark.parametrize("role", ["reviewer", "gate_officer", "supervisor", "volunteer"])
def test_presign__anyone_but_a_supplier__403_wrong_role(gate, role):
    error_of(gate.presign(gate.tokens[role]), 403, "wrong_role")


def test_presign__supplier_of_another_sub_district__404(gate):
    stranger = create_supplier(create_sub_district()["sub_district_id"])["token"]
    gone(gate.presign(stranger))


# --- registering ------------------------------------------------------------------------------

def test_register__valid__201_submitted_with_masked_id_and_documents_as_flags(gate):
    response = gate.register(gate.body(people=[gate.person(), gate.person("passenger")]))
    assert response.status_code == 201, response.body
    delivery = response.json_body
    assert delivery["status"] == "submitted" and delivery["review"] is None
    assert (delivery["site_id"], delivery["supplier_id"], delivery["supplier_name"]) == (
        gate.sid, gate.demo["supplier_id"], "邻家便利超市")
    assert (delivery["plate"], delivery["vehicle_type"], delivery["mode"]) == (PLATE, "van", "enter")
    assert (delivery["arrive_from"], delivery["arrive_until"]) == (clock.iso(ARRIVE_FROM), clock.iso(ARRIVE_UNTIL))
    assert delivery["cargo"] == ["rice", "vegetables"] and delivery["round_ids"] == []
    driver, passenger = delivery["people"]
    assert (driver["role"], driver["name"], passenger["role"]) == ("driver", "张师傅", "passenger")
    assert driver["id_masked"] == DRIVER_ID[:6] + "********" + DRIVER_ID[-4:]
    assert driver["documents"] == {name: True for name in DOCUMENTS}
    assert driver["test_at"] == clock.iso(TEST_AT)
    assert "id_number" not in driver and DRIVER_ID not in response.body.decode()
    assert delivery["server_now"] == clock.iso(NOW)
    assert set(delivery) >= DELIVERY_FIELDS
    assert set(driver) >= {"role", "name", "id_masked", "phone_masked", "test_at", "documents"}
    assert [d["delivery_id"] for d in mine(gate)] == [delivery["delivery_id"]]


def test_register__plate_typed_loosely__is_stored_upper_case_without_separators(gate):
    assert gate.registered(plate="苏n·123 45")["plate"] == PLATE


@pytest.mark.parametrize("plate", ["苏NI2345", "X12345A", "苏N1234", "", "🚚"])
def test_register__bad_plate__400_naming_plate(gate, plate):
    refused(gate, gate.body(plate=plate), 400, "bad_input", "plate")


@pytest.mark.parametrize("number", [bad_check_digit(DRIVER_ID), DRIVER_ID[:17], DRIVER_ID + "1",
                                    DRIVER_ID[:10] + "A" + DRIVER_ID[11:], ""])
def test_register__bad_id_number__400_naming_the_persons_id(gate, number):
    refused(gate, gate.body(people=[gate.person(id_number=number)]), 400, "bad_input", "people.0.id_number")


def test_register__id_number_with_check_digit_x__is_accepted(gate):
    number = next(n for n in (id_number(f"3201021980010{i:03d}1") for i in range(200)) if n.endswith("X"))
    delivery = gate.registered(people=[gate.person(id_number=number)])
    assert delivery["people"][0]["id_masked"] == number[:6] + "********" + number[-4:]


@pytest.mark.parametrize("phone", ["1391234567", "139123456789", "23912345678", "0710-3456789", ""])
def test_register__bad_phone__400_naming_the_persons_phone(gate, phone):
    refused(gate, gate.body(people=[gate.person(), gate.person("passenger", phone=phone)]), 400, "bad_input",
            "people.1.phone")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_register__a_missing_document__400_naming_it(gate, name):
    driver = gate.person()
    passenger = gate.person("passenger")
    del passenger["documents"][name]
    refused(gate, gate.body(people=[driver, passenger]), 400, "bad_input", f"people.1.documents.{name}")


def test_register__no_driver_two_drivers_none_or_five_passengers__400_naming_people(gate):
    driver = gate.person()
    passengers = [gate.person("passenger", name=f"乘客{n}", id_number=id_number(f"3201061992031500{n}"),
                              phone=f"1860000000{n}") for n in range(5)]
    for people in ([passengers[0]], [driver, dict(passengers[0], role="driver")], [], [driver] + passengers):
        refused(gate, gate.body(people=people), 400, "bad_input", "people")
    assert gate.register(gate.body(people=[driver] + passengers[:4])).status_code == 201


def test_register__document_key_never_uploaded__400(gate):
    unused = gate.presign().json_body["key"]
    refused(gate, gate.body(people=[gate.person(documents=dict(gate.documents(), identity=unused))]), 400,
            "bad_input", "people.0.documents.identity")


def test_register__another_suppliers_upload__400(gate):
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")
    theirs = gate.upload(PNG, token=rival["token"])
    refused(gate, gate.body(people=[gate.person(documents=dict(gate.documents(), health_code=theirs))]), 400,
            "bad_input", "people.0.documents.health_code")


def test_register__made_up_key__400(gate):
    refused(gate, gate.body(people=[gate.person(documents=dict(gate.documents(), commitment="../../etc/passwd"))]),
            400, "bad_input", "people.0.documents.commitment")


def test_register__text_file_sent_as_png__400(gate):
    fake = gate.upload(TEXT, "image/png")
    refused(gate, gate.body(people=[gate.person(documents=dict(gate.documents(), test_report=fake))]), 400,
            "bad_input", "people.0.documents.test_report")


def test_register__file_over_5mb__400_and_one_at_the_limit_is_accepted(gate):
    limit = gate.presign().json_body["max_bytes"]
    too_big = gate.upload(PNG + b"\0" * (limit + 1 - len(PNG)), "image/png")
    refused(gate, gate.body(people=[gate.person(documents=dict(gate.documents(), health_code=too_big))]), 400,
            "bad_input", "people.0.documents.health_code")
    at_limit = gate.upload(PDF + b"\n" * (limit - len(PDF)), "application/pdf")
    assert gate.register(gate.body(people=[gate.person(documents=dict(gate.documents(), commitment=at_limit))])
                         ).status_code == 201


def test_register__png_jpeg_and_pdf_by_their_first_bytes__are_accepted(gate):
    # the declared content type does not matter; the bytes do
    documents = {"health_code": gate.upload(JPEG, "image/png"), "travel_record": gate.upload(PNG, "image/jpeg"),
                 "identity": gate.upload(PDF, "image/png"), "test_report": gate.upload(PNG),
                 "commitment": gate.upload(PDF, "application/pdf")}
    assert gate.register(gate.body(people=[gate.person(documents=documents)])).status_code == 201


@pytest.mark.parametrize("field, value", [("vehicle_type", "bicycle"), ("mode", "drone"), ("cargo", ["gold"]),
                                          ("arrive_from", "tomorrow noon"), ("surprise", True)])
def test_register__unknown_values_or_fields__400_naming_them(gate, field, value):
    refused(gate, gate.body(**{field: value}), 400, "bad_input", field)


# --- the window and the clock -------------------------------------------------------------------

def test_register__window_ending_before_it_starts__400(gate):
    body = gate.body(arrive_from=clock.iso(ARRIVE_UNTIL), arrive_until=clock.iso(ARRIVE_FROM))
    error = refused(gate, body, 400, "bad_input")
    assert names(error["fields"], "arrive_until") or names(error["fields"], "arrive_from"), error["fields"]


def test_register__window_longer_than_24_hours__400_and_24_hours_is_accepted(gate):
    assert put(gate.client, gate.base, {"test_valid_hours": 72}, gate.tokens["admin"]).status_code == 200
    long = gate.body(arrive_until=clock.iso(ARRIVE_FROM + timedelta(hours=24, minutes=1)))
    error = refused(gate, long, 400, "bad_input")
    assert names(error["fields"], "arrive_until") or names(error["fields"], "arrive_from"), error["fields"]
    assert gate.register(gate.body(arrive_until=clock.iso(ARRIVE_FROM + timedelta(hours=24)))).status_code == 201


def test_register__inside_the_lead_time__422_too_late(gate):
    arrive_from = NOW + timedelta(hours=24) - timedelta(minutes=1)
    body = gate.body(arrive_from=clock.iso(arrive_from), arrive_until=clock.iso(arrive_from + timedelta(hours=2)))
    refused(gate, body, 422, "too_late")


def test_register__exactly_the_lead_time_ahead__201(gate):
    arrive_from = NOW + timedelta(hours=24)
    delivery = gate.registered(arrive_from=clock.iso(arrive_from),
                               arrive_until=clock.iso(arrive_from + timedelta(hours=2)))
    assert delivery["status"] == "submitted"


def test_register__lead_time_follows_the_sites_setting(gate):
    assert put(gate.client, gate.base, {"lead_hours": 6}, gate.tokens["admin"]).status_code == 200
    arrive_from = NOW + timedelta(hours=6)
    assert gate.registered(arrive_from=clock.iso(arrive_from),
                           arrive_until=clock.iso(arrive_from + timedelta(hours=2)))["status"] == "submitted"
    early = NOW + timedelta(hours=5, minutes=59)
    refused(gate, gate.body(arrive_from=clock.iso(early), arrive_until=clock.iso(early + timedelta(hours=2))),
            422, "too_late")


def test_register__test_taken_after_arrive_from__422_test_after_arrival(gate):
    late = gate.person("passenger", test_at=clock.iso(ARRIVE_FROM + timedelta(minutes=1)))
    refused(gate, gate.body(people=[gate.person(), late]), 422, "test_after_arrival", "people.1.test_at")


def test_register__test_in_the_future__422_test_after_arrival(gate):
    future = gate.person(test_at=clock.iso(NOW + timedelta(hours=1)))
    refused(gate, gate.body(people=[future]), 422, "test_after_arrival", "people.0.test_at")


def test_register__test_more_than_48h_before_arrive_until__422_test_expired(gate):
    stale = gate.person("passenger", test_at=clock.iso(ARRIVE_UNTIL - timedelta(hours=48, minutes=1)))
    refused(gate, gate.body(people=[gate.person(), stale]), 422, "test_expired", "people.1.test_at")


def test_register__test_exactly_48h_before_arrive_until__201(gate):
    edge = gate.person(test_at=clock.iso(ARRIVE_UNTIL - timedelta(hours=48)))
    assert gate.register(gate.body(people=[edge])).status_code == 201


def test_register__test_validity_follows_the_sites_setting(gate):
    assert put(gate.client, gate.base, {"test_valid_hours": 72}, gate.tokens["admin"]).status_code == 200
    old = gate.person(test_at=clock.iso(ARRIVE_UNTIL - timedelta(hours=72)))
    assert gate.register(gate.body(people=[old])).status_code == 201
    older = gate.person(test_at=clock.iso(ARRIVE_UNTIL - timedelta(hours=72, seconds=1)))
    refused(gate, gate.body(people=[older]), 422, "test_expired", "people.0.test_at")


# --- rounds -------------------------------------------------------------------------------------

def test_register__with_this_suppliers_round_serving_the_community__201(gate):
    delivery = gate.registered(round_ids=[gate.demo["round_id"]])
    assert delivery["round_ids"] == [gate.demo["round_id"]]


def test_register__round_of_another_supplier__400_naming_round_ids(gate):
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")
    theirs = create_round(rival["token"], [gate.demo["community_id"]])
    refused(gate, gate.body(round_ids=[theirs["round_id"]]), 400, "bad_input", "round_ids")


def test_register__round_not_serving_the_sites_community__400_naming_round_ids(gate):
    other = create_community(gate.demo["sub_district_id"], "和平里小区")
    elsewhere = create_round(gate.tokens["supplier"], [other["community_id"]])
    refused(gate, gate.body(round_ids=[gate.demo["round_id"], elsewhere["round_id"]]), 400, "bad_input",
            "round_ids")
    refused(gate, gate.body(round_ids=["01HZZZZZZZZZZZZZZZZZZZZZZZ"]), 400, "bad_input", "round_ids")


# --- who registers ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "liaison", "reviewer", "gate_officer", "supervisor"])
def test_register__anyone_but_a_supplier__403_wrong_role(gate, role):
    refused(gate, gate.body(), 403, "wrong_role", token=gate.tokens[role])


def test_register__resident__403_wrong_role(gate):
    resident = register(gate.client, gate.demo["join_key"])["token"]
    refused(gate, gate.body(), 403, "wrong_role", token=resident)


def test_register__supplier_of_another_sub_district__404(gate):
    stranger = create_supplier(create_sub_district()["sub_district_id"])["token"]
    refused(gate, gate.body(), 404, None, token=stranger)


# --- Idempotency-Key -------------------------------------------------------------------------

def test_register__repeat_with_the_same_idempotency_key__200_the_same_delivery(gate):
    body = gate.body()
    first = gate.register(body, key="delivery-key-0001")
    assert first.status_code == 201, first.body
    with writes() as written:
        again = gate.register(body, key="delivery-key-0001")
    assert again.status_code == 200, again.body
    assert again.json_body["delivery_id"] == first.json_body["delivery_id"]
    assert "DELIVERY" not in written and not any(w.startswith("SITE") for w in written)
    assert [d["delivery_id"] for d in mine(gate)] == [first.json_body["delivery_id"]]
    day = gate.get(f"{gate.base}/deliveries?day={ARRIVAL_DAY}", gate.tokens["reviewer"]).json_body
    assert len(day["deliveries"]) == 1


def test_register__repeat_after_the_lead_time_has_passed__still_200_the_same_delivery(gate, frozen):
    body = gate.body()
    first = gate.register(body, key="delivery-key-0003")
    assert first.status_code == 201, first.body
    frozen.move_to(ARRIVE_FROM - timedelta(hours=1))  # the phone's outbox sends it again, late
    again = gate.register(body, key="delivery-key-0003")
    assert again.status_code == 200, again.body
    assert again.json_body["delivery_id"] == first.json_body["delivery_id"]


def test_register__same_key_with_another_body__refused_and_nothing_new(gate):
    body = gate.body()
    first = gate.register(body, key="delivery-key-0002")
    assert first.status_code == 201
    other = gate.register(dict(body, plate="苏N54321"), key="delivery-key-0002")
    assert other.status_code in (409, 422), other.body
    assert [d["plate"] for d in mine(gate)] == [PLATE]


def test_register__without_idempotency_key__each_post_is_a_delivery(gate):
    gate.registered()
    gate.registered()
    assert len(mine(gate)) == 2


# --- lists and views ----------------------------------------------------------------------------

def _arriving(gate, hours: float, plate: str) -> dict:
    start = ARRIVE_FROM + timedelta(hours=hours)
    return gate.registered(plate=plate, arrive_from=clock.iso(start),
                           arrive_until=clock.iso(start + timedelta(hours=1)))


def test_day_list__the_days_deliveries_in_arrival_order_and_by_status(gate):
    late = _arriving(gate, 3, "苏N00003")      # 15:00 Beijing
    early = _arriving(gate, -2, "苏N00001")    # 10:00 Beijing
    noon = _arriving(gate, 0, "苏N00002")      # 12:00 Beijing
    _arriving(gate, 13, "苏N00004")            # 01:00 the day after, Beijing
    assert gate.review(noon["delivery_id"]).status_code == 200
    response = gate.get(f"{gate.base}/deliveries?day={ARRIVAL_DAY}", gate.tokens["gate_officer"])
    assert response.status_code == 200, response.body
    assert response.json_body["day"] == ARRIVAL_DAY
    assert [d["delivery_id"] for d in response.json_body["deliveries"]] == [
        early["delivery_id"], noon["delivery_id"], late["delivery_id"]]
    approved = gate.get(f"{gate.base}/deliveries?day={ARRIVAL_DAY}&status=approved", gate.tokens["admin"])
    assert [d["plate"] for d in approved.json_body["deliveries"]] == ["苏N00002"]
    assert gate.get(f"{gate.base}/deliveries?day={DAY_BEFORE}", gate.tokens["liaison"]).json_body["deliveries"] == []


def test_day_list__is_one_query_however_many_deliveries(gate, dynamodb_calls):
    for hours in (0, 1, 2, -1):
        _arriving(gate, hours, f"苏N0000{hours + 2}")
    dynamodb_calls.clear()
    response = gate.get(f"{gate.base}/deliveries?day={ARRIVAL_DAY}", gate.tokens["gate_officer"])
    assert len(response.json_body["deliveries"]) == 4
    assert dynamodb_calls["Query"] == 1 and dynamodb_calls["Scan"] == 0, dynamodb_calls


def test_day_list__without_day__is_today_in_beijing(gate, frozen):
    delivery = gate.registered()
    assert gate.get(f"{gate.base}/deliveries", gate.tokens["gate_officer"]).json_body == {
        "day": DAY_BEFORE, "deliveries": []}
    frozen.move_to(ARRIVE_FROM - timedelta(hours=3, minutes=30))  # 08:30 in Beijing, 00:30 UTC
    today = gate.get(f"{gate.base}/deliveries", gate.tokens["gate_officer"]).json_body
    assert today["day"] == ARRIVAL_DAY
    assert [d["delivery_id"] for d in today["deliveries"]] == [delivery["delivery_id"]]


def test_day_list__bad_day__400(gate):
    error_of(gate.get(f"{gate.base}/deliveries?day=2026-13-01", gate.tokens["reviewer"]), 400, "bad_input")


def test_day_list__supplier_and_resident__403(gate):
    error_of(gate.get(f"{gate.base}/deliveries?day={ARRIVAL_DAY}", gate.tokens["supplier"]), 403, "wrong_role")
    resident = register(gate.client, gate.demo["join_key"])["token"]
    error_of(gate.get(f"{gate.base}/deliveries?day={ARRIVAL_DAY}", resident), 403, "wrong_role")


def test_suppliers_list__newest_first_and_only_their_own(gate, frozen):
    first = gate.registered(plate="苏N00001")
    frozen.move_to(NOW + timedelta(minutes=5))
    second = gate.registered(plate="苏N00002", arrive_from=clock.iso(ARRIVE_FROM + timedelta(hours=1)))
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")
    assert gate.register(gate.body(plate="苏N00009", token=rival["token"]), rival["token"]).status_code == 201
    assert [d["delivery_id"] for d in mine(gate)] == [second["delivery_id"], first["delivery_id"]]
    assert [d["plate"] for d in mine(gate, rival["token"])] == ["苏N00009"]


def test_suppliers_list__newest_registration_first_whatever_the_arrival_day(gate, frozen):
    assert put(gate.client, gate.base, {"test_valid_hours": 96}, gate.tokens["admin"]).status_code == 200
    later_day = gate.registered(plate="苏N00001", arrive_from=clock.iso(ARRIVE_FROM + timedelta(days=2)),
                                arrive_until=clock.iso(ARRIVE_FROM + timedelta(days=2, hours=1)),
                                people=[gate.person(test_at=clock.iso(NOW))])
    frozen.move_to(NOW + timedelta(minutes=5))
    sooner = gate.registered(plate="苏N00002")  # registered after, arriving before
    assert [d["delivery_id"] for d in mine(gate)] == [sooner["delivery_id"], later_day["delivery_id"]]


def test_view__site_staff_managers_and_its_supplier_see_it_others_404(gate):
    delivery = gate.registered()
    path = f"{gate.base}/deliveries/{delivery['delivery_id']}"
    for role in ("reviewer", "gate_officer", "supervisor", "admin", "liaison", "supplier"):
        seen = gate.get(path, gate.tokens[role])
        assert seen.status_code == 200, (role, seen.body)
        assert without_phones(seen.json_body) == without_phones(delivery)
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")
    gone(gate.get(path, rival["token"]))
    gone(gate.get(f"{gate.base}/deliveries/01HZZZZZZZZZZZZZZZZZZZZZZZ", gate.tokens["reviewer"]))


def test_view__phones_masked_for_site_staff_and_in_full_for_the_supplier(gate):
    delivery = gate.registered()
    path = f"{gate.base}/deliveries/{delivery['delivery_id']}"
    staff_view = gate.get(path, gate.tokens["reviewer"])
    assert staff_view.json_body["people"][0]["phone_masked"] == "139****5678"
    assert DRIVER_PHONE not in staff_view.body.decode()
    assert DRIVER_PHONE in gate.get(path, gate.tokens["supplier"]).body.decode()


def test_suppliers_list__another_suppliers_delivery__is_not_there(gate):
    gate.registered()
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")
    assert mine(gate, rival["token"]) == []


# --- document links -------------------------------------------------------------------------------

def test_document_link__reviewer_gets_a_presigned_link_to_the_file(gate):
    documents = gate.documents()
    delivery = gate.registered(people=[gate.person(documents=documents)])
    for role in ("reviewer", "supervisor", "admin", "liaison", "supplier"):
        response = gate.get(f"{gate.base}/deliveries/{delivery['delivery_id']}/documents/0/test_report",
                            gate.tokens[role])
        assert response.status_code == 200, (role, response.body)
        url = response.json_body["url"]
        assert "X-Amz-Expires=600" in url or "Expires=" in url
        fetched = requests.get(url, timeout=10)
        assert fetched.status_code == 200 and fetched.content == PDF


def test_document_link__gate_officer_403_other_supplier_404_unknown_document_404(gate):
    delivery = gate.registered()
    base = f"{gate.base}/deliveries/{delivery['delivery_id']}/documents"
    error_of(gate.get(f"{base}/0/identity", gate.tokens["gate_officer"]), 403, "wrong_role")
    rival = create_supplier(gate.demo["sub_district_id"], "隔壁超市")
    gone(gate.get(f"{base}/0/identity", rival["token"]))
    assert gate.get(f"{base}/0/passport", gate.tokens["reviewer"]).status_code in (400, 404)
    assert gate.get(f"{base}/5/identity", gate.tokens["reviewer"]).status_code in (400, 404)


# --- review --------------------------------------------------------------------------------------

def test_review__approve__approved_with_who_and_when(gate, frozen):
    delivery = gate.registered()
    frozen.move_to(NOW + timedelta(hours=1))
    response = gate.review(delivery["delivery_id"])
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["status"] == "approved"
    assert body["review"]["by"] == staff_id(gate.tokens["reviewer"])
    assert body["review"]["at"] == clock.iso(NOW + timedelta(hours=1))
    assert body["review"]["decision"] in ("approve", "approved")
    assert set(body["gate"]) >= GATE_FIELDS
    assert body["gate"]["arrived_at"] is None and body["gate"]["disinfections"] == []
    assert gate.delivery(delivery["delivery_id"])["status"] == "approved"


def test_review__managers_may_review(gate):
    for role in ("admin", "liaison"):
        delivery = gate.registered()
        assert gate.review(delivery["delivery_id"], token=gate.tokens[role]).json_body["status"] == "approved"


def test_review__reject_needs_a_reason(gate):
    delivery = gate.registered()
    with writes() as written:
        error = error_of(gate.review(delivery["delivery_id"], "reject"), 400, "bad_input")
        error_of(gate.review(delivery["delivery_id"], "reject", reason="  "), 400, "bad_input")
    assert "reason" in error["fields"] and written == []
    assert gate.delivery(delivery["delivery_id"])["status"] == "submitted"
    rejected = gate.review(delivery["delivery_id"], "reject", reason="核酸报告不清晰，请重新上传")
    assert rejected.status_code == 200, rejected.body
    assert rejected.json_body["status"] == "rejected"
    assert rejected.json_body["review"]["reason"] == "核酸报告不清晰，请重新上传"


def test_review__already_reviewed__409_already_reviewed(gate):
    delivery = gate.approved()
    with writes() as written:
        error_of(gate.review(delivery["delivery_id"]), 409, "already_reviewed")
        error_of(gate.review(delivery["delivery_id"], "reject", reason="改主意了"), 409, "already_reviewed")
    assert written == []
    assert gate.delivery(delivery["delivery_id"])["status"] == "approved"


def test_review__approve_after_the_window__422_window_passed(gate, frozen):
    delivery = gate.registered()
    frozen.move_to(ARRIVE_UNTIL + timedelta(minutes=1))
    with writes() as written:
        error_of(gate.review(delivery["delivery_id"]), 422, "window_passed")
    assert written == []
    assert gate.delivery(delivery["delivery_id"])["status"] == "submitted"


def test_review__approve_inside_the_window__is_still_allowed(gate, frozen):
    delivery = gate.registered()
    frozen.move_to(ARRIVE_UNTIL)
    assert gate.review(delivery["delivery_id"]).json_body["status"] == "approved"


def test_review__bad_decision__400(gate):
    delivery = gate.registered()
    error_of(gate.review(delivery["delivery_id"], "maybe"), 400, "bad_input")


def test_review__supplier_cannot_approve_its_own_vehicle_403(gate):
    delivery = gate.registered()
    with writes() as written:
        error_of(gate.review(delivery["delivery_id"], token=gate.tokens["supplier"]), 403, "wrong_role")
    assert written == []
    assert gate.delivery(delivery["delivery_id"])["status"] == "submitted"


@pytest.mark.parametrize("role", ["gate_officer", "supervisor", "volunteer"])
def test_review__other_roles__403_wrong_role(gate, role):
    delivery = gate.registered()
    with writes() as written:
        error_of(gate.review(delivery["delivery_id"], token=gate.tokens[role]), 403, "wrong_role")
    assert written == []


def test_review__reviewer_of_another_site__404(gate):
    delivery = gate.registered()
    other = another_site(gate.client, gate.demo)
    with writes() as written:
        gone(gate.review(delivery["delivery_id"], token=other.tokens["reviewer"]))
        # nor through their own site's path
        gone(other.review(delivery["delivery_id"]))
    assert written == []
