"""Contract fuzzing of the running stack (issue 12, point 1): what tests/stack/test_fuzz.py runs.

schemathesis reads GET /api/openapi.json from the running `make dev` and, for every operation and every
role, sends generated requests (schema-valid ones and schema-breaking ones) with that role's token. Each
answer must pass three checks: no 5xx (`not_a_server_error`), a body that matches its documented schema
where one is documented (`response_schema_conformance`), and no stack trace or Python exception name in
any body (`no_stack_trace`, below).

The stack is shared with other tests, so the fuzz works in a tenant of its own: a second demo
sub-district, seeded the way `make dev` seeds its own (api/bootstrap.demo, run in a subprocess against
the stack's moto, like `scripts.bootstrap_admin --local`), with its own community, supplier, round and
staff. Everything else it needs is made over HTTP, as a person would: a resident through the join key;
a site, a supply point and their staff through invites; orders, a slot plan, an allocation with a
ledger line, an export job, a registered delivery. Their ids fill the path parameters (and the id
fields of bodies and query strings) most of the time, so requests get past the 404s into the rules;
the rest of the time the generated value is sent. Every request goes to the stack on 127.0.0.1.

`python -m tests.stack.fuzz_support seed` is the seeding subprocess (its environment points it at the
stack's moto); it prints the new tenant as one JSON line.
"""
import builtins
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

ROOT = Path(__file__).resolve().parents[2]

# Every role of api/auth.py, and a caller without a token.
ROLES = ("admin", "liaison", "info_officer", "volunteer", "supplier", "resident",
         "reviewer", "gate_officer", "supervisor", "supply_point")
ANONYMOUS = "anonymous"
CALLERS = ROLES + (ANONYMOUS,)
EXPORT_KINDS = ("picklist", "packing", "boxes", "labels")
DOCUMENTS = ("health_code", "travel_record", "identity", "test_report", "commitment")
TIMEOUT = 60  # seconds for one request; a slower answer is a finding of its own


# --- the fuzz's own tenant ------------------------------------------------------------------------

def seed_tenant(info: dict) -> dict:
    """A second demo sub-district in the running stack (bootstrap.demo against its moto): dev.json's shape."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BAOGONG_"))}
    env.update(BAOGONG_AWS_ENDPOINT=info["moto_url"], BAOGONG_STAGE="local", BAOGONG_PUBLIC_URL=info["base_url"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="cn-north-1")
    done = subprocess.run([sys.executable, "-m", "tests.stack.fuzz_support", "seed"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"seeding the fuzz tenant failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]), base_url=info["base_url"],
                moto_url=info["moto_url"])


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(first17: str) -> str:
    """A resident ID number (GB 11643) with its check digit."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


# The smallest PNG there is (1x1), enough for an upload checked by its first bytes.
_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class Tenant:
    """The fuzz's tenant: a token for every role and real ids for the path parameters."""

    def __init__(self, seed: dict):
        self.base_url = seed["base_url"]
        assert urlparse(self.base_url).hostname == "127.0.0.1", self.base_url  # the fuzz stays on this machine
        self.seed = seed
        self.tokens: dict[str, str] = dict(seed["tokens"])
        self.http = requests.Session()
        self.ids: dict[str, list[str]] = {}
        self.hints: dict[str, list] = {}  # plausible values for named fields
        self._phones = iter(f"139{n:08d}" for n in range(int(time.time()) % 10_000_000, 10**8))
        self._rooms = iter(range(101, 10_000))

    # HTTP as a person would, each answer checked
    def call(self, method: str, path: str, role: str | None = None, body=None, expect=(200, 201, 202),
             headers: dict | None = None) -> dict:
        sent = dict(headers or {})
        if role:
            sent["Authorization"] = f"Bearer {self.tokens[role]}"
        response = self.http.request(method, self.base_url + path, json=body, headers=sent, timeout=TIMEOUT)
        if response.status_code not in expect:
            raise RuntimeError(f"fuzz set-up: {method} {path} as {role} gave {response.status_code}: {response.text}")
        return response.json() if response.content else {}

    def _add(self, name: str, *values: str) -> None:
        self.ids.setdefault(name, [])
        self.ids[name] += [v for v in values if v and v not in self.ids[name]]

    def provision(self) -> "Tenant":
        s = self.seed
        cid = s["community_id"]
        now = datetime.now(timezone.utc)
        self._add("community_id", cid)
        self._add("join_key", s["join_key"])
        self._add("supplier_id", s["supplier_id"])
        self._add("sub_district_id", s["sub_district_id"])
        self._add("kind", *EXPORT_KINDS)
        self._add("name", *DOCUMENTS)
        self._add("person", "0")
        self.hints = {
            "building": ["1栋", "2栋", "3栋", "10栋"], "unit": ["", "1单元", "2单元"], "room": ["101", "1502", "2"],
            "phone": ["13912345678", "18688886666"], "contact_phone": ["13912345678", "0710-3456789"],
            "plate": ["苏N12345", "京AD12345"], "id_number": [_id_number("32010219800101123")],
            "reference": ["123456", "8812"], "unit_price": ["4.30"], "price": ["12.50"], "price_fen": [1250],
            "cost": ["10.00"],
            "day": [now.astimezone(timezone(timedelta(hours=8))).date().isoformat()],
            "qty": [1, 2], "quantity": [1, 5], "version": [1, 2], "building_order": [["1栋", "2栋", "3栋", "10栋"]],
            **{name: [_iso(now + timedelta(hours=hours))] for name, hours in (
                ("opens_at", -1), ("closes_at", 48), ("payment_deadline", 72), ("start_at", 3), ("starts_at", 4),
                ("ends_at", 5), ("arrive_from", 26), ("arrive_until", 30), ("deliver_at", 24), ("test_at", -2),
                ("at", -1))},
        }
        # The fuzz's community lets a flat order again at once, so orders get past the fair-share rule.
        self.call("PATCH", f"/api/communities/{cid}/settings", "liaison", {"fair_share_days": 0})

        # A round of the fuzz's own, with stock enough for everything the fuzz orders, beside the seeded one.
        big = self.open_round()
        self.round_id = big["round_id"]
        self._add("round_id", self.round_id, s["round_id"])
        self._add("bundle_id", *(b["bundle_id"] for b in big["bundles"]), *s["bundle_ids"])

        # Residents: the fuzz's resident, a second phone of its flat (pending: approve/remove/handover
        # act on it), and a second flat whose order the supplier confirms (paid: the pickup routes).
        resident = self.join()
        self.tokens["resident"] = resident["token"]
        self.resident = resident
        self.new_pending_member()
        self.order_of(resident["token"], self.round_id)
        paid_flat = self.join()
        paid = self.order_of(paid_flat["token"], self.round_id)
        self.call("POST", f"/api/rounds/{self.round_id}/payments/confirm", "supplier", {"order_ids": [paid["order_id"]]})
        self._add("household_id", resident["household_id"], paid_flat["household_id"])
        # The resident's flat is a special household, so check-ins and door delivery have one to act on.
        self.call("PUT", f"/api/communities/{cid}/households/{self.ids['flat_ref'][0]}/special", "liaison",
                  {"category": "elderly_alone", "needs": "送货上门"})

        # The community's site (its gate) and its three kinds of staff, by invite.
        site = self.call("POST", "/api/sites", "admin", {
            "community_id": cid, "unloading_points": [{"name": "1号卸货点", "route": "北门→主路"}]})
        self._add("site_id", site["site_id"])
        self._add("unloading_point_id", *(p["point_id"] for p in site["unloading_points"]))
        for role in ("reviewer", "gate_officer", "supervisor"):
            self.tokens[role] = self.invited(role, site["site_id"])

        # A supply point and its reporter.
        point = self.call("POST", "/api/supply-points", "admin", {
            "name": "模糊测试农贸市场", "kind": "market", "address": "fuzz", "commodities": [
                {"name": "大米", "category": "rice", "unit": "kg"}, {"name": "鸡蛋", "category": "eggs", "unit": "斤"}]})
        self._add("supply_point_id", point["point_id"])
        self._add("commodity_id", *(c["commodity_id"] for c in point["commodities"]))
        self.tokens["supply_point"] = self.invited("supply_point", point["point_id"])

        # An allocation received by the community and one ledger line handed out of it.
        allocation = self.call("POST", "/api/allocations", "admin", {
            "category": "rice", "quantity": 1000, "unit": "kg", "unit_price": "4.30", "source": "supplier",
            "supplier_id": s["supplier_id"], "community_id": cid, "deliver_at": _iso(now + timedelta(days=1)),
            "contact_name": "李经理", "contact_phone": "13912345678"})
        for step in ("allocated", "dispatched", "received"):
            self.call("POST", f"/api/allocations/{allocation['allocation_id']}/advance", "admin", {"to": step})
        fresh = self.call("POST", "/api/allocations", "admin", {
            "category": "eggs", "quantity": 50, "unit": "箱", "unit_price": "120", "source": "reserve",
            "reserve_name": "区储备库", "community_id": cid, "deliver_at": _iso(now + timedelta(days=1)),
            "contact_name": "王科长", "contact_phone": "13912345678"})
        self._add("allocation_id", allocation["allocation_id"], fresh["allocation_id"])
        self.call("POST", f"/api/communities/{cid}/ledger/distribute", "liaison", {
            "allocation_id": allocation["allocation_id"], "quantity": 10, "to": {"kind": "households", "text": "1栋"}})
        lines = self.call("GET", f"/api/communities/{cid}/ledger", "liaison")
        self._add("line_id", *(line["line_id"] for line in lines.get("lines", []) if line.get("line_id")))

        # A slot plan for the fuzz's round, an export job, a registered delivery and an unused invite.
        plan = self.call("POST", f"/api/communities/{cid}/rounds/{self.round_id}/slots/generate", "liaison", {
            "start_at": _iso(now + timedelta(hours=3)), "minutes_per_slot": 30, "households_per_slot": 50,
            "building_order": ["1栋", "2栋", "3栋", "10栋"]})
        self._add("slot_id", *(slot["slot_id"] for slot in plan["slots"]))
        job = self.call("POST", f"/api/rounds/{self.round_id}/exports/picklist/jobs", "supplier", {"format": "csv"})
        self._add("job_id", job["job_id"])
        self._add("delivery_id", self.delivery(site["site_id"], now)["delivery_id"])
        self._add("invite_code", self.call("POST", "/api/invites", "admin", {"role": "volunteer", "scope_id": cid})["code"])
        return self

    def open_round(self) -> dict:
        """A round of the fuzz's community, open for five days, with stock for everything the fuzz orders."""
        now = datetime.now(timezone.utc)
        return self.call("POST", "/api/rounds", "supplier", {
            "name": "模糊测试 fuzz round", "community_ids": [self.seed["community_id"]],
            "opens_at": _iso(now - timedelta(hours=1)), "closes_at": _iso(now + timedelta(days=5)),
            "payment_deadline": _iso(now + timedelta(days=6)), "payment_qr": "wxp://f2f0-fuzz", "bundles": [
                {"name": "大米", "items": [{"name": "大米", "qty": "5", "unit": "kg"}], "price_fen": 5000,
                 "stock": 100000, "per_household_limit": 99},
                {"name": "蔬菜", "items": [{"name": "白菜", "qty": "1", "unit": "颗"}], "price_fen": 1200,
                 "stock": 100000, "per_household_limit": 99}]})

    def join(self) -> dict:
        """A new flat of the community (1栋 has no units), registered through the join key."""
        return self.call("POST", f"/api/join/{self.seed['join_key']}/households", None, {
            "building": "1栋", "room": str(next(self._rooms)), "phone": next(self._phones)})

    def new_pending_member(self) -> str:
        """A second phone on the resident's flat: a pending member the member routes act on."""
        flat = self.resident["flat"]
        pending = self.call("POST", f"/api/join/{self.seed['join_key']}/households", None, {
            "building": flat["building"], "unit": flat.get("unit") or "", "room": flat["room"],
            "phone": next(self._phones)})
        self.ids["member_id"] = [pending["member_id"]] + self.ids.get("member_id", [])[:3]
        mine = self.call("GET", "/api/households/mine", "resident")
        self._add("member_id", mine["me"]["member_id"])
        roster = self.call("GET", f"/api/communities/{self.seed['community_id']}/roster", "liaison")
        self._add("flat_ref", *(h["flat_ref"] for h in roster["households"]
                                if h["household_id"] == self.resident["household_id"]))
        return pending["member_id"]

    def order_of(self, token: str, round_id: str) -> dict:
        bundle = next(b for b in self.ids["bundle_id"])
        order = self.call("POST", "/api/orders", None, {"round_id": round_id, "lines": [{"bundle_id": bundle, "qty": 1}]},
                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
        self._add("order_id", order["order_id"])
        self._add("pickup_code", order["pickup_code"])
        return order

    def invited(self, role: str, scope_id: str) -> str:
        code = self.call("POST", "/api/invites", "admin", {"role": role, "scope_id": scope_id})["code"]
        return self.call("POST", f"/api/invites/{code}/accept", None, {})["token"]

    def delivery(self, site_id: str, now: datetime) -> dict:
        """A delivery the supplier registers for tomorrow, with its five checked documents uploaded to S3."""
        documents = {}
        for name in DOCUMENTS:
            form = self.call("POST", f"/api/sites/{site_id}/documents", "supplier", {})
            assert form["url"].startswith("http://127.0.0.1:"), form["url"]  # the stack's own moto
            sent = self.http.post(form["url"], data={**form["fields"], "Content-Type": "image/png"},
                                  files={"file": ("document", _PNG, "image/png")}, timeout=TIMEOUT)
            sent.raise_for_status()
            documents[name] = form["key"]
        driver = {"role": "driver", "name": "张师傅", "id_number": _id_number("32010219800101123"),
                  "phone": "13912345678", "test_at": _iso(now - timedelta(hours=2)), "documents": documents}
        self.hints.update(documents=[documents], people=[[driver]])
        return self.call("POST", f"/api/sites/{site_id}/deliveries", "supplier", {
            "plate": "苏N12345", "vehicle_type": "van", "mode": "enter",
            "arrive_from": _iso(now + timedelta(hours=26)), "arrive_until": _iso(now + timedelta(hours=30)),
            "cargo": ["rice"], "round_ids": [self.round_id],
            "people": [driver]})

    # --- keeping the tenant usable between operations ---------------------------------------------

    def prepare(self, path: str) -> None:
        """Before an operation: an invite nobody has accepted yet, for POST /api/invites/{code}/accept."""
        if path.startswith("/api/invites/"):
            code = self.call("POST", "/api/invites", "admin", {"role": "volunteer", "scope_id": self.seed["community_id"]})
            self.ids["invite_code"] = [code["code"]]

    def repair(self) -> list[str]:
        """After an operation: put back what it may have used up: the resident (a removed or handed-over
        phone), the pending member, the information officer (retired), the distribution point (retired)
        and the open round (closed). Returns what was repaired, for the log."""
        repaired = []
        cid = self.seed["community_id"]
        if self.http.get(f"{self.base_url}/api/households/mine", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {self.tokens['resident']}"}).status_code != 200:
            self.resident = self.join()
            self.tokens["resident"] = self.resident["token"]
            self._add("household_id", self.resident["household_id"])
            self.ids["flat_ref"] = []
            self.order_of(self.resident["token"], self.round_id)
            repaired.append("resident")
        mine = self.call("GET", "/api/households/mine", "resident")
        if not any(m["status"] == "pending" for m in mine.get("members", [])):
            self.new_pending_member()
            repaired.append("pending member")
        if "resident" in repaired:
            self.call("PUT", f"/api/communities/{cid}/households/{self.ids['flat_ref'][0]}/special", "liaison",
                      {"category": "elderly_alone", "needs": "送货上门"})
        community = self.call("GET", f"/api/communities/{cid}", "liaison")
        if (community.get("settings") or {}).get("fair_share_days", 0) != 0:
            self.call("PATCH", f"/api/communities/{cid}/settings", "liaison", {"fair_share_days": 0})
            repaired.append("fair share off")
        if community.get("info_officer") is None:
            self.tokens["info_officer"] = self.invited("info_officer", cid)
            repaired.append("info_officer")
        if community.get("distribution_point") is None:
            self.call("PUT", f"/api/communities/{cid}/distribution-point", "liaison", {"name": "北门配送点"})
            repaired.append("distribution point")
        if self.call("GET", f"/api/rounds/{self.round_id}", "supplier", expect=(200, 404)).get("status") != "open":
            big = self.open_round()
            self.round_id = big["round_id"]
            self.ids["round_id"].insert(0, self.round_id)
            self.ids["bundle_id"][:0] = [b["bundle_id"] for b in big["bundles"]]
            repaired.append("round")
        return repaired

    # --- the values the fuzz puts into a request -------------------------------------------------

    def path_candidates(self, path: str, name: str) -> list[str]:
        """Real values for one path parameter of one route ([] when there is none to give)."""
        if name == "code":
            return self.ids.get("invite_code" if path.startswith("/api/invites/") else "pickup_code", [])
        if name == "point_id":
            return self.ids.get("supply_point_id", [])
        return self.ids.get(name, [])

    def field_candidates(self, name: str) -> tuple[list, int]:
        """Values for a named field of a body or query string (real ids; else plausible values: a building
        of the community, a time the rules accept), and in how many of 5 draws to send one of them."""
        return self._id_candidates(name) or self.hints.get(name, []), 4

    def _id_candidates(self, name: str) -> list[str]:
        if name == "scope_id":
            return self.ids["community_id"] + self.ids.get("site_id", []) + self.ids.get("supplier_id", [])
        if name == "point_id":  # a gate step's unloading point
            return self.ids.get("unloading_point_id", [])
        if name.endswith("_ids"):
            return self.ids.get(name[:-1], [])
        return self.ids.get(name, []) if name.endswith("_id") else []


# --- the custom check -------------------------------------------------------------------------

def _exception_names() -> list[str]:
    """Exception class names a body must never show: Python's own, and those of the libraries the API
    runs on (Chalice's error classes included: its `{"Code": "NotFoundError", ...}` bodies name them)."""
    import importlib
    names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    for module in ("chalice.app", "botocore.exceptions", "pynamodb.exceptions", "marshmallow.exceptions",
                   "jwt.exceptions", "json.decoder", "requests.exceptions", "urllib3.exceptions"):
        names |= {n for n, v in vars(importlib.import_module(module)).items()
                  if isinstance(v, type) and issubclass(v, BaseException)}
    names |= {"ConditionalCheckFailedException", "TransactionCanceledException", "ValidationException",
              "ProvisionedThroughputExceededException", "ThrottlingException", "ResourceNotFoundException",
              "TransactionConflictException", "InvalidOperation", "WebPushException",
              "UnsupportedMediaType"}  # Chalice's error_code for a 415
    return sorted(names - {"BaseException", "Exception"})  # the bare words may be prose


_LEAK = re.compile(r"Traceback|File \"|\b(?:" + "|".join(map(re.escape, _exception_names())) + r")\b")
_TEXT_TYPES = ("application/json", "text/", "application/problem+json")


def no_stack_trace(ctx, response, case):
    """No Python traceback, source line (`File "...`) or exception class name in a body."""
    content_type = (response.headers.get("content-type") or response.headers.get("Content-Type") or [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if content_type and not content_type.startswith(_TEXT_TYPES):
        return True  # a PDF, XLSX or image: bytes, not text
    text = response.content.decode("utf-8", errors="replace") if response.content else ""
    found = _LEAK.search(text)
    if found:
        start = max(0, found.start() - 120)
        raise AssertionError(f"The body shows Python internals ({found.group(0)!r}): …{text[start:found.end() + 200]}…")
    return True


# --- the fuzz of one operation ----------------------------------------------------------------

@dataclass
class Finding:
    operation: str
    role: str
    check: str
    status: int | None
    message: str
    reproduction: str

    def key(self) -> tuple:
        return self.operation, self.check, self.status, self.message.splitlines()[0][:160] if self.message else ""

    def __str__(self) -> str:
        return (f"{self.operation} as {self.role} -> {self.status}: {self.check}\n"
                f"{self.message.strip()[:3000]}\n  reproduce ({self.role}'s token): {self.reproduction}")


@dataclass
class Replay:
    """One request, exactly: what a known bug's reproduction sends."""
    method: str
    path: str
    token: str | None
    path_parameters: dict = field(default_factory=dict)
    query: dict | None = None
    body: object = None


@dataclass
class KnownBug:
    """A bug the fuzz found and does not fail on while it stands: the operations it shows on ("*": any),
    the failing check (a piece of its title) and a piece of its message. `replay` builds its reproduction
    on the tenant, which test_fuzz.py sends as a strict xfail. `avoid_in_path`: characters the fuzz keeps
    out of path parameters while the bug stands (when they would send a request to another route)."""
    title: str
    operations: tuple[str, ...] | str
    check: str
    match: str
    reproduction: str
    replay: object  # Callable[[Tenant], Replay]
    avoid_in_path: str = ""

    def waives(self, finding: Finding) -> bool:
        return ((self.operations == "*" or finding.operation in self.operations)
                and self.check.lower() in finding.check.lower() and self.match in finding.message)


@dataclass
class Stats:
    statuses: Counter = field(default_factory=Counter)  # (role, status) -> answers
    examples: int = 0
    seconds: float = 0.0


def _substitute(value, tenant: Tenant, draw, depth: int = 0):
    """Put real ids (and plausible values) into the named fields of a generated body or query."""
    import hypothesis.strategies as st
    if depth > 4:
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            candidates, weight = tenant.field_candidates(key) if isinstance(key, str) else ([], 0)
            if key.endswith("_ids") and isinstance(item, list):
                candidates = [[real] for real in candidates if isinstance(real, str)]
            # Only a value of the generated one's type (or for a null): a field generated with the wrong
            # type stays wrong.
            candidates = [c for c in candidates if item is None or type(c) is type(item)]
            if candidates and draw(st.integers(0, 4)) < weight:
                out[key] = draw(st.sampled_from(candidates))
            else:
                out[key] = _substitute(item, tenant, draw, depth + 1)
        return out
    if isinstance(value, list):
        return [_substitute(item, tenant, draw, depth + 1) for item in value]
    return value


def _push_endpoint_on_loopback(case) -> None:
    """A stored push subscription is sent to when a slot is announced: keep every one on this machine
    (port 9, where nothing listens) so the stack never calls out to a generated address."""
    if isinstance(case.body, dict) and isinstance(case.body.get("endpoint"), str):
        digest = hashlib.sha256(case.body["endpoint"].encode()).hexdigest()[:16]
        case.body["endpoint"] = f"https://127.0.0.1:9/push/{digest}"


def fuzz_operation(operation, tenant: Tenant, callers, *, probe: int, examples: int, seed: int,
                   known_bugs: list[KnownBug], stats: Stats) -> list[Finding]:
    """Fuzz one operation as each caller: `probe` examples each, then `examples` more, shared among the
    callers that got past 401/403 (those the route serves). Returns the findings no known bug covers."""
    import hypothesis
    import hypothesis.strategies as st
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance
    from schemathesis.transport.prepare import get_exclude_headers

    checks = [not_a_server_error, response_schema_conformance, no_stack_trace]
    strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                         operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    label = f"{operation.method.upper()} {operation.path}"
    avoided = {char for bug in known_bugs for char in bug.avoid_in_path}
    findings: dict[tuple, Finding] = {}
    started = time.monotonic()

    def run(role: str, count: int, run_seed: int) -> None:
        headers = {} if role == ANONYMOUS else {"Authorization": f"Bearer {tenant.tokens[role]}"}

        @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
        @given(case=strategy, data=st.data())
        def one(case, data):
            # A `.` or `..` segment is resolved by the client before sending: the request would reach another
            # route and be checked against this one's schemas. schemathesis sends a `%` as it is, so the
            # server decodes `%3F` to `?`: a known bug's characters are looked for in the decoded value.
            hypothesis.assume(all(v not in ("..", ".") and not (set(unquote(str(v))) & avoided)
                                  for v in (case.path_parameters or {}).values()))
            # A negative case may leave the token out on purpose (schemathesis's missing-auth mutation): the
            # anonymous caller covers that, and a role's few examples are kept for the role.
            if role != ANONYMOUS:
                hypothesis.assume("authorization" not in {h.lower() for h in get_exclude_headers(case)})
            for name in list(case.path_parameters or {}):
                candidates = tenant.path_candidates(operation.path, name)
                if candidates and data.draw(st.integers(0, 4)) > 0:
                    case.path_parameters[name] = data.draw(st.sampled_from(candidates))
            if case.headers and "Idempotency-Key" in case.headers and data.draw(st.integers(0, 4)) < 3:
                case.headers["Idempotency-Key"] = data.draw(st.uuids()).hex  # the server's format: 8-100 of [\w.:-]
            if case.query:
                case.query = _substitute(case.query, tenant, data.draw)
            if isinstance(case.body, (dict, list)):
                case.body = _substitute(case.body, tenant, data.draw)
            if operation.path.startswith("/api/push/subscriptions"):
                _push_endpoint_on_loopback(case)
            stats.examples += 1
            try:
                response = case.call(base_url=tenant.base_url, session=tenant.http, headers=headers, timeout=TIMEOUT)
            except requests.RequestException as exc:
                finding = Finding(label, role, "no answer", None, f"{type(exc).__name__}: {exc}",
                                  case.as_curl_command(headers=headers, base_url=tenant.base_url))
                findings.setdefault(finding.key(), finding)
                return
            stats.statuses[(role, response.status_code)] += 1
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except BaseException as group:  # noqa: BLE001 - schemathesis raises a group of check failures
                failures = getattr(group, "exceptions", None) or (group,)
                for failure in failures:
                    title = getattr(failure, "title", type(failure).__name__)
                    message = getattr(failure, "message", None) or str(failure)
                    body = response.text[:600] if response.content else ""
                    sent = f"path parameters {case.path_parameters!r}, query {case.query!r}"
                    finding = Finding(label, role, title, response.status_code, f"{message}\n  body: {body}\n  {sent}",
                                      case.as_curl_command(headers=headers, base_url=tenant.base_url))
                    if not any(bug.waives(finding) for bug in known_bugs):
                        findings.setdefault(finding.key(), finding)

        hypothesis.seed(run_seed)(one)()

    served = []
    for index, role in enumerate(callers):
        run(role, probe, seed + index)
        answered = {status for (caller, status) in stats.statuses if caller == role}
        if answered - {401, 403} or not answered:
            served.append(role)
    for index, role in enumerate(served):
        run(role, -(-examples // len(served)), seed + 1000 + index)
    stats.seconds += time.monotonic() - started
    return list(findings.values())


if __name__ == "__main__" and sys.argv[1:] == ["seed"]:
    from api import bootstrap
    print(json.dumps(bootstrap.demo()))
