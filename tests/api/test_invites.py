"""Staff invites: POST /api/invites (admin or liaison) and POST /api/invites/{code}/accept (anyone, once).

An admin invites anyone within their sub-district; a liaison invites only volunteers and liaisons of
their own community. Invites and staff can't be listed without a Scan, so "nothing written" is
checked on the write calls the app makes (helpers.writes).
"""
import json
from datetime import timedelta

import pytest
import time_machine

from api import auth, clock
from tests.api.helpers import (
    create_community, create_sub_district, create_supplier, error_of, get, post, register, writes,
)


def invite(client, token, role, scope_id):
    return post(client, "/api/invites", {"role": role, "scope_id": scope_id}, token)


def refused_invite(client, token, role, scope_id, status, code) -> dict:
    """Ask for an invite that must be refused; checks the refusal and that nothing was written."""
    with writes() as written:
        response = invite(client, token, role, scope_id)
    error = error_of(response, status, code)
    assert written == []
    return error


def accept(client, code):
    return post(client, f"/api/invites/{code}/accept", {})


def new_invite_code(client, demo, role="liaison", by="admin") -> str:
    response = invite(client, demo["tokens"][by], role, demo["community_id"])
    assert response.status_code == 201, response.body
    return response.json_body["code"]


# --- creating ----------------------------------------------------------------------

def test_invite__admin_invites_liaison_of_own_community__is_201_with_code_and_url(client, demo):
    with writes() as written:
        response = invite(client, demo["tokens"]["admin"], "liaison", demo["community_id"])

    assert response.status_code == 201, response.body
    body = response.json_body
    assert body["code"]
    assert body["url"] == f"http://baogong.test/#/invite/{body['code']}"
    assert (body["role"], body["scope_id"]) == ("liaison", demo["community_id"])
    assert body["expires_at"].endswith("Z")
    assert written == ["INVITE"]


def test_invite__codes_differ_between_invites(client, demo):
    codes = {new_invite_code(client, demo) for _ in range(3)}

    assert len(codes) == 3


def test_invite__expires_three_days_after_it_is_made(client, demo):
    moment = clock.now().replace(microsecond=0) + timedelta(hours=1)
    with time_machine.travel(moment, tick=False):
        response = invite(client, demo["tokens"]["admin"], "volunteer", demo["community_id"])

    assert response.json_body["expires_at"] == clock.iso(moment + timedelta(days=3))


@pytest.mark.parametrize("role, scope_key", [
    ("volunteer", "community_id"), ("supplier", "supplier_id"), ("admin", "sub_district_id"),
])
def test_invite__admin__may_invite_any_role_within_the_sub_district(client, demo, role, scope_key):
    response = invite(client, demo["tokens"]["admin"], role, demo[scope_key])

    assert response.status_code == 201, response.body
    assert response.json_body["role"] == role


@pytest.mark.parametrize("role", ["volunteer", "liaison"])
def test_invite__liaison__may_invite_volunteer_or_liaison_of_own_community(client, demo, role):
    response = invite(client, demo["tokens"]["liaison"], role, demo["community_id"])

    assert response.status_code == 201, response.body


def test_invite__liaison_for_another_community__is_403(client, demo):
    other = create_community(demo["sub_district_id"])

    refused_invite(client, demo["tokens"]["liaison"], "volunteer", other["community_id"], 403, "wrong_scope")


@pytest.mark.parametrize("role, scope_key", [("admin", "sub_district_id"), ("supplier", "supplier_id")])
def test_invite__liaison_inviting_admin_or_supplier__is_403(client, demo, role, scope_key):
    refused_invite(client, demo["tokens"]["liaison"], role, demo[scope_key], 403, "wrong_scope")


def test_invite__admin_into_community_of_another_sub_district__is_400_as_for_no_such_scope(client, demo):
    other = create_sub_district("汉江街道")
    foreign = create_community(other["sub_district_id"], "江景花园")

    error = refused_invite(client, demo["tokens"]["admin"], "liaison", foreign["community_id"], 400, "bad_input")
    assert error == refused_invite(client, demo["tokens"]["admin"], "liaison", "01JNOSUCHCOMMUNITY0000000",
                                   400, "bad_input")


def test_invite__admin_of_another_sub_district__cannot_invite_its_admin_or_supplier(client, demo):
    other = create_sub_district("汉江街道")

    refused_invite(client, other["token"], "admin", demo["sub_district_id"], 400, "bad_input")
    refused_invite(client, other["token"], "supplier", demo["supplier_id"], 400, "bad_input")


def test_invite__supplier_of_another_sub_district__is_400_as_for_no_such_scope(client, demo):
    other = create_sub_district("汉江街道")
    foreign_supplier = create_supplier(other["sub_district_id"])

    refused_invite(client, demo["tokens"]["admin"], "supplier", foreign_supplier["supplier_id"], 400, "bad_input")


def test_invite__resident__is_403(client, demo):
    resident = register(client, demo["join_key"])

    refused_invite(client, resident["token"], "volunteer", demo["community_id"], 403, "wrong_role")


def test_invite__without_token__is_401(client, demo):
    refused_invite(client, None, "volunteer", demo["community_id"], 401, "unauthorized")


@pytest.mark.parametrize("role", ["resident", "superuser", "", 1])
def test_invite__bad_role__is_400_naming_role(client, demo, role):
    error = refused_invite(client, demo["tokens"]["admin"], role, demo["community_id"], 400, "bad_input")

    assert set(error["fields"]) == {"role"}


def test_invite__unknown_scope__is_400_naming_scope_id(client, demo):
    error = refused_invite(client, demo["tokens"]["admin"], "liaison", "01JNOSUCHCOMMUNITY0000000", 400, "bad_input")

    assert set(error["fields"]) == {"scope_id"}


def test_invite__unknown_field__is_400_naming_it(client, demo):
    response = post(client, "/api/invites", {"role": "volunteer", "scope_id": demo["community_id"], "admin": True},
                    demo["tokens"]["admin"])

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"admin"}


# --- accepting ----------------------------------------------------------------------

def test_accept__gives_token_role_and_scope_and_creates_the_staff_account(client, demo):
    code = new_invite_code(client, demo)

    with writes() as written:
        response = accept(client, code)

    assert response.status_code == 200
    body = response.json_body
    assert set(body) == {"token", "role", "scope_id"}
    assert (body["role"], body["scope_id"]) == ("liaison", demo["community_id"])
    assert sorted(written) == ["INVITE", "STAFF"]  # the invite marked used and the account, in one transaction


def test_accept__the_token_works_for_the_invited_scope(client, demo):
    token = accept(client, new_invite_code(client, demo)).json_body["token"]

    response = get(client, f"/api/rounds?community_id={demo['community_id']}", token)

    assert response.status_code == 200
    assert [r["round_id"] for r in response.json_body["rounds"]] == [demo["round_id"]]


def test_accept__the_token_is_refused_outside_the_invited_scope(client, demo):
    other = create_community(demo["sub_district_id"])
    token = accept(client, new_invite_code(client, demo, role="volunteer")).json_body["token"]

    error_of(get(client, f"/api/rounds?community_id={other['community_id']}", token), 404, "not_found")


def test_accept__invite_made_by_a_liaison__gives_a_working_volunteer_token(client, demo):
    body = accept(client, new_invite_code(client, demo, role="volunteer", by="liaison")).json_body

    assert body["role"] == "volunteer"
    assert get(client, f"/api/rounds?community_id={demo['community_id']}", body["token"]).status_code == 200


def test_accept__twice__is_409_invite_used_and_creates_no_second_account(client, demo):
    code = new_invite_code(client, demo)
    assert accept(client, code).status_code == 200

    with writes() as written:
        response = accept(client, code)

    error_of(response, 409, "invite_used")
    assert written == []


def test_accept__unknown_code__is_404(client, demo):
    with writes() as written:
        response = accept(client, "no-such-invite-code")

    error_of(response, 404, "not_found")
    assert written == []


def test_accept__after_four_days__is_422_invite_expired(client, demo):
    code = new_invite_code(client, demo)

    with time_machine.travel(clock.now() + timedelta(days=4), tick=False), writes() as written:
        response = accept(client, code)

    error_of(response, 422, "invite_expired")
    assert written == []


def test_accept__on_its_last_day__still_works(client, demo):
    code = new_invite_code(client, demo)

    with time_machine.travel(clock.now() + timedelta(days=2, hours=23), tick=False):
        response = accept(client, code)

    assert response.status_code == 200


def test_accept__retried_with_the_same_idempotency_key__gets_the_same_account_back(client, demo):
    code = client.http.post("/api/invites", body=json.dumps({"role": "volunteer", "scope_id": demo["community_id"]}),
                            headers={"authorization": f"Bearer {demo['tokens']['admin']}",
                                     "content-type": "application/json"}).json_body["code"]
    key = {"idempotency-key": "device-key-0001"}
    first = client.http.post(f"/api/invites/{code}/accept", headers=key)
    again = client.http.post(f"/api/invites/{code}/accept", headers=key)
    assert first.status_code == again.status_code == 200
    subject = auth.from_headers({"authorization": f"Bearer {first.json_body['token']}"}).subject
    assert auth.from_headers({"authorization": f"Bearer {again.json_body['token']}"}).subject == subject
    other = client.http.post(f"/api/invites/{code}/accept", headers={"idempotency-key": "device-key-0002"})
    assert other.status_code == 409 and other.json_body["error"]["code"] == "invite_used"
    assert client.http.post(f"/api/invites/{code}/accept").status_code == 409
