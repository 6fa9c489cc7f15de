"""The bootstrap command creates a sub-district whose admin token works."""
import json

from api import auth
from api.models import StaffMember, SubDistrict
from scripts import bootstrap_admin


def test_bootstrap_admin__creates_sub_district_and_a_working_admin_token(table, capsys, client):
    assert bootstrap_admin.main(["--sub-district", "樊城区示范街道"]) == 0
    out = capsys.readouterr().out
    sub_district_id = out.split("sub_district_id:")[1].split()[0]
    token = out.split("admin token:")[1].split()[0]
    assert SubDistrict.get(f"SUBDISTRICT#{sub_district_id}", "SUBDISTRICT").name == "樊城区示范街道"
    principal = auth.from_headers({"authorization": f"Bearer {token}"})
    assert (principal.role, principal.scope_id) == ("admin", sub_district_id)
    assert StaffMember.get(f"STAFF#{principal.subject}", "STAFF").role == "admin"
    assert f"/#/signin/{token}" in out
    # The token is accepted by a route that only admins and liaisons may call.
    r = client.http.post("/api/invites", headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
                         body=json.dumps({"role": "admin", "scope_id": sub_district_id}))
    assert r.status_code == 201
