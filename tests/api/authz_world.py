"""Two of everything (three, counting a sibling), for the authz matrix (tests/api/test_authz_matrix.py).

`build(client)` makes sub-districts A and B, and a second community C inside A's sub-district. Each side
has what every route of the API reads or changes: a community (its liaison, volunteer, an active
information officer and a retired one), a supplier with an open round, a flat (a member, a pending
phone, a removed phone) with an order, a neighbouring flat with its own member, pending phone and order,
a third flat whose order is paid and collected, a special household, a slot plan, the community's site
(gate) with its reviewer, gate officer and supervisor, a submitted and an approved delivery and a set of
uploaded checklist files, a supply point with its reporter and a daily report, an allocation received
into the community's ledger, a demand report, background export jobs of the supplier and of the liaison,
and an unused invite. Everything is made through the routes or the same helpers the other API tests use
(tests/api/helpers.py, gate_helpers.py, supply_helpers.py), at gate_helpers.NOW.

The callers are always A's. A route's request is rendered from a *view* of ids: `own` (A's),
`neighbour` (A's, but the neighbouring flat), `sibling` (C's) or `other` (B's).

`Journal` puts the table back, after each test, as it was when the world was built: it records the key
of every item the app writes (through the one botocore client every DynamoDB call goes through,
api/models.dynamodb_client) and afterwards restores those items from a snapshot, or deletes them if they
are new. So a route that closes a round or retires an information officer leaves the next test the same
world, and the world is built once per module. (S3 objects a test makes are left; nothing reads them.)
"""
import json
from datetime import timedelta

import boto3

from api import auth, bootstrap, clock, config, households, models
from tests.api import gate_helpers, supply_helpers
from tests.api.helpers import (
    approve, create_community, create_round, create_supplier, fair_share_off, new_key, place_order, post, put,
    register,
)

# The moment everything happens: the gate helpers' NOW (2026-12-01 10:00 in Beijing), so their delivery
# bodies (arrival the next day, a test taken 2 hours ago) pass every rule.
NOW = gate_helpers.NOW

CALLERS = (
    "anonymous",
    "resident",            # a member of the flat
    "resident_pending",    # a later phone of the same flat, not yet approved
    "resident_removed",    # a phone approved, then removed by the member
    "volunteer", "liaison",
    "info_officer",        # the community's active information officer
    "info_officer_retired",  # the one before, retired by the liaison (their token is still signed and unexpired)
    "supplier", "admin", "reviewer", "gate_officer", "supervisor", "supply_point",
)

# The role each caller's token carries.
ROLE_OF = {caller: caller for caller in CALLERS}
ROLE_OF.update({"anonymous": None, "resident_pending": "resident", "resident_removed": "resident",
                "info_officer_retired": "info_officer"})


def _token_principal(token: str) -> auth.Principal:
    return auth.from_headers({"authorization": f"Bearer {token}"})


def _ok(response, *statuses):
    assert response.status_code in (statuses or (200, 201)), response.body
    return response.json_body


def _invite(client, inviter: str, role: str, scope_id: str, name: str = "") -> str:
    return supply_helpers.invited(client, inviter, role, scope_id, name)


def _flat(client, join_key: str, room: str, phones: tuple[str, str, str]) -> dict:
    """One flat of 1栋: its member, a pending phone and (if a third phone is given) a removed one."""
    member = register(client, join_key, building="1栋", room=room, phone=phones[0])
    assert member["membership"] == "member"
    pending = register(client, join_key, building="1栋", room=room, phone=phones[1])
    assert pending["membership"] == "pending"
    removed = register(client, join_key, building="1栋", room=room, phone=phones[2])
    approve(client, member["token"], removed["member_id"])
    _ok(post(client, f"/api/households/mine/members/{removed['member_id']}/remove", {}, member["token"]))
    flat_key = _token_principal(member["token"]).flat_key
    return {"member": member, "pending": pending, "removed": removed, "household_id": member["household_id"],
            "flat_ref": households.flat_ref(flat_key)}


def _demo_in(sub_district_id: str, admin: str) -> dict:
    """What bootstrap.demo() makes, in an existing sub-district: a community, a supplier and its open round."""
    community = create_community(sub_district_id, "和谐花园小区")
    supplier = create_supplier(sub_district_id, "隔壁生鲜超市")
    cid = community["community_id"]
    made = create_round(supplier["token"], [cid], bootstrap.DEMO_BUNDLES)
    return {"sub_district_id": sub_district_id, "community_id": cid, "join_key": community["join_key"],
            "supplier_id": supplier["supplier_id"], "round_id": made["round_id"], "bundle_ids": made["bundle_ids"],
            "tokens": {"admin": admin, "liaison": bootstrap.create_staff("liaison", cid),
                       "volunteer": bootstrap.create_staff("volunteer", cid), "supplier": supplier["token"],
                       "info_officer": bootstrap.assign_info_officer(cid, "赵阿姨")}}


def _side(client, label: str, phone_prefix: str, within: dict | None = None) -> dict:
    """One sub-district and everything in it (or, `within` a side's sub-district, a second community,
    supplier, site and supply point of it); the ids (a view) and the tokens of its callers."""
    demo = _demo_in(within["sub_district_id"], within["admin"]) if within else bootstrap.demo()
    tokens = dict(demo["tokens"])
    admin, liaison, supplier = tokens["admin"], tokens["liaison"], tokens["supplier"]
    cid, rid = demo["community_id"], demo["round_id"]

    # The information officer: the first one retires, a second is invited.
    tokens["info_officer_retired"] = tokens.pop("info_officer")
    _ok(post(client, f"/api/communities/{cid}/info-officer/retire", {}, liaison))
    tokens["info_officer"] = _invite(client, liaison, "info_officer", cid, "李老师")

    # Residents: flat 1栋 101 (the callers') and 1栋 102 (the neighbour), each with an order.
    mine = _flat(client, demo["join_key"], "101", tuple(f"{phone_prefix}{n:04d}" for n in (1, 2, 3)))
    neighbour = _flat(client, demo["join_key"], "102", tuple(f"{phone_prefix}{n:04d}" for n in (11, 12, 13)))
    fair_share_off(cid)  # a flat with an order may be given another (the assisted order, a second order)
    paid = register(client, demo["join_key"], building="1栋", room="103", phone=f"{phone_prefix}0021")
    orders = {}
    for name, flat in (("mine", mine), ("neighbour", neighbour), ("paid", {"member": paid})):
        placed = place_order(client, flat["member"]["token"], rid, (demo["bundle_ids"][1], 1))
        orders[name] = _ok(placed, 201)
    # The third flat's order is paid and collected (marked by the volunteer, so any of the staff may undo it).
    _ok(post(client, f"/api/rounds/{rid}/payments/confirm", {"order_ids": [orders["paid"]["order_id"]]}, supplier))
    _ok(post(client, f"/api/orders/{orders['paid']['order_id']}/pickup", {"method": "self"}, tokens["volunteer"],
             idempotency_key=new_key()))
    tokens.update(resident=mine["member"]["token"], resident_pending=mine["pending"]["token"],
                  resident_removed=mine["removed"]["token"])
    # The flat is a special household (so a check-in is allowed on it).
    for flat in (mine, neighbour):
        _ok(put(client, f"/api/communities/{cid}/households/{flat['flat_ref']}/special",
                {"category": "elderly_alone", "note": "独居", "contact_name": "王女士"}, liaison))

    # The pickup slot plan for the round.
    start_at = (clock.now() + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)
    plan = _ok(post(client, f"/api/communities/{cid}/rounds/{rid}/slots/generate",
                    {"start_at": clock.iso(start_at), "minutes_per_slot": 15, "households_per_slot": 10,
                     "building_order": ["1栋", "2栋", "3栋", "10栋"]}, liaison), 201)

    # The gate: the community's site, its staff, one submitted and one approved delivery.
    site = gate_helpers.create_site(client, admin, community_id=cid, unloading_points=gate_helpers.POINTS)
    tokens.update(gate_helpers.site_staff(client, admin, site["site_id"]))
    gate = gate_helpers.Gate(client, demo, site, tokens)
    submitted = gate.registered()
    approved = gate.approved(plate="苏N54321")

    # Monitoring: a supply point, its reporter, and today's report.
    point = supply_helpers.supply_point_with_reporter(client, admin)
    tokens["supply_point"] = point["token"]
    commodity = next(iter(point["ids"].values()))
    _ok(supply_helpers.daily_report(client, point, [supply_helpers.price_line(commodity)]), 201)

    # Supply chain: an allocation received into the community's ledger; a demand report.
    allocation = supply_helpers.create_allocation(client, demo, deliver_at=clock.iso(clock.now() + timedelta(days=1)))
    allocation = supply_helpers.advance_to(client, admin, allocation, "received")
    line_id = supply_helpers.ledger(client, liaison, cid)["lines"][0]["line_id"]
    _ok(supply_helpers.report_demand(client, liaison, cid, [supply_helpers.demand_line("rice", 50, "kg")]), 201)

    # A background export of the round, started by its supplier.
    job = _ok(post(client, f"/api/rounds/{rid}/exports/packing/jobs", {"format": "csv"}, supplier), 202)
    liaison_job = _ok(post(client, f"/api/rounds/{rid}/exports/packing/jobs", {"format": "csv"}, liaison), 202)
    # A set of checklist files uploaded by the supplier, for a registration made in a test; an unused invite.
    documents = gate.documents()
    invite = _ok(post(client, "/api/invites", {"role": "volunteer", "scope_id": cid}, liaison), 201)

    view = {
        "sub_district_id": demo["sub_district_id"], "community_id": cid, "join_key": demo["join_key"],
        "supplier_id": demo["supplier_id"], "round_id": rid, "bundle_id": demo["bundle_ids"][0],
                "household_id": mine["household_id"], "flat_ref": mine["flat_ref"],
        "member_id": mine["member"]["member_id"], "pending_member_id": mine["pending"]["member_id"],
        "order_id": orders["mine"]["order_id"], "pickup_code": orders["mine"]["pickup_code"],
        "slot_id": plan["slots"][0]["slot_id"],
        "site_id": site["site_id"], "unloading_point_id": site["unloading_points"][0]["point_id"],
        "delivery_id": submitted["delivery_id"], "approved_delivery_id": approved["delivery_id"],
        "approved_plate": approved["plate"],
        "point_id": point["point_id"], "commodity_id": commodity,
        "commodities": [{k: c[k] for k in ("commodity_id", "name", "category", "unit")} for c in point["commodities"]],
        "allocation_id": allocation["allocation_id"], "line_id": line_id,
        "job_id": job["job_id"], "liaison_job_id": liaison_job["job_id"],
        "documents": documents, "invite_code": invite["code"],
        "paid_order_id": orders["paid"]["order_id"], "paid_pickup_code": orders["paid"]["pickup_code"],
        "slot_edit": {"version": plan["version"], "slots": [
            {"slot_id": slot["slot_id"], "starts_at": slot["starts_at"], "ends_at": slot["ends_at"],
             "groups": [{k: g[k] for k in ("building", "unit", "floors") if k in g} for g in slot["groups"]]}
            for slot in plan["slots"]]},
    }
    neighbour_view = dict(view, household_id=neighbour["household_id"], flat_ref=neighbour["flat_ref"],
                          member_id=neighbour["member"]["member_id"],
                          pending_member_id=neighbour["pending"]["member_id"],
                          order_id=orders["neighbour"]["order_id"], pickup_code=orders["neighbour"]["pickup_code"])
    return {"label": label, "view": view, "neighbour": neighbour_view, "tokens": tokens}


def build(client) -> dict:
    """{"views": {"own", "neighbour", "sibling", "other"}, "tokens": {caller: token}} (the callers are A's).

    `sibling` is a second community of A's own sub-district, with its own supplier, round, site, supply point
    and so on: another scope for every role but A's admin (whose scope is the whole sub-district).
    """
    a = _side(client, "A", "1381234")
    c = _side(client, "C", "1365555", within={"sub_district_id": a["view"]["sub_district_id"],
                                              "admin": a["tokens"]["admin"]})
    b = _side(client, "B", "1397777")
    tokens = {caller: a["tokens"].get(caller) for caller in CALLERS}
    assert all(tokens[c] for c in CALLERS if c != "anonymous"), tokens
    return {"views": {"own": a["view"], "neighbour": a["neighbour"], "sibling": c["view"], "other": b["view"]},
            "tokens": tokens}


# --- putting the table back after each test ------------------------------------------------------

def raw_client():
    """A DynamoDB client of its own (no app hooks on it), for the snapshot and the restore."""
    return boto3.client("dynamodb", region_name=config.REGION)


def snapshot() -> dict:
    items, start = {}, None
    client = raw_client()
    while True:
        page = client.scan(TableName=config.TABLE_NAME, ConsistentRead=True,
                           **({"ExclusiveStartKey": start} if start else {}))
        for item in page["Items"]:
            items[(item["PK"]["S"], item["SK"]["S"])] = item
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


class Journal:
    """The keys the app writes while it is on; `restore()` puts them back as they were in `saved`."""

    def __init__(self, saved: dict):
        self.saved = saved
        self.keys: set[tuple[str, str]] = set()

    def _key(self, item_or_key: dict) -> tuple[str, str]:
        return item_or_key["PK"]["S"], item_or_key["SK"]["S"]

    def _record(self, params, model, **kwargs):
        body = json.loads(params.get("body") or b"{}")
        name = model.name
        if name == "PutItem":
            self.keys.add(self._key(body["Item"]))
        elif name in ("UpdateItem", "DeleteItem"):
            self.keys.add(self._key(body["Key"]))
        elif name == "TransactWriteItems":
            for entry in body["TransactItems"]:
                for action in ("Put", "Update", "Delete"):
                    if action in entry:
                        self.keys.add(self._key(entry[action].get("Item") or entry[action]["Key"]))
        elif name == "BatchWriteItem":
            for requests in body["RequestItems"].values():
                for request in requests:
                    if "PutRequest" in request:
                        self.keys.add(self._key(request["PutRequest"]["Item"]))
                    else:
                        self.keys.add(self._key(request["DeleteRequest"]["Key"]))

    def __enter__(self):
        models.dynamodb_client().meta.events.register("before-call.dynamodb", self._record,
                                                      unique_id="authz-matrix-journal")
        return self

    def __exit__(self, *exc):
        models.dynamodb_client().meta.events.unregister("before-call.dynamodb", unique_id="authz-matrix-journal")
        self.restore()

    def restore(self) -> None:
        client = raw_client()
        for key in self.keys:
            if key in self.saved:
                client.put_item(TableName=config.TABLE_NAME, Item=self.saved[key])
            else:
                client.delete_item(TableName=config.TABLE_NAME, Key={"PK": {"S": key[0]}, "SK": {"S": key[1]}})
        self.keys.clear()


def buckets(create: bool) -> None:
    """The uploads and exports buckets, in the session's moto: created, or emptied and deleted."""
    s3 = boto3.client("s3", region_name=config.REGION)
    for bucket in (config.UPLOADS_BUCKET, config.EXPORTS_BUCKET):
        if create:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.REGION})
        else:
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)


