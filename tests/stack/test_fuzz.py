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


KNOWN_BUGS: list[KnownBug] = []
# Fixed, and checked by the fuzz itself since: OrderOut, UnpaidOut, PickupPointOut, the deep health check and
# the leave-household answer now document every field they return (api/schemas.py); make dev matches a route
# on the raw path, so an encoded '#', '?', ';', tab or newline stays in its path parameter
# (scripts/devstack.py; test_path_parameter__encoded_reserved_characters__stay_in_the_parameter below).


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


# --- regressions of fixed fuzz findings ----------------------------------------------------------------

@pytest.mark.stack
@pytest.mark.parametrize("char", list("#?;\t\r\n/%"), ids=lambda c: f"U+{ord(c):04X}")
def test_path_parameter__encoded_reserved_characters__stay_in_the_parameter(run, char):
    """A path parameter holding an encoded '#', '?', ';', '/', '%', tab, CR or LF reaches its own route with
    that value (404 in the API's error format: no such site), as behind API Gateway; it used to end the
    path on make dev, reaching GET /api/sites (200) or Chalice's own 405."""
    from urllib.parse import quote

    tenant = run.tenant
    site_id = tenant.ids["site_id"][0]
    admin = {"Authorization": f"Bearer {tenant.tokens['admin']}"}
    for path in (f"/api/sites/{quote(char, safe='')}", f"/api/sites/{site_id}{quote(char, safe='')}x",
                 f"/api/communities/{tenant.seed['community_id']}{quote(char, safe='')}zzz"):
        response = tenant.http.get(tenant.base_url + path, headers=admin, timeout=fs.TIMEOUT)
        assert response.status_code == 404, (path, response.status_code, response.text[:200])
        assert response.json()["error"]["code"], path
        fs.no_stack_trace(None, response, None)
