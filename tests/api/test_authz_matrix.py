"""The authz matrix: every route × every caller × own scope / another scope gives the expected answer.

Built from the app's route table (`app.routes`): `test_every_route_has_an_entry` fails for a route
without an entry in ROUTES (or an entry for a route that is gone), so a new route must say here who may
call it. The public routes (health, the OpenAPI document, the join QR's two routes, accepting an invite)
are in PUBLIC, with their own test.

The world (tests/api/authz_world.py) is built once for the module: sub-districts A and B, and a second
community C inside A's sub-district, each with everything the routes touch. The callers are always A's
(CALLERS: anonymous; a resident who is a member of their flat, a pending phone of that flat, a removed
phone of it; volunteer, liaison, the active information officer and a retired one, supplier, admin,
reviewer, gate officer, supervisor, supply-point reporter). A case sends one request, rendered from a
*scope* (only the scopes that change the request are run for a route):
- `own`: A's ids (the caller's own community, round, flat, site, supply point…);
- `sibling`: C's ids: another community, supplier, site, point, household… of the caller's own
  sub-district (the admin's own scope; another scope for everyone else);
- `other`: B's ids: all of it in another sub-district;
- `neighbour`: A's ids but another flat of A's community (a flat, an order, a phone, a pickup code):
  staff of the community may see it, a resident may not;
- `mixed`: A's container in the path (community, site, point) with B's things inside it
  (`/communities/<A>/rounds/<B's round>/slots`, `/communities/<A>/ledger/<B's line>/correct`);
- `inner`: as mixed, but A's round too, with B's order, bundle, slot or code in it
  (`/rounds/<A's round>/orders/<B's order>/cancel`).
A route whose request names no data (`/orders/mine`, `/sub-districts/mine/…`) has one scope, `any`.
After each case the table is put back as it was (authz_world.Journal), so every case sees the same world
whatever the request before it changed.

Outcomes (an answer is checked for its status, and for its error code where one is named):
- OK: 2xx;
- PASS: "allowed past authz": any status but 401, 403 and 404 (nor 5xx). Used where the request is
  deliberately not one the rules accept (a step the allocation is not at, an unpaid order, an open
  round) and the refusal is a 400, 409 or 422 that comes after the authz check. Each PASS says why;
- HIDDEN: a refusal (400, 404 or 422) that names the thing as unknown, for a request whose *body* names
  another scope's thing (an allocation to B's community, B's commodity in a report);
- "401", "403", "404", optionally with the code ("401:membership_ended", "403:wrong_role",
  "404:not_a_member"); "a|b" accepts either.
Beyond the status, every case also checks:
- another scope's data looks exactly like data that does not exist: when the expected answer is a
  refusal, the same request with made-up ids of the same shape must get the same status, code and
  message (`unknown_view`); otherwise the difference tells a stranger which ids exist;
- a 2xx JSON answer shows none of B's ids, none of C's households, orders or codes (C's deliveries,
  allocations, lines and rounds either, except to the admin), and, to a resident, none of the other
  flats' (`assert_no_leak`), unless the request named it.

The rule (docs/api.md; the brief of issue 12: a stranger gets a 404): a wrong role is 403 `wrong_role`,
before anything is read; another scope's data is 404, as if it did not exist. A 403 `wrong_scope` is
right only where it is answered without reading anything (a liaison naming another community in an
invite or a new site). A removed phone's token is 401 `membership_ended` on every resident route; a
pending phone sees its community and rounds and is 404 `not_a_member` on the flat's data; a retired
information officer is 404 on the community's console. Where the app differs, the case is
`xfail(strict=True)` naming the route and the bug (XFAILS below).

Tokens: tampered payloads under the old signature, `alg: none`, another secret, HS512, no signature
(`test_token__tampered_or_forged__is_401`), and expiry (`test_token__expired__…`) on a sample of routes
of every role.
"""
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import pytest
import time_machine

from api import auth, clock, config, ids, models, push
from tests.api import authz_world
from tests.api.authz_world import CALLERS, ROLE_OF
from tests.api.helpers import auth_headers

OK, PASS, HIDDEN = "2xx", "pass", "hidden"
STAFF = tuple(sorted(auth.STAFF_ROLES))
EVERYONE = ("resident", *STAFF)
CONSOLE = ("liaison", "info_officer")
PICKUP = ("volunteer", "liaison", "info_officer")
MANAGERS = ("admin", "liaison")
# A `mixed` request names the caller's own container (community, site, supply point, sub-district, supplier)
# and another sub-district's things inside it (`/communities/<own>/ledger/<B's line>/correct`,
# `/communities/<own>/rounds/<B's round>/slots`); an `inner` one also keeps the caller's own round and names
# another's order, bundle, slot or code in it (`/rounds/<own>/orders/<B's order>/cancel`).
_INNER = ("bundle_id", "household_id", "member_id", "pending_member_id", "order_id", "pickup_code", "paid_order_id",
          "paid_pickup_code", "slot_id", "slot_edit", "delivery_id", "approved_delivery_id", "approved_plate",
          "unloading_point_id", "commodity_id", "commodities", "allocation_id", "line_id", "job_id",
          "liaison_job_id", "documents")
LEAF_KEYS = {"mixed": ("round_id", *_INNER), "inner": _INNER}
# A `sibling` request names another community, supplier, site or supply point of the caller's own
# sub-district (and, for a supplier registering a delivery, the caller's own uploads).
SIBLING_OWN_KEYS = ("sub_district_id", "documents")
SUPPLIER_SIBLING_OK = {("supplier", "sibling"): OK}
NOT_COMMUNITY_STAFF = ("reviewer", "gate_officer", "supervisor", "supply_point")
HOUSEHOLD_KEYS = ("household_id", "flat_ref", "member_id", "pending_member_id", "order_id", "pickup_code")

# A small statement in the plain CSV layout (tests/fixtures/statements/plain_en.csv).
STATEMENT = ("Date,Payer,Amount (CNY),Memo,Transaction ID,Status\n"
             "2026-12-01 09:00:00+08:00,Amy,68.00,,4200001635202612015555500001,paid\n").encode()


@dataclass(frozen=True)
class Route:
    """One route's request and who may make it.

    `url` and `body` are format strings / dicts over a view's ids, or callables (view, caller) → value.
    `allow`: the roles past the role check (anyone else: 403 wrong_role; no token: 401). For them, `own`
    is the outcome with the caller's own data, `other` with another sub-district's, `sibling` with another
    of the caller's own sub-district (default: the admin as `own`, anyone else as `other`), `neighbour`
    (residents; staff get `own`) with another flat of the same community, `mixed`/`inner` with another's
    thing inside the caller's own community, site, point or round. `pending`/`removed`: a pending / removed
    phone, where residents are allowed (`pending` in the own scope; elsewhere 404); `retired`: a retired
    information officer, where information officers are allowed. `cases` overrides single cells:
    {(caller, scope or "*"): outcome}. `why` says why any outcome is not the default.
    """

    method: str
    path: str
    allow: tuple[str, ...]
    url: Any
    body: Any = None
    own: str = OK
    other: str = "404"
    neighbour: str = "404"
    mixed: str = "404"
    inner: str | None = None  # as `mixed` unless given
    sibling: str | None = None  # the admin: as `own`, anyone else: as `other`, unless given
    pending: str = "404:not_a_member"
    removed: str = "401:membership_ended"
    retired: str = "404"
    cases: dict = field(default_factory=dict)
    headers: Any = None
    raw: bytes | None = None
    why: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path


def R(method, path, allow, url=None, body=None, **kw) -> Route:  # noqa: N802 - reads as a table row
    return Route(method, path, tuple(allow), url if url is not None else path, body, **kw)


IDEM = {"idempotency_key": lambda: f"matrix-{secrets.token_hex(8)}"}


def delivery_body(v, caller):
    from tests.api import gate_helpers as g
    person = {"role": "driver", "name": "张师傅", "id_number": g.DRIVER_ID, "phone": g.DRIVER_PHONE,
              "test_at": clock.iso(g.TEST_AT), "documents": v["documents"]}
    return {"plate": "苏N11111", "vehicle_type": "van", "mode": "enter", "arrive_from": clock.iso(g.ARRIVE_FROM),
            "arrive_until": clock.iso(g.ARRIVE_UNTIL), "cargo": ["rice"], "round_ids": [], "note": "",
            "people": [person]}


def round_body(v, caller):
    """A new round; a liaison or admin names its supplier, a supplier does not."""
    now = clock.now()
    named = {} if caller == "supplier" else {"supplier_id": v["supplier_id"]}
    return {"name": "矩阵团购", "community_ids": [v["community_id"]], **named,
            "opens_at": clock.iso(now - timedelta(minutes=5)), "closes_at": clock.iso(now + timedelta(days=1)),
            "payment_deadline": clock.iso(now + timedelta(days=1, hours=6)), "payment_qr": "wxp://matrix",
            "bundles": [{"name": "蔬菜包", "price_fen": 3990, "stock": 5, "per_household_limit": 1,
                         "items": [{"name": "白菜", "qty": "1", "unit": "颗"}]}]}


def slot_start(v, caller):
    start = (clock.now() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    return {"start_at": clock.iso(start), "minutes_per_slot": 20, "households_per_slot": 5,
            "building_order": ["1栋", "2栋", "3栋", "10栋"]}


def allocation_body(v, caller):
    return {"category": "rice", "quantity": 100, "unit": "kg", "spec": "5kg/袋", "unit_price": "4.30",
            "source": "supplier", "supplier_id": v["supplier_id"], "community_id": v["community_id"],
            "deliver_at": clock.iso(clock.now() + timedelta(days=1)), "contact_name": "李经理",
            "contact_phone": "13912345678"}


def point_body(v, caller):
    """A supply point as PUT takes it: its commodities keep their ids."""
    return {"name": "城南农贸市场", "kind": "market", "address": "城南路 1 号", "usual_markup_pct": 20,
            "commodities": v["commodities"]}


NEW_POINT = {"name": "城北超市", "kind": "supermarket", "usual_markup_pct": 15,
             "commodities": [{"name": "东北大米", "category": "rice", "unit": "kg"}]}


def export_job_of(v, caller):
    """A job is its creator's (role and scope): the liaison's own job, or the supplier's."""
    return f"/api/export-jobs/{v['liaison_job_id'] if caller == 'liaison' else v['job_id']}"


C = "/api/communities/{community_id}"
FLAT = C + "/households/{flat_ref}"
PLAN = C + "/rounds/{round_id}"
SITE = "/api/sites/{site_id}"
RND = "/api/rounds/{round_id}"
POINT = "/api/supply-points/{point_id}"

ROUTES = [
    # --- the sub-district's supply chain (docs/api.md § The sub-district's supply chain) ------------------
    R("GET", "/api/allocations", ["admin"], "/api/allocations?community_id={community_id}", other=OK,
      why="other: community_id filters the admin's own sub-district's list; another's gives an empty list"),
    R("POST", "/api/allocations", ["admin"], body=allocation_body, other=HIDDEN,
      why="other: another sub-district's community and supplier are refused as no such community (400 on "
          "community_id), exactly as unknown ids are"),
    R("GET", "/api/allocations/{allocation_id}", ["admin", *CONSOLE]),
    R("POST", "/api/allocations/{allocation_id}/advance", ["admin", *CONSOLE], body={"to": "distributed"}, own=PASS,
      why="the allocation is `received` and nothing was handed out: 422 not_all_distributed"),
    R("POST", "/api/allocations/{allocation_id}/paid", ["admin"], body={}, own=PASS,
      why="nothing was settled yet: 422"),
    R("POST", "/api/allocations/{allocation_id}/settle", ["admin"],
      body={"price_source": "entered", "unit_price": "4.30", "reason": "矩阵"}, own=PASS,
      why="the allocation is not distributed yet: 422 not_distributed"),
    R("GET", C + "/allocations", [*CONSOLE, "admin"]),
    R("GET", C + "/demand", [*CONSOLE, "admin"]),
    R("POST", C + "/demand", CONSOLE, body={"lines": [{"category": "rice", "quantity": 5, "unit": "kg"}],
                                             "replace": True}),
    R("GET", C + "/demand/prefill", CONSOLE),
    R("GET", C + "/ledger", [*CONSOLE, "admin"]),
    R("POST", C + "/ledger/distribute", CONSOLE,
      body={"allocation_id": "{allocation_id}", "quantity": 10, "to": {"kind": "households", "text": "1栋"}},
      mixed=HIDDEN, why="mixed: another's allocation is a 400 on allocation_id, as an unknown one is"),
    R("POST", C + "/ledger/{line_id}/correct", CONSOLE, body={"quantity_delta": -1, "reason": "少了一袋"}),
    R("GET", "/api/sub-districts/mine/communities", ["admin"]),
    R("GET", "/api/sub-districts/mine/demand", ["admin"]),
    R("GET", "/api/sub-districts/mine/demand/export", ["admin"]),
    R("GET", "/api/sub-districts/mine/suppliers", ["admin"]),
    R("GET", "/api/settlements/overdue", ["admin"]),
    R("GET", "/api/settlements/statement", ["admin"], "/api/settlements/statement?supplier_id={supplier_id}"),
    # --- market monitoring ----------------------------------------------------------------------------
    R("GET", "/api/supply-points", ["admin"]),
    R("POST", "/api/supply-points", ["admin"], body=NEW_POINT),
    R("PUT", POINT, ["admin"], body=point_body, mixed=HIDDEN,
      why="mixed: another point's commodity ids are a 400 on commodities, as unknown ones are"),
    R("GET", POINT + "/reports", ["supply_point", "admin"]),
    R("POST", POINT + "/reports", ["supply_point"],
      body=lambda v, c: {"replace": True, "lines": [{"commodity_id": v["commodity_id"], "price": "4.20",
                                                      "cost": "3.80", "stock": 900, "sales": 100}]},
      mixed=HIDDEN, why="mixed: another point's commodity is a 400 on lines.0.commodity_id, as an unknown one is"),
    R("GET", POINT + "/reports/form", ["supply_point", "admin"]),
    R("GET", "/api/monitoring/alerts", ["admin"]),
    R("GET", "/api/monitoring/reports", ["admin"]),
    R("GET", "/api/monitoring/series", ["admin"], "/api/monitoring/series?commodity=东北大米&point_id={point_id}",
      other=OK, why="other: point_id filters the admin's own points; another's gives no series"),
    # --- the community, its staff's console (§ Households, members and the roster) ---------------------
    R("GET", C, ["liaison", "info_officer", "volunteer", "admin"]),
    R("PATCH", C + "/settings", MANAGERS, body={"check_in_interval_days": 4}),
    R("PUT", C + "/distribution-point", MANAGERS, body={"name": "南门配送点"}, own=PASS,
      why="one is active already: 409 distribution_point_active"),
    R("POST", C + "/distribution-point/retire", MANAGERS, body={}),
    R("POST", C + "/info-officer/retire", MANAGERS, body={}),
    R("GET", C + "/suppliers", MANAGERS),
    R("GET", C + "/poster", ["liaison", "info_officer", "admin"]),
    R("GET", C + "/roster", CONSOLE),
    R("POST", C + "/households", CONSOLE, body={"building": "2栋", "room": "201", "name": "张奶奶"}),
    R("GET", FLAT, CONSOLE, neighbour=OK),
    R("POST", FLAT + "/members/{member_id}/approve", CONSOLE, FLAT + "/members/{pending_member_id}/approve", body={},
      neighbour=OK),
    R("POST", FLAT + "/members/{member_id}/remove", CONSOLE, FLAT + "/members/{pending_member_id}/remove", body={},
      neighbour=OK),
    R("POST", FLAT + "/handover", CONSOLE, body={"member_id": "{pending_member_id}"}, neighbour=OK),
    R("PUT", FLAT + "/special", CONSOLE, body={"category": "disabled", "needs": "轮椅"}, neighbour=OK),
    R("POST", FLAT + "/special/remove", CONSOLE, body={}, neighbour=OK),
    R("POST", FLAT + "/check-ins", CONSOLE, body={"method": "call", "outcome": "ok"}, neighbour=OK),
    R("POST", FLAT + "/exemptions", CONSOLE, body={"round_id": "{round_id}"}, neighbour=OK),
    R("POST", FLAT + "/orders", CONSOLE, body={"round_id": "{round_id}", "lines": [{"bundle_id": "{bundle_id}",
                                                                                   "qty": 1}]},
      headers=IDEM, neighbour=OK, inner=HIDDEN,
      why="inner: another round's bundle in the caller's round is 422 unknown_bundle, as an unknown bundle is"),
    R("GET", C + "/special-households", CONSOLE),
    R("GET", C + "/unpaid", CONSOLE, C + "/unpaid?round_id={round_id}"),
    # --- pickup day ----------------------------------------------------------------------------------
    R("POST", PLAN + "/slots/generate", CONSOLE, body=slot_start),
    R("GET", PLAN + "/slots", [*CONSOLE, "volunteer"]),
    R("PUT", PLAN + "/slots", CONSOLE, body=lambda v, c: v["slot_edit"], inner=OK,
      why="inner: slot ids in the body only name slots of the caller's own plan; one it does not hold (another "
          "plan's, or made up) is a new slot with a new id"),
    R("POST", PLAN + "/slots/{slot_id}/announce", CONSOLE, body={}),
    R("POST", PLAN + "/arrival", CONSOLE, body={"note": "北门"}),
    R("GET", PLAN + "/door", PICKUP),
    R("GET", PLAN + "/progress", PICKUP),
    R("GET", RND + "/pickup-list", PICKUP, RND + "/pickup-list?building=1栋"),
    R("GET", RND + "/pickup/{code}", PICKUP, RND + "/pickup/{pickup_code}", neighbour=OK),
    R("GET", "/api/orders/{order_id}/pickup", PICKUP, neighbour=OK),
    R("POST", "/api/orders/{order_id}/pickup", PICKUP, "/api/orders/{paid_order_id}/pickup",
      body={"method": "self"}, headers=IDEM),
    R("POST", "/api/orders/{order_id}/pickup/undo", PICKUP, "/api/orders/{paid_order_id}/pickup/undo", body={}),
    R("GET", "/api/notices/mine", ["resident"]),
    R("GET", "/api/push/key", ["resident"]),
    R("POST", "/api/push/subscriptions", ["resident"],
      body={"endpoint": "https://push.example.cn/send/abc",
            "keys": {"p256dh": "B" * 87, "auth": "abcdefghijklmnop"}}),
    R("POST", "/api/push/subscriptions/remove", ["resident"], body={"endpoint": "https://push.example.cn/send/abc"},
      pending=OK),
    # --- residents ------------------------------------------------------------------------------------
    R("GET", "/api/households/mine", ["resident"], pending=OK),
    R("POST", "/api/households/mine/members/{member_id}/approve", ["resident"],
      "/api/households/mine/members/{pending_member_id}/approve", body={}),
    R("POST", "/api/households/mine/members/{member_id}/remove", ["resident"],
      "/api/households/mine/members/{pending_member_id}/remove", body={},
      cases={("resident_pending", "own"): OK},
      why="own, pending caller: the pending phone named is the caller itself, withdrawing its request"),
    R("POST", "/api/orders", ["resident"],
      body={"round_id": "{round_id}", "lines": [{"bundle_id": "{bundle_id}", "qty": 1}]}, headers=IDEM,
      inner=HIDDEN, why="inner: another round's bundle is 422 unknown_bundle, as an unknown bundle is"),
    R("GET", "/api/orders/mine", ["resident"]),
    R("GET", "/api/orders/{order_id}", ["resident"]),
    R("POST", "/api/orders/{order_id}/cancel", ["resident"], body={}),
    R("POST", "/api/orders/{order_id}/payment-claim", ["resident"], body={"reference": "1234"}, headers=IDEM),
    # --- rounds -----------------------------------------------------------------------------------------
    R("GET", "/api/rounds", EVERYONE, "/api/rounds?community_id={community_id}", pending=OK,
      cases={("info_officer_retired", "own"): "403:wrong_scope|404", ("supplier", "sibling"): OK,
             **{(caller, "*"): "403:wrong_role|404" for caller in NOT_COMMUNITY_STAFF}},
      why="residents of the community and its staff (liaison, volunteer, information officer, the sub-district's "
          "admin, its suppliers). Site and supply-point staff look after no community: refused before any lookup "
          "(403 wrong_role) or as for no community (404). A retired information officer knows their community "
          "exists: 403 wrong_scope or 404. sibling: a supplier reaches every community of its sub-district (and "
          "sees its own rounds there: none)"),
    R("POST", "/api/rounds", ["supplier", "liaison", "admin"], body=round_body, other=HIDDEN,
      cases={("supplier", "sibling"): OK},
      why="other: a new round for another sub-district's community (and, by a liaison or admin, its supplier) is "
          "refused as unknown ids are; sibling: a supplier may serve any community of its sub-district, a liaison "
          "only their own"),
    R("GET", RND, ["supplier", "liaison", "info_officer", "volunteer"]),
    R("GET", RND + "/announcement", ["supplier", "liaison", "info_officer"]),
    R("POST", RND + "/bundles/{bundle_id}/stock", ["supplier"], body={"add": 5}),
    R("POST", RND + "/close", ["supplier"], body={}),
    R("POST", RND + "/packed", ["supplier"], body={"community_id": "{community_id}"}, own=PASS,
      why="the round is still open: 422 round_open"),
    R("GET", RND + "/exports/{kind}", ["supplier", "liaison"], RND + "/exports/packing?format=csv"),
    R("POST", RND + "/exports/{kind}/jobs", ["supplier", "liaison"], RND + "/exports/labels/jobs",
      body={"format": "csv"}),
    R("GET", "/api/export-jobs/{job_id}", ["supplier", "liaison"], export_job_of),
    R("GET", RND + "/payment-qr", EVERYONE, pending=OK,
      cases={**{(role, "*"): "404" for role in ("reviewer", "gate_officer", "supervisor", "supply_point")},
             ("admin", "own"): OK},
      why="anyone signed in who may see the round; site and point staff may not, and get 404 as for no round"),
    R("POST", "/api/payment-qr/uploads", ["supplier", "liaison"], body={}),
    R("GET", "/api/suppliers/mine/communities", ["supplier"]),
    R("GET", "/api/suppliers/mine/rounds", ["supplier"]),
    # --- payments ----------------------------------------------------------------------------------------
    R("GET", RND + "/orders", ["supplier", *CONSOLE, "volunteer"]),
    R("POST", RND + "/payments/confirm", ["supplier"], body={"order_ids": ["{order_id}"]}, inner=OK,
      why="inner: another round's order is refused inside the 200, as not_found, as an unknown one is"),
    R("POST", RND + "/payments/undo", ["supplier"], body={"order_id": "{order_id}", "reason": "看错了"}, own=PASS,
      why="the order is not paid: 422"),
    R("POST", RND + "/payments/reject", ["supplier"], body={"order_id": "{order_id}", "reason": "没收到"}, own=PASS,
      why="the order is not claimed: 422"),
    R("POST", RND + "/payments/statement", ["supplier"], raw=STATEMENT),
    R("POST", RND + "/orders/{order_id}/cancel", ["supplier"], body={"reason": "缺货"}),
    R("POST", RND + "/orders/{order_id}/refunded", ["supplier"], body={}, own=PASS,
      why="no refund is due on the order: 422"),
    R("GET", RND + "/ledger", ["supplier"]),
    # --- invites -------------------------------------------------------------------------------------------
    R("POST", "/api/invites", MANAGERS, body={"role": "volunteer", "scope_id": "{community_id}"},
      other=HIDDEN, cases={("liaison", "other"): "403:wrong_scope", ("liaison", "sibling"): "403:wrong_scope"},
      why="other: an invite into another sub-district's community; a liaison is refused without a lookup (403 "
          "wrong_scope: only their own community, tests/api/test_invites.py), an admin as for an unknown scope"),
    # --- the gate ---------------------------------------------------------------------------------------------
    R("GET", "/api/sites", [*MANAGERS, "supplier", "reviewer", "gate_officer", "supervisor"]),
    R("POST", "/api/sites", MANAGERS, body={"community_id": "{community_id}"}, own=PASS,
      cases={("liaison", "other"): "403:wrong_scope", ("liaison", "sibling"): "403:wrong_scope"},
      why="own: the community has its site already: 409 site_exists; other: a liaison naming another community "
          "is refused without a lookup (403 wrong_scope, as for invites and rounds), an admin gets 404"),
    R("GET", SITE, [*MANAGERS, "supplier", "reviewer", "gate_officer", "supervisor"], cases=SUPPLIER_SIBLING_OK,
      why="sibling: suppliers of the sub-district read its sites and register deliveries to any of them"),
    R("PUT", SITE, MANAGERS, body={"rest_minutes": 40}),
    R("POST", SITE + "/documents", ["supplier"], body={}, cases=SUPPLIER_SIBLING_OK),
    R("POST", SITE + "/deliveries", ["supplier"], body=delivery_body, headers=IDEM, mixed=HIDDEN,
      cases=SUPPLIER_SIBLING_OK,
      why="mixed: another supplier's uploaded files are a 400 on the documents, as keys never uploaded are"),
    R("GET", SITE + "/deliveries", [*MANAGERS, "reviewer", "gate_officer", "supervisor"],
      SITE + "/deliveries?day=2026-12-02"),
    R("GET", SITE + "/deliveries/{delivery_id}", [*MANAGERS, "supplier", "reviewer", "gate_officer", "supervisor"]),
    R("GET", SITE + "/deliveries/{delivery_id}/documents/{person}/{name}",
      [*MANAGERS, "supplier", "reviewer", "supervisor"], SITE + "/deliveries/{delivery_id}/documents/0/health_code"),
    R("POST", SITE + "/deliveries/{delivery_id}/review", [*MANAGERS, "reviewer"], body={"decision": "approve"}),
    R("POST", SITE + "/deliveries/{delivery_id}/gate", [*MANAGERS, "gate_officer"],
      SITE + "/deliveries/{approved_delivery_id}/gate", body={"action": "arrive", "plate": "{approved_plate}"}),
    R("POST", SITE + "/gate/turn-away", [*MANAGERS, "gate_officer"],
      body={"plate": "苏N99999", "reason": "未报备"}),
    R("GET", SITE + "/log", [*MANAGERS, "supervisor", "reviewer"], SITE + "/log?day=2026-12-01"),
    R("GET", SITE + "/log/export", [*MANAGERS, "supervisor", "reviewer"], SITE + "/log/export?format=csv"),
    R("GET", "/api/suppliers/mine/deliveries", ["supplier"]),
    # --- operations ----------------------------------------------------------------------------------------
    R("GET", "/api/health/deep", STAFF, retired=OK,
      why="no community's data: any staff token, a retired information officer's too"),
]

# Public routes: anyone, with a token or without. Their own expectations (test_public_route_*).
PUBLIC = {
    ("GET", "/api/health"): ("/api/health", None),
    ("GET", "/api/openapi.json"): ("/api/openapi.json", None),
    ("GET", "/api/join/{join_key}"): ("/api/join/{join_key}", None),
    ("POST", "/api/join/{join_key}/households"): (
        "/api/join/{join_key}/households", {"building": "2栋", "room": "202", "phone": "13600006666"}),
    ("POST", "/api/invites/{code}/accept"): ("/api/invites/{invite_code}/accept", {}),
}

# Where the app does not do what the contract says: {(method, path, caller, scope): reason}. Empty since the
# existence oracles it held (GET and POST /api/rounds, POST /api/invites, the pickup list) answer 404/400 alike.
XFAILS: dict[tuple[str, str, str, str], str] = {}


# --- rendering a case ----------------------------------------------------------------------------------

class Placeholder(dict):
    """A view of made-up ids, to tell at collection time which scopes change a route's request."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def __missing__(self, key):
        if self.scope == "neighbour":
            return f"neighbour:{key}" if key in HOUSEHOLD_KEYS else f"own:{key}"
        if self.scope in ("mixed", "inner"):
            return f"other:{key}" if key in LEAF_KEYS[self.scope] else f"own:{key}"
        if self.scope == "sibling":
            return f"own:{key}" if key in SIBLING_OWN_KEYS else f"sibling:{key}"
        return f"{self.scope}:{key}"


def _fill(template, view, caller):
    if callable(template):
        return template(view, caller)
    if isinstance(template, str):
        return template.format_map(view)
    if isinstance(template, dict):
        return {k: _fill(v, view, caller) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, view, caller) for v in template]
    return template


def render(route: Route, view, caller: str) -> tuple[str, Any]:
    return _fill(route.url, view, caller), _fill(route.body, view, caller)


def scopes_of(route: Route) -> list[str]:
    probe = "resident" if "resident" in route.allow else route.allow[0]
    rendered = {s: render(route, Placeholder(s), probe)
                for s in ("own", "other", "neighbour", "mixed", "inner", "sibling")}
    found = [s for s in ("sibling", "other", "neighbour") if rendered[s] != rendered["own"]]
    if rendered["mixed"] not in (rendered["own"], rendered["other"]):
        found.append("mixed")
    if rendered["inner"] not in (rendered["own"], rendered["other"], rendered["mixed"]):
        found.append("inner")
    return ["own", *found] if found else ["any"]


def expected(route: Route, caller: str, scope: str) -> str:
    role = ROLE_OF[caller]
    for key in ((caller, scope), (caller, "*")):
        if key in route.cases:
            return route.cases[key]
    if role is None:
        return "401:unauthorized"
    if role not in route.allow:
        return "403:wrong_role"
    if caller == "resident_removed":
        return route.removed
    if caller == "resident_pending":
        return route.pending if scope in ("own", "any") else "404"
    if caller == "info_officer_retired":
        return route.retired
    if scope in ("own", "any"):
        return route.own
    if scope == "neighbour":
        return route.neighbour if role == "resident" else route.own
    if scope == "sibling":
        if route.sibling is not None:
            return route.sibling
        return route.own if role == "admin" else route.other
    if scope == "inner" and route.inner is not None:
        return route.inner
    if scope in ("mixed", "inner"):
        return route.mixed
    return route.other


def check(response, outcome: str, label: str) -> None:
    status = response.status_code
    body = response.body[:400] if isinstance(response.body, bytes) else response.body
    assert status < 500, f"{label}: {status} {body!r}"
    if outcome == OK:
        assert 200 <= status < 300, f"{label}: expected 2xx, got {status} {body!r}"
        return
    if outcome == PASS:
        assert status not in (401, 403, 404), f"{label}: expected past authz, got {status} {body!r}"
        return
    if outcome == HIDDEN:  # and test_authz checks it is the answer an unknown id gets
        assert status in (400, 404, 422), f"{label}: expected a refusal as for an unknown id, got {status} {body!r}"
        return
    for alternative in outcome.split("|"):
        want, _, code = alternative.partition(":")
        if status == int(want) and (not code or response.json_body["error"]["code"] == code):
            return
    raise AssertionError(f"{label}: expected {outcome}, got {status} {body!r}")


def send(client, route: Route, world: dict, caller: str, scope: str, token: str | None = None):
    view = world["views"]["own" if scope == "any" else scope]
    return send_view(client, route, view, world["tokens"][caller] if token is None else token, caller)


def send_view(client, route: Route, view: dict, token: str | None, caller: str):
    url, body = render(route, view, caller)
    extra = {name: make() for name, make in (route.headers or {}).items()}
    headers = auth_headers(token, accept="*/*", **extra)  # a file download needs an Accept, as a browser sends
    if route.raw is not None:
        headers["content-type"] = "application/octet-stream"
        return client.http.request(route.method, url, headers=headers, body=route.raw)
    payload = b"" if body is None else json.dumps(body).encode()
    return client.http.request(route.method, url, headers=headers, body=payload)


ID_KEYS = ("sub_district_id", "community_id", "join_key", "supplier_id", "round_id", "bundle_id", "household_id",
           "member_id", "pending_member_id", "order_id", "slot_id", "site_id", "unloading_point_id", "delivery_id",
           "approved_delivery_id", "point_id", "commodity_id", "allocation_id", "line_id", "job_id",
           "liaison_job_id", "paid_order_id", "invite_code")


def unknown_view(view: dict, keys=ID_KEYS) -> dict:
    """`view` with the ids of `keys` swapped for ones of the same shape that name nothing (flat refs are
    positions, so B's flat ref names no flat in a community that does not exist)."""
    made = dict(view)
    for key in keys:
        value = view[key]
        prefix, dash, rest = value.rpartition("-") if key.endswith("delivery_id") else ("", "", value)
        fresh = ids.new_id()[:len(rest)].ljust(len(rest), "0")
        made[key] = f"{prefix}{dash}{fresh}"
    made["pickup_code"] = made["paid_pickup_code"] = "000000"
    return made


def answer_of(response) -> tuple:
    """What a caller can tell apart: the status, and an error's code and messages."""
    try:
        error = response.json_body.get("error") if isinstance(response.json_body, dict) else None
    except ValueError:
        error = None
    if response.status_code < 300 or not error:
        return (response.status_code,)
    return response.status_code, error.get("code"), error.get("message_en")


# What of the sibling community (same sub-district) its admin may see, and nobody else of A.
SIBLING_SECRETS = ("household_id", "member_id", "pending_member_id", "order_id", "pickup_code", "paid_order_id",
                   "paid_pickup_code", "job_id", "liaison_job_id")
SIBLING_STAFF_SECRETS = ("delivery_id", "approved_delivery_id", "allocation_id", "line_id", "round_id")


def secrets_of(world: dict, caller: str) -> dict[str, str]:
    """What a caller of A must never be shown: B's ids, and for a resident the other flat's.

    {text as it would appear in a JSON body: what it is}. Pickup codes are 6 digits, so only a quoted
    one counts.
    """
    def as_json(key, value):
        return f'"{value}"' if key in ("pickup_code", "paid_pickup_code") else value

    found = {}
    for key, value in world["views"]["other"].items():
        if isinstance(value, str) and len(value) >= 6:
            found[as_json(key, value)] = f"B's {key}"
    sibling_keys = SIBLING_SECRETS + (() if ROLE_OF[caller] == "admin" else SIBLING_STAFF_SECRETS)
    for key in sibling_keys:
        found[as_json(key, world["views"]["sibling"][key])] = f"the sibling community's {key}"
    if ROLE_OF[caller] == "resident":
        own, neighbour = world["views"]["own"], world["views"]["neighbour"]
        for key in HOUSEHOLD_KEYS:
            if neighbour[key] != own[key]:
                found[as_json(key, neighbour[key])] = f"the neighbouring flat's {key}"
        found[as_json("paid_pickup_code", own["paid_pickup_code"])] = "another flat's pickup code"
        found[own["paid_order_id"]] = "another flat's order"
    return found


def assert_no_leak(response, world: dict, caller: str, request_text: str, label: str) -> None:
    """A 2xx JSON answer shows nothing of another scope that the request did not name itself."""
    if not 200 <= response.status_code < 300:
        return
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        return
    text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    leaked = {what for value, what in secrets_of(world, caller).items()
              if value in text and value.strip('"') not in request_text}
    assert not leaked, f"{label}: the answer shows {sorted(leaked)}"


# --- the world: once per module ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def table(aws):
    """One table for the module (overrides tests/conftest.py's per-test one); Journal resets it per test."""
    models.create_table()
    yield
    models.Item.delete_table()


@pytest.fixture(scope="module")
def world(table):
    from chalice.test import Client

    from app import app
    ssm = authz_world.boto3.client("ssm", region_name=config.REGION)
    from py_vapid import Vapid02
    key = Vapid02()
    key.generate_keys()
    ssm.put_parameter(Name=config.VAPID_KEY_PARAM, Value=key.private_pem().decode(), Type="SecureString",
                      Overwrite=True)
    push._vapid.cache_clear()
    with time_machine.travel(authz_world.NOW, tick=False) as traveller:
        authz_world.buckets(create=True)
        try:
            with Client(app) as client:
                built = authz_world.build(client)
            own, other = built["views"]["own"], built["views"]["other"]
            built["views"]["sibling"]["documents"] = own["documents"]
            for scope, keys in LEAF_KEYS.items():
                built["views"][scope] = {k: other[k] if k in keys else v for k, v in own.items()}
            built["saved"] = authz_world.snapshot()
            built["traveller"] = traveller
            yield built
        finally:
            authz_world.buckets(create=False)
            ssm.delete_parameter(Name=config.VAPID_KEY_PARAM)
            push._vapid.cache_clear()


@pytest.fixture
def reset(world):
    """Whatever the case writes is put back afterwards."""
    with authz_world.Journal(world["saved"]) as journal:
        yield journal


def _cases():
    for route in ROUTES:
        for scope in scopes_of(route):
            for caller in CALLERS:
                outcome = expected(route, caller, scope)
                reason = XFAILS.get((route.method, route.path, caller, scope))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(route, caller, scope, outcome, marks=marks,
                                   id=f"{route.method} {route.path} | {caller} | {scope} -> {outcome}")


# --- the table covers the app -------------------------------------------------------------------------------

def _app_routes() -> set[tuple[str, str]]:
    from app import app
    return {(method, path) for path, methods in app.routes.items() for method in methods}


def test_every_route_has_an_entry():
    table = [route.key for route in ROUTES]
    assert len(table) == len(set(table)), "a route is listed twice"
    assert set(table) | set(PUBLIC) == _app_routes(), (
        f"without an entry: {sorted(_app_routes() - set(table) - set(PUBLIC))}; "
        f"entries for no route: {sorted(set(table) - _app_routes())}")
    assert not set(table) & set(PUBLIC)


def test_every_xfail_names_a_case():
    cases = {(r.method, r.path, c, s) for r in ROUTES for s in scopes_of(r) for c in CALLERS}
    assert set(XFAILS) <= cases, sorted(set(XFAILS) - cases)


# --- the matrix -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("route, caller, scope, outcome", list(_cases()))
def test_authz(world, reset, client, route, caller, scope, outcome):
    label = f"{route.method} {route.path} as {caller} ({scope})"
    response = send(client, route, world, caller, scope)
    check(response, outcome, label)
    view = world["views"]["own" if scope == "any" else scope]
    url, body = render(route, view, caller)
    assert_no_leak(response, world, caller, url + json.dumps(body, ensure_ascii=False), label)
    role = ROLE_OF[caller]
    refused = outcome not in (OK, PASS)
    if role in route.allow and refused and scope in ("other", "mixed", "inner", "sibling", "neighbour"):
        # Past the role check, another scope's data must look exactly like data that does not exist.
        if scope == "other":
            made_up = unknown_view(world["views"]["other"])
        elif scope == "sibling":
            made_up = unknown_view(world["views"]["sibling"], [k for k in ID_KEYS if k != "sub_district_id"])
        elif scope in ("mixed", "inner"):
            made_up = unknown_view(world["views"][scope], [k for k in ID_KEYS if k in LEAF_KEYS[scope]])
        else:
            made_up = unknown_view(world["views"]["neighbour"], ("household_id", "member_id", "pending_member_id",
                                                                 "order_id"))
        reset.restore()  # the second request sees the world the first one saw
        unknown = send_view(client, route, made_up, world["tokens"][caller], caller)
        assert answer_of(response) == answer_of(unknown), (
            f"{label}: another scope's data answers {answer_of(response)}, an unknown id {answer_of(unknown)}")


# --- public routes: anyone, with any token or none -------------------------------------------------------------

@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("key", sorted(PUBLIC), ids=" ".join)
def test_public_route__anyone__is_2xx(world, reset, client, key, caller):
    method, _ = key
    url, body = PUBLIC[key]
    url = url.format_map(world["views"]["own"])
    headers = auth_headers(world["tokens"][caller], accept="*/*")
    response = client.http.request(method, url, headers=headers, body=b"" if body is None else json.dumps(body))
    assert 200 <= response.status_code < 300, (key, caller, response.status_code, response.body[:300])


def _signed_qr_link(client, world) -> str:
    rounds = client.http.get(f"/api/rounds?community_id={world['views']['own']['community_id']}",
                             headers=auth_headers(world["tokens"]["resident"])).json_body["rounds"]
    return next(r["payment_qr_url"] for r in rounds if r["round_id"] == world["views"]["own"]["round_id"])


def test_payment_qr__signed_link__works_without_a_token_for_its_own_round_only(world, reset, client):
    link = _signed_qr_link(client, world)
    own, other = world["views"]["own"]["round_id"], world["views"]["other"]["round_id"]

    assert client.http.get(link, headers={"accept": "*/*"}).status_code == 200
    elsewhere = client.http.get(link.replace(own, other), headers={"accept": "*/*"})
    tampered = client.http.get(link[:-4] + ("0000" if not link.endswith("0000") else "1111"),
                               headers={"accept": "*/*"})
    assert (elsewhere.status_code, tampered.status_code) == (404, 404)


# --- tokens: tampered, forged, expired ---------------------------------------------------------------------------

def samples(per_caller: int = 3) -> list:
    """For each caller holding a live token, up to `per_caller` routes it may call (2xx in its own scope):
    a write first where it has one, then reads."""
    out = []
    for caller in CALLERS:
        if caller in ("anonymous", "resident_removed", "info_officer_retired"):
            continue
        fitting = [r for r in ROUTES if expected(r, caller, scopes_of(r)[0]) == OK]
        writes = [r for r in fitting if r.method != "GET"][:1]
        chosen = (writes + [r for r in fitting if r.method == "GET"])[:per_caller]
        out += [pytest.param(r, caller, id=f"{caller} {r.method} {r.path}") for r in chosen]
    return out


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(jwt.utils.base64url_decode(part))  # noqa: E731
    return decode(header), decode(payload), signature


def _encode(part: dict) -> str:
    return jwt.utils.base64url_encode(json.dumps(part, separators=(",", ":")).encode()).decode()


def _scope_of_other(world, caller: str) -> str:
    """The other sub-district's id for the caller's kind of scope: what a forger would put in."""
    other = world["views"]["other"]
    scope = auth.SCOPE_OF_ROLE[ROLE_OF[caller]]
    return {"household": other["household_id"], "community": other["community_id"],
            "supplier": other["supplier_id"], "sub_district": other["sub_district_id"], "site": other["site_id"],
            "supply_point": other["point_id"]}[scope]


def tampered(world, caller: str) -> dict[str, str]:
    """Tokens a forger could make from the caller's: name → token."""
    token = world["tokens"][caller]
    header, claims, signature = _parts(token)
    admin_claims = dict(claims, role="admin", scope_id=world["views"]["own"]["sub_district_id"])
    if admin_claims == claims:  # an admin already: make it another sub-district's instead
        admin_claims = dict(claims, scope_id=world["views"]["other"]["sub_district_id"], sub="01JFORGEDADMIN")
    other_claims = dict(claims, scope_id=_scope_of_other(world, caller))
    later = dict(claims, exp=claims["exp"] + 365 * 86400)
    return {
        "payload changed to admin, old signature": f"{_encode(header)}.{_encode(admin_claims)}.{signature}",
        "scope changed to another's, old signature": f"{_encode(header)}.{_encode(other_claims)}.{signature}",
        "expiry pushed back, old signature": f"{_encode(header)}.{_encode(later)}.{signature}",
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "alg none, no signature part": f"{_encode(dict(header, alg='none'))}.{_encode(claims)}.",
        "signed with another secret": jwt.encode(claims, secrets.token_hex(32), algorithm="HS256"),
        "signed with the secret as an HS512 token": jwt.encode(claims, auth._secret(), algorithm="HS512"),
        "signature dropped": f"{_encode(header)}.{_encode(claims)}.",
    }


def test_samples_cover_every_role():
    assert {ROLE_OF[p.values[1]] for p in samples()} == set(auth.SCOPE_OF_ROLE)


@pytest.mark.parametrize("route, caller", samples())
def test_token__tampered_or_forged__is_401(world, reset, client, route, caller):
    scope = scopes_of(route)[0]
    genuine = send(client, route, world, caller, scope)
    assert 200 <= genuine.status_code < 300, genuine.body  # the token itself works
    for name, token in tampered(world, caller).items():
        response = send(client, route, world, caller, scope, token=token)
        assert response.status_code == 401, (name, response.status_code, response.body)
        assert response.json_body["error"]["code"] == "unauthorized", (name, response.body)


@pytest.mark.parametrize("route, caller", samples(per_caller=1))
def test_token__expired__is_401_and_just_before_still_works(world, reset, client, route, caller):
    scope = scopes_of(route)[0]
    ttl = timedelta(days=90 if ROLE_OF[caller] == "resident" else 30)
    with time_machine.travel(authz_world.NOW + ttl - timedelta(minutes=1), tick=False):
        before = send(client, route, world, caller, scope)
    with time_machine.travel(authz_world.NOW + ttl + timedelta(seconds=1), tick=False):
        after = send(client, route, world, caller, scope)
    # Just before expiry the token is still honoured (a 2xx, or a business refusal the later day brings).
    assert before.status_code not in (401, 403, 404), before.body
    assert after.status_code == 401, after.body
    assert after.json_body["error"]["code"] == "unauthorized"


# --- the detector itself ------------------------------------------------------------------------------------------

def test_leak_check__finds_another_scopes_id_in_an_answer(world):
    class Answer:
        status_code, headers = 200, {"Content-Type": "application/json"}

        def __init__(self, text):
            self.body = text.encode()

    b_order = world["views"]["other"]["order_id"]
    neighbour_code = world["views"]["neighbour"]["pickup_code"]
    with pytest.raises(AssertionError, match="B's order_id"):
        assert_no_leak(Answer(f'{{"orders": [{{"order_id": "{b_order}"}}]}}'), world, "liaison", "", "probe")
    with pytest.raises(AssertionError, match="neighbouring flat's pickup_code"):
        assert_no_leak(Answer(f'{{"pickup_code": "{neighbour_code}"}}'), world, "resident", "", "probe")
    assert_no_leak(Answer(f'{{"filter": "{b_order}"}}'), world, "liaison", f"?order_id={b_order}", "probe")
