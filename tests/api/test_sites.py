"""Sites (门岗 / 校区, docs/api.md § The gate, "Sites"): a community's site or a campus, its settings
and defaults (24 h lead, 48 h test, 30 min rest, 84消毒液 1:100), unloading points that keep their ids,
one site per community, and who may create, change and see a site.
"""
import pytest

from api import bootstrap
from tests.api.gate_helpers import (  # noqa: F401 (fixtures)
    POINTS, another_site, bucket, create_site, frozen, gate, gone, invite, site_staff,
)
from tests.api.helpers import (
    create_community, create_sub_district, create_supplier, error_of, get, post, put, register, writes,
)

DEFAULTS = {"lead_hours": 24, "test_valid_hours": 48, "rest_minutes": 30, "disinfectant": "84消毒液",
            "ratio": "1:100", "handover_area": "大门货物接驳区"}
SITE_FIELDS = {"site_id", "name", "community_id", "sub_district_id", "lead_hours", "test_valid_hours",
               "rest_minutes", "disinfectant", "ratio", "unloading_points", "handover_area"}


def settings_of(site: dict) -> dict:
    return {k: site[k] for k in DEFAULTS}


# --- creating -------------------------------------------------------------------------------

def test_create__community_site__is_the_community_with_the_plans_defaults(client, demo):
    response = post(client, "/api/sites", {"community_id": demo["community_id"]}, demo["tokens"]["admin"])
    assert response.status_code == 201, response.body
    site = response.json_body
    assert SITE_FIELDS <= set(site)
    assert site["site_id"] == site["community_id"] == demo["community_id"]
    assert site["name"] == "幸福家园小区" and site["sub_district_id"] == demo["sub_district_id"]
    assert settings_of(site) == DEFAULTS
    assert site["unloading_points"] == []


def test_create__with_settings_and_points__each_point_gets_an_id(client, demo):
    site = create_site(client, demo["tokens"]["admin"], community_id=demo["community_id"], name="幸福家园北门",
                       lead_hours=12, test_valid_hours=24, rest_minutes=45, disinfectant="过氧乙酸",
                       ratio="1:200", unloading_points=POINTS, handover_area="北门外接驳区")
    assert site["name"] == "幸福家园北门"
    assert settings_of(site) == {"lead_hours": 12, "test_valid_hours": 24, "rest_minutes": 45,
                                 "disinfectant": "过氧乙酸", "ratio": "1:200", "handover_area": "北门外接驳区"}
    points = site["unloading_points"]
    assert [(p["name"], p["route"]) for p in points] == [(p["name"], p["route"]) for p in POINTS]
    assert all(p["point_id"] for p in points) and len({p["point_id"] for p in points}) == 2


def test_create__campus_without_community__needs_a_name_and_has_its_own_id(client, demo):
    with writes() as written:
        error = error_of(post(client, "/api/sites", {}, demo["tokens"]["admin"]), 400, "bad_input")
    assert "name" in error["fields"] and written == []
    campus = create_site(client, demo["tokens"]["admin"], name="第一中学校区")
    assert campus["community_id"] is None and campus["name"] == "第一中学校区"
    assert campus["site_id"] != demo["community_id"] and campus["sub_district_id"] == demo["sub_district_id"]
    assert settings_of(campus) == DEFAULTS


def test_create__community_that_already_has_a_site__409_site_exists(client, demo):
    first = create_site(client, demo["tokens"]["admin"], community_id=demo["community_id"])
    with writes() as written:
        error_of(post(client, "/api/sites", {"community_id": demo["community_id"], "name": "又一个"},
                      demo["tokens"]["admin"]), 409, "site_exists")
        error_of(post(client, "/api/sites", {"community_id": demo["community_id"]}, demo["tokens"]["liaison"]),
                 409, "site_exists")
    assert written == []
    assert get(client, f"/api/sites/{first['site_id']}", demo["tokens"]["admin"]).json_body == first


def test_create__liaison__for_their_own_community_only(client, demo):
    other = create_community(demo["sub_district_id"], "和平里小区")
    with writes() as written:
        refused = post(client, "/api/sites", {"community_id": other["community_id"]}, demo["tokens"]["liaison"])
        campus = post(client, "/api/sites", {"name": "联络人的校区"}, demo["tokens"]["liaison"])
    assert refused.status_code in (403, 404), refused.body
    assert campus.status_code in (403, 404), campus.body  # a campus belongs to no liaison
    assert written == []
    own = post(client, "/api/sites", {"community_id": demo["community_id"]}, demo["tokens"]["liaison"])
    assert own.status_code == 201 and own.json_body["site_id"] == demo["community_id"]


def test_create__community_of_another_sub_district__is_not_the_admins(client, demo):
    elsewhere = create_sub_district()
    community = create_community(elsewhere["sub_district_id"], "远方小区")
    with writes() as written:
        response = post(client, "/api/sites", {"community_id": community["community_id"]}, demo["tokens"]["admin"])
    assert response.status_code in (400, 403, 404), response.body
    assert written == []


@pytest.mark.parametrize("field, value", [
    ("lead_hours", 0), ("lead_hours", 169), ("test_valid_hours", 0), ("test_valid_hours", 169),
    ("rest_minutes", 0), ("rest_minutes", 241), ("unloading_points", [{"route": "无名"}]),
    ("surprise", 1),
])
def test_create__settings_out_of_range_or_unknown__400_naming_the_field(client, demo, field, value):
    with writes() as written:
        error = error_of(post(client, "/api/sites", {"community_id": demo["community_id"], field: value},
                              demo["tokens"]["admin"]), 400, "bad_input")
    assert field in error["fields"]
    assert written == []


def test_create__limits_at_the_edges__are_accepted(client, demo):
    site = create_site(client, demo["tokens"]["admin"], community_id=demo["community_id"], lead_hours=168,
                       test_valid_hours=1, rest_minutes=240)
    assert (site["lead_hours"], site["test_valid_hours"], site["rest_minutes"]) == (168, 1, 240)


@pytest.mark.parametrize("role", ["supplier", "volunteer", "info_officer"])
def test_create__other_staff__403_wrong_role(client, demo, role):
    with writes() as written:
        error_of(post(client, "/api/sites", {"community_id": demo["community_id"]}, demo["tokens"][role]),
                 403, "wrong_role")
    assert written == []


def test_create__resident__403_wrong_role_and_no_token_401(client, demo):
    resident = register(client, demo["join_key"])["token"]
    error_of(post(client, "/api/sites", {"community_id": demo["community_id"]}, resident), 403, "wrong_role")
    error_of(post(client, "/api/sites", {"community_id": demo["community_id"]}), 401, "unauthorized")


# --- changing -------------------------------------------------------------------------------

def test_put__keeps_point_ids_sent_back_and_gives_new_ones_to_new_points(client, gate):
    first, second = gate.site["unloading_points"]
    body = {"name": gate.site["name"], "lead_hours": 36, "rest_minutes": 40,
            "unloading_points": [{"point_id": second["point_id"], "name": "2号卸货点（改）", "route": "东门"},
                                 {"name": "3号卸货点", "route": "西门"}]}
    response = put(client, gate.base, body, gate.tokens["admin"])
    assert response.status_code == 200, response.body
    points = response.json_body["unloading_points"]
    assert points[0] == {"point_id": second["point_id"], "name": "2号卸货点（改）", "route": "东门"}
    assert points[1]["name"] == "3号卸货点" and points[1]["point_id"] not in (first["point_id"], second["point_id"])
    assert (response.json_body["lead_hours"], response.json_body["rest_minutes"]) == (36, 40)
    assert get(client, gate.base, gate.tokens["reviewer"]).json_body == response.json_body


def test_put__liaison_of_the_community__may_change_its_site(client, gate):
    response = put(client, gate.base, {"disinfectant": "含氯消毒剂", "ratio": "1:50"}, gate.tokens["liaison"])
    assert response.status_code == 200, response.body
    assert (response.json_body["disinfectant"], response.json_body["ratio"]) == ("含氯消毒剂", "1:50")
    assert response.json_body["unloading_points"] == gate.site["unloading_points"]  # untouched when not sent


def test_put__community_id__cannot_be_changed_400(client, gate):
    other = create_community(gate.demo["sub_district_id"], "和平里小区")
    with writes() as written:
        error = error_of(put(client, gate.base, {"community_id": other["community_id"]}, gate.tokens["admin"]),
                         400, "bad_input")
    assert "community_id" in error["fields"] and written == []


@pytest.mark.parametrize("role", ["reviewer", "gate_officer", "supervisor", "supplier", "volunteer"])
def test_put__site_staff_suppliers_and_volunteers__403_wrong_role(client, gate, role):
    with writes() as written:
        error_of(put(client, gate.base, {"rest_minutes": 1}, gate.tokens[role]), 403, "wrong_role")
    assert written == []
    assert get(client, gate.base, gate.tokens["admin"]).json_body["rest_minutes"] == 30


def test_put__out_of_range__400_and_unchanged(client, gate):
    with writes() as written:
        error = error_of(put(client, gate.base, {"rest_minutes": 241}, gate.tokens["admin"]), 400, "bad_input")
    assert "rest_minutes" in error["fields"] and written == []


# --- seeing -----------------------------------------------------------------------------------

def test_get__managers_site_staff_and_suppliers_of_the_sub_district__see_the_site(client, gate):
    for role in ("admin", "liaison", "reviewer", "gate_officer", "supervisor", "supplier"):
        response = get(client, gate.base, gate.tokens[role])
        assert response.status_code == 200, (role, response.body)
        assert response.json_body == gate.site


def test_list__each_caller_sees_the_sites_they_may_use(client, gate):
    other = another_site(client, gate.demo)
    campus = create_site(client, gate.tokens["admin"], name="第一中学校区")
    both = {gate.sid, other.sid, campus["site_id"]}

    def listed(token):
        response = get(client, "/api/sites", token)
        assert response.status_code == 200, response.body
        return {s["site_id"] for s in response.json_body["sites"]}

    assert listed(gate.tokens["admin"]) == both
    assert listed(gate.tokens["supplier"]) == both
    assert listed(gate.tokens["liaison"]) == {gate.sid}
    assert listed(gate.tokens["gate_officer"]) == {gate.sid}
    assert listed(other.tokens["reviewer"]) == {other.sid}
    elsewhere = create_sub_district()
    assert listed(elsewhere["token"]) == set()
    assert listed(create_supplier(elsewhere["sub_district_id"])["token"]) == set()


def test_get__another_sites_staff_or_liaison__404(client, gate):
    other = another_site(client, gate.demo)
    other_liaison = bootstrap.create_staff("liaison", other.community["community_id"])
    for token in (other.tokens["reviewer"], other.tokens["gate_officer"], other.tokens["supervisor"],
                  other_liaison):
        gone(get(client, gate.base, token))
    with writes() as written:
        gone(put(client, gate.base, {"rest_minutes": 1}, other_liaison))
    assert written == []


def test_get__admin_or_supplier_of_another_sub_district__404(client, gate):
    elsewhere = create_sub_district()
    gone(get(client, gate.base, elsewhere["token"]))
    gone(get(client, gate.base, create_supplier(elsewhere["sub_district_id"])["token"]))
    with writes() as written:
        gone(put(client, gate.base, {"rest_minutes": 1}, elsewhere["token"]))
    assert written == []


def test_get__resident__403_wrong_role(client, gate):
    resident = register(client, gate.demo["join_key"])["token"]
    error_of(get(client, gate.base, resident), 403, "wrong_role")
    error_of(get(client, "/api/sites", resident), 403, "wrong_role")


def test_get__no_such_site__404(client, gate):
    gone(get(client, "/api/sites/01HZZZZZZZZZZZZZZZZZZZZZZZ", gate.tokens["admin"]))


# --- staff ------------------------------------------------------------------------------------

def test_invites__liaison_may_invite_staff_of_their_communitys_site_only(client, gate):
    other = another_site(client, gate.demo)
    token = invite(client, gate.tokens["liaison"], "gate_officer", gate.sid)
    assert get(client, gate.base, token).status_code == 200
    with writes() as written:
        refused = post(client, "/api/invites", {"role": "reviewer", "scope_id": other.sid}, gate.tokens["liaison"])
    assert refused.status_code in (403, 404), refused.body
    assert written == []


def test_invites__campus_staff_join_by_the_admins_invite(client, gate):
    campus = create_site(client, gate.tokens["admin"], name="第一中学校区")
    staff = site_staff(client, gate.tokens["admin"], campus["site_id"])
    assert get(client, f"/api/sites/{campus['site_id']}", staff["supervisor"]).json_body == campus
