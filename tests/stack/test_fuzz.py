"""Contract fuzzing on the running `make dev` (issue 12, point 1): schemathesis over every operation of
GET /api/openapi.json, with a valid token of every role (and none), on the fuzz's own tenant of the
shared stack (tests/stack/fuzz_support.py says how it is made). Every answer: no 5xx, a body that
matches its documented schema, no stack trace or exception name.

`make test` runs a bounded fuzz (a few minutes on 2 cores); `make fuzz` runs a long one on a fresh
stack. Settings, from the environment:
- BAOGONG_FUZZ_PROBE: examples per operation for every caller (11: each role and none; default 3);
- BAOGONG_FUZZ_EXAMPLES: examples more per operation, shared by the callers that got past 401/403
  (default 40; `make fuzz`: 10 and 200, so about 310 an operation);
- BAOGONG_FUZZ_SEED: the generation seed (default fixed, so `make test` is repeatable; `random` for a new
  one, printed in the summary).

A bug the fuzz finds is not fixed here: it goes into KNOWN_BUGS with its reproduction, the fuzz stops
failing on it (only on its operations, check and message), and test_known_bug__still_reproduces replays
the reproduction as a strict xfail: once the bug is fixed it passes, fails as XPASS, and its entry goes.
"""
import json
import os
import random
import time

import pytest

from tests.stack import fuzz_support as fs
from tests.stack.fuzz_support import KnownBug, Replay

PROBE = int(os.environ.get("BAOGONG_FUZZ_PROBE", "3"))
EXAMPLES = int(os.environ.get("BAOGONG_FUZZ_EXAMPLES", "40"))
_SEED = os.environ.get("BAOGONG_FUZZ_SEED", "20261201")
SEED = random.randrange(2**32) if _SEED == "random" else int(_SEED)


def _route_table() -> list[tuple[str, str]]:
    """Every (method, path) the app routes: the fuzz's list, so a new route is fuzzed without an edit."""
    from app import app
    return sorted((method.upper(), path) for path, methods in app.routes.items() for method in methods)


OPERATIONS = _route_table()

# One entry per bug the fuzz found, each with its reproduction (method, path, body or query, the token's
# role, the answer). See the module docstring. None of them is fixed here: api/ and scripts/ belong to others.


def _as(role: str, method: str, path: str, path_parameters: dict | None = None, **kwargs):
    """A replay as one of the tenant's roles (or none); a path parameter given as None is a real id."""
    def replay(tenant: fs.Tenant) -> Replay:
        params = {name: tenant.path_candidates(path, name)[-1] if value is None else value
                  for name, value in (path_parameters or {}).items()}
        return Replay(method, path, tenant.tokens.get(role), params, **kwargs)
    return replay


def _resident_leaving(tenant: fs.Tenant) -> Replay:
    """A new flat's only phone removes itself (leaves): a flat of its own, so the tenant's resident stays."""
    flat = tenant.join()
    return Replay("POST", "/api/households/mine/members/{member_id}/remove", flat["token"],
                  {"member_id": flat["member_id"]})


KNOWN_BUGS: list[KnownBug] = [
    KnownBug(
        title="OrderOut documents none of payment_qr_url, payment_note, payment, arrived_at, picked_up",
        operations="*",  # every answer that is an order: POST /api/orders, GET /api/orders/mine, /{order_id}, cancel, ...
        check="Response violates schema",
        match="'payment_qr_url', 'payment_note', 'payment', 'arrived_at', 'picked_up' were unexpected",
        reproduction="GET /api/orders/mine as resident (a flat with one order) -> 200, each order carries "
                     "payment_qr_url, payment_note, payment, arrived_at, picked_up; OrderOut "
                     "(api/schemas.py OrderOutSchema) has additionalProperties: false and lists none of them. "
                     "Same on POST /api/orders (201), GET /api/orders/{order_id}, POST /api/orders/{order_id}/cancel.",
        replay=_as("resident", "GET", "/api/orders/mine")),
    KnownBug(
        title="UnpaidOut documents no 'rounds'",
        operations=("GET /api/communities/{community_id}/unpaid",),
        check="Response violates schema",
        match="'rounds' was unexpected",
        reproduction="GET /api/communities/{community_id}/unpaid as liaison, no query -> 200 "
                     '{"round": {...}, "rounds": [{"round_id", "name", "status"}], "community_name", "deadline", '
                     '"buildings", "reminder"}; UnpaidOut has no "rounds" and additionalProperties: false.',
        replay=_as("liaison", "GET", "/api/communities/{community_id}/unpaid", path_parameters={"community_id": None})),
    KnownBug(
        title="GET /api/health/deep is documented with Health ({ok}) but answers {ok, checks}",
        operations=("GET /api/health/deep",),
        check="Response violates schema",
        match="'checks' was unexpected",
        reproduction='GET /api/health/deep as admin -> 200 {"ok": true, "checks": {"table": {"ok": true, "ms": 3.9}}}; '
                     "its documented schema is Health {ok} with additionalProperties: false.",
        replay=_as("admin", "GET", "/api/health/deep")),
    KnownBug(
        title="PickupPointOut documents no 'since' (the distribution point in GET /api/join/{join_key})",
        operations=("GET /api/join/{join_key}",),
        check="Response violates schema",
        match="'since' was unexpected",
        reproduction='GET /api/join/{join_key} (no token) -> 200 with "distribution_point": {"name", "note", '
                     '"since"}; PickupPointOut is {name, note} with additionalProperties: false.',
        replay=_as(fs.ANONYMOUS, "GET", "/api/join/{join_key}", path_parameters={"join_key": None})),
    KnownBug(
        title="Leaving a household answers {household_id, left}, which HouseholdMine does not document",
        operations=("POST /api/households/mine/members/{member_id}/remove",),
        check="Response violates schema",
        match="'left' was unexpected",
        reproduction="POST /api/households/mine/members/{own member_id}/remove as that resident (removing "
                     'yourself) -> 200 {"household_id": "...", "left": true}; the documented 200 schema is '
                     "HouseholdMine, additionalProperties: false, without 'left'.",
        replay=_resident_leaving),
    KnownBug(
        title="make dev cuts a path parameter at a decoded '#', '?' or ';' and drops tabs and newlines (scripts/devstack.py)",
        operations="*",
        check="no_stack_trace",
        match="MethodNotAllowedError",
        reproduction="GET /api/communities/{community_id}/households/%23 as liaison -> 405 "
                     '{"Code":"MethodNotAllowedError","Message":"Unsupported method: GET"} (Chalice\'s own error '
                     "format, naming its exception class). Site.api hands werkzeug's decoded request.path to "
                     "Chalice's LocalGateway, which parses it as a URL again, so '#', '?' or ';' in a value ends "
                     "the path: GET /api/communities/{community_id}%23zzz answers that community (200), and "
                     "POST /api/join/%23/households, /api/rounds/%23/close etc. reach the collection route (405), "
                     "GET /api/sites/%3F2 answers GET /api/sites. A tab, CR or LF (%09, %0D, %0A) is dropped: "
                     "GET /api/sites/%0A is GET /api/sites too. API Gateway passes path parameters through as "
                     "they are, so this is the local stack's. The fuzz keeps these characters out of path "
                     "parameters while this stands (else it checks one route's answer against another's schema).",
        replay=_as("liaison", "GET", "/api/communities/{community_id}/households/{flat_ref}",
                   path_parameters={"community_id": None, "flat_ref": "#"}),
        avoid_in_path="#?;\t\r\n"),
]


# --- the fuzz ---------------------------------------------------------------------------------------

class Run:
    """What the module's tests share: the tenant, the loaded document and the figures."""

    def __init__(self, dev_stack):
        import schemathesis

        started = time.monotonic()
        self.tenant = fs.Tenant(fs.seed_tenant(dev_stack.info)).provision()
        self.schema = schemathesis.openapi.from_url(dev_stack.info["base_url"] + "/api/openapi.json")
        self.setup_seconds = time.monotonic() - started
        self.stats: dict[str, fs.Stats] = {}
        self.repairs: list[str] = []


@pytest.fixture(scope="module")
def run(dev_stack):
    return Run(dev_stack)


def _label(operation: tuple[str, str]) -> str:
    return f"{operation[0]} {operation[1]}"


@pytest.mark.stack
def test_fuzz__the_served_document_lists_exactly_the_route_table(run):
    served = sorted((method.upper(), path) for path, methods in run.schema.raw_schema["paths"].items()
                    for method in methods)
    assert served == OPERATIONS


@pytest.mark.stack
@pytest.mark.parametrize("operation", OPERATIONS, ids=_label)
def test_fuzz(run, operation):
    method, path = operation
    tenant = run.tenant
    tenant.prepare(path)
    stats = run.stats[_label(operation)] = fs.Stats()
    findings = fs.fuzz_operation(run.schema[path][method], tenant, fs.CALLERS, probe=PROBE, examples=EXAMPLES,
                                 seed=SEED + OPERATIONS.index(operation) * 7919, known_bugs=KNOWN_BUGS, stats=stats)
    repaired = tenant.repair()
    if repaired:
        run.repairs.append(f"{_label(operation)}: {', '.join(repaired)}")
    assert not findings, "\n\n".join(map(str, findings))


@pytest.mark.stack
def test_fuzz__summary(run, capsys):
    """Every operation was fuzzed, and on each some role got past 401/403 (the ids were real enough).
    Prints the figures; BAOGONG_FUZZ_REPORT=<file> also writes them per operation, role and status."""
    fuzzed = {label: s for label, s in run.stats.items() if s.examples}
    never_past_auth, never_2xx, undocumented = [], [], []
    for label, s in sorted(fuzzed.items()):
        codes = {status for (_, status) in s.statuses}
        method, path = label.split(" ", 1)
        documented = {int(code) for code in run.schema.raw_schema["paths"][path][method.lower()]["responses"]}
        if codes - documented:
            undocumented.append(f"{label} {sorted(codes - documented)}")
        if not codes - {401, 403}:
            never_past_auth.append(label)
        if not any(200 <= status < 300 for status in codes):
            never_2xx.append(label)
    slowest = sorted(fuzzed.items(), key=lambda item: -item[1].seconds)[:5]
    lines = [f"contract fuzz: seed {SEED}, {PROBE} examples per caller + {EXAMPLES} per operation among those it serves; "
             f"{len(fuzzed)} operations x {len(fs.CALLERS)} callers, {sum(s.examples for s in fuzzed.values())} "
             f"requests in {sum(s.seconds for s in fuzzed.values()):.0f} s (set-up {run.setup_seconds:.0f} s)",
             "  slowest: " + ", ".join(f"{label} {s.seconds:.1f} s" for label, s in slowest),
             "  fewest requests: " + ", ".join(f"{label} {s.examples}" for label, s in
                                               sorted(fuzzed.items(), key=lambda item: item[1].examples)[:3]),
             f"  no 2xx answer in this run ({len(never_2xx)}): {', '.join(never_2xx) or '-'}",
             f"  a status the document does not list ({len(undocumented)}, not checked): "
             + ("; ".join(undocumented) or "-"),
             f"  repaired between operations: {'; '.join(run.repairs) or '-'}"]
    report = os.environ.get("BAOGONG_FUZZ_REPORT")
    if report:
        os.makedirs(os.path.dirname(os.path.abspath(report)), exist_ok=True)
        with open(report, "w") as out:
            json.dump({"seed": SEED, "probe": PROBE, "examples": EXAMPLES, "known_bugs": [b.title for b in KNOWN_BUGS],
                       "operations": {label: {"requests": s.examples, "seconds": round(s.seconds, 2),
                                              "statuses": {f"{role} {status}": n for (role, status), n in
                                                           sorted(s.statuses.items())}}
                                      for label, s in sorted(fuzzed.items())}}, out, indent=1, ensure_ascii=False)
        lines.append(f"  per operation, role and status: {report}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    if len(fuzzed) < len(OPERATIONS):
        pytest.skip("only part of the operations ran (-k, or a failure before them)")
    assert not never_past_auth, f"no role got past 401/403 on: {never_past_auth}"


# --- the known bugs, replayed -------------------------------------------------------------------------

@pytest.mark.stack
@pytest.mark.parametrize("bug", [pytest.param(bug, id=bug.title, marks=pytest.mark.xfail(
    strict=True, raises=AssertionError, reason=bug.reproduction)) for bug in KNOWN_BUGS])
def test_known_bug__still_reproduces(run, bug):
    """A KNOWN_BUGS entry's reproduction, sent as written and held to the fuzz's checks: a strict xfail
    until the bug is fixed (then it passes, XPASS fails the run, and the entry goes)."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    replay = bug.replay(run.tenant)
    kwargs = {"path_parameters": replay.path_parameters, "query": replay.query}
    if replay.body is not None:
        kwargs["body"] = replay.body
    case = run.schema[replay.path][replay.method].Case(**kwargs)
    headers = {"Authorization": f"Bearer {replay.token}"} if replay.token else {}
    response = case.call(base_url=run.tenant.base_url, session=run.tenant.http, headers=headers, timeout=fs.TIMEOUT)
    try:
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, fs.no_stack_trace],
                               headers=headers)
    except BaseException as failures:  # noqa: BLE001 - a group of check failures
        if bug.match not in str(failures):  # failing, but not as written down: that is news, not this xfail
            raise RuntimeError(f"{bug.title}: the reproduction fails otherwise than recorded:\n{failures}") from None
        raise AssertionError(f"{bug.title}\n{failures}") from None
