"""api.auth: signed tokens, the caller they prove, and roles mapped to scopes."""
import base64
import json
from datetime import timedelta

import pytest
import time_machine

from api import auth, clock
from api.auth import Principal
from api.errors import Forbidden, Unauthorized


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def test_issue_then_from_headers__round_trips_a_resident(aws):
    resident = Principal(role="resident", scope_id="hh1", subject="hh1", community_id="c1",
                         flat_key="B001#U00#R00000101")

    assert auth.from_headers(bearer(auth.issue(resident))) == resident


def test_issue_then_from_headers__round_trips_staff_without_flat(aws):
    liaison = Principal(role="liaison", scope_id="c1", subject="staff1")

    assert auth.from_headers(bearer(auth.issue(liaison))) == liaison


def test_from_headers__bearer_scheme_is_case_insensitive(aws):
    token = auth.issue(Principal(role="admin", scope_id="sd1", subject="s1"))

    assert auth.from_headers({"authorization": f"bearer {token}"}).role == "admin"


@pytest.mark.parametrize("headers", [{}, {"authorization": ""}, {"authorization": "Bearer"},
                                     {"authorization": "Bearer "}, {"authorization": "Token abc"},
                                     {"authorization": "Bearer a.b.c"}])
def test_from_headers__missing_or_malformed__is_unauthorized(aws, headers):
    with pytest.raises(Unauthorized) as caught:
        auth.from_headers(headers)

    assert caught.value.status == 401
    assert caught.value.message and caught.value.message_en


def test_from_headers__payload_changed_after_signing__is_unauthorized(aws):
    token = auth.issue(Principal(role="volunteer", scope_id="c1", subject="s1"))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    promoted = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=").decode()

    with pytest.raises(Unauthorized):
        auth.from_headers(bearer(f"{header}.{promoted}.{signature}"))


@pytest.mark.parametrize("role, days_valid", [("resident", 90), ("supplier", 30)])
def test_token__expires_after_its_lifetime(aws, role, days_valid):
    token = auth.issue(Principal(role=role, scope_id="x", subject="x"))

    with time_machine.travel(clock.now() + timedelta(days=days_valid - 1), tick=False):
        assert auth.from_headers(bearer(token)).role == role
    with time_machine.travel(clock.now() + timedelta(days=days_valid, minutes=1), tick=False):
        with pytest.raises(Unauthorized):
            auth.from_headers(bearer(token))


@pytest.mark.parametrize("role, scope", [
    ("resident", "household"), ("volunteer", "community"), ("liaison", "community"),
    ("supplier", "supplier"), ("admin", "sub_district"),
    ("reviewer", "site"), ("gate_officer", "site"), ("supervisor", "site"), ("supply_point", "supply_point"),
])
def test_principal__role_maps_to_its_scope(role, scope):
    assert Principal(role=role, scope_id="x", subject="x").scope == scope


def test_staff_roles__are_every_role_but_resident():
    assert auth.STAFF_ROLES == {"volunteer", "liaison", "info_officer", "supplier", "admin",
                                "reviewer", "gate_officer", "supervisor", "supply_point"}


def test_require__allowed_role__returns_the_principal(aws):
    token = auth.issue(Principal(role="supplier", scope_id="sup1", subject="s1"))

    assert auth.require(bearer(token), "supplier", "liaison").scope_id == "sup1"


def test_require__other_role__is_forbidden_wrong_role(aws):
    token = auth.issue(Principal(role="volunteer", scope_id="c1", subject="s1"))

    with pytest.raises(Forbidden) as caught:
        auth.require(bearer(token), "supplier", "liaison")

    assert (caught.value.status, caught.value.code) == (403, "wrong_role")


def test_require__no_token__is_unauthorized_before_role_is_checked(aws):
    with pytest.raises(Unauthorized):
        auth.require({}, "resident")
