"""DynamoDB calls and capacity units per request, for every write route of the app, against the least possible.

Printed, never asserted (tests/bench/test_bench_smoke.py asserts a few of the counts). The write
routes are taken from the app's route table (`app.routes`: every method but GET), so a new one is
measured, and listed as "no least given" until LEAST below reasons about it.

Each request is the one the authz matrix sends in the caller's own scope (tests/api/test_authz_matrix.py
ROUTES, its world from tests/api/authz_world.py, built once, in-process under moto), by the first role
allowed to make it with a 2xx. Where the world's state makes that request a refusal (an allocation not
yet distributed, an open round to pack...), PREPARE first brings it to where it succeeds; that is not
counted. After each route the table is put back as the world left it (authz_world.Journal).

Counted with a botocore event hook on the app's own client (api.models.dynamodb_client(), as the
`dynamodb_calls` fixture of tests/api/conftest.py). The capacity units are computed from the items,
read back beside each call (bench/capacity.py), since moto does not report ConsumedCapacity for all
operations.
"""
import os
import sys

ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": "bench", "BAOGONG_TABLE": "baogong-bench-calls",
    "BAOGONG_PUBLIC_URL": "http://baogong.bench", "BAOGONG_EXPORT_RUNNER": "inline",
}


def environment() -> None:
    """As tests/conftest.py: moto's credentials and a table of our own; never a real endpoint."""
    os.environ.update(ENV)
    os.environ.pop("BAOGONG_AWS_ENDPOINT", None)


# The least a route could cost, reasoned by hand: {(method, path): ({operation: calls}, why)}. "Least" is what
# the route's job needs with this table's keys: the reads that prove the caller may do it (a token carries
# the role and scope, never a row's state) and that the write cannot fold into its condition, then one
# write call (a TransactWriteItems where several items must change together).
ORDER = "BatchGetItem (round, flat, bundles, by key) + TransactWriteItems (the order and its stock, at once)"
LEAST: dict[tuple[str, str], tuple[dict, str]] = {}


def least(method: str, path: str, why: str, **ops: int) -> None:
    LEAST[(method, path)] = (ops, why)


C = "/api/communities/{community_id}"
FLAT = C + "/households/{flat_ref}"
PLAN = C + "/rounds/{round_id}"
RND = "/api/rounds/{round_id}"
SITE = "/api/sites/{site_id}"
# Two reads the rules make necessary, counted in every least below where they apply:
# - COMMUNITY: staff of a community are checked against the community item (a retired information
#   officer's or a replaced liaison's token is still signed and unexpired);
# - a resident's membership lives on the flat's item; a write can check it inside its own transaction (a
#   ConditionCheck, as the order does), a read cannot, so a resident's read costs the flat's GetItem.
SCOPE = "Get COMMUNITY (the staff scope check)"
ONE_WRITE_FLAT = SCOPE + " + one conditional UpdateItem of the flat (members, special flag live on it)"
BY_ID = "Get ORDERID (the order's key by its id) + Get the order"
ORDER_TXN = ("one TransactWriteItems: the order's state under a condition, the idempotency record and (resident) "
             "a ConditionCheck of the flat's membership inside it; the answer built from what was written")
SUPPLIER_TXN = "Get ROUND (is it the caller's) + BatchGetItem of the named orders + one TransactWriteItems"

# --- residents ---
least("POST", "/api/join/{join_key}/households", "Query GSI1 for the join key, one conditional put of the flat",
      Query=1, PutItem=1)
least("POST", "/api/orders", ORDER, BatchGetItem=1, TransactWriteItems=1)
least("POST", "/api/orders/{order_id}/cancel", BY_ID + " + " + ORDER_TXN + " (the stock given back)",
      GetItem=2, TransactWriteItems=1)
least("POST", "/api/orders/{order_id}/payment-claim", BY_ID + " + " + ORDER_TXN, GetItem=2, TransactWriteItems=1)
least("POST", "/api/households/mine/members/{member_id}/approve", "one UpdateItem of the flat whose condition "
      "checks the caller is a member and the phone pending (both on the flat's item)", UpdateItem=1)
least("POST", "/api/households/mine/members/{member_id}/remove", "as approve: one conditional UpdateItem",
      UpdateItem=1)
least("POST", "/api/push/subscriptions", "one TransactWriteItems: the put and a ConditionCheck of membership",
      TransactWriteItems=1)
least("POST", "/api/push/subscriptions/remove", "one DeleteItem of the caller's own subscription key",
      DeleteItem=1)
least("GET", "/api/notices/mine", "Get the flat (a removed phone stops at once) + the building's notice Query; "
      "the issue's '1 Query' leaves out the membership check", GetItem=1, Query=1)
least("GET", "/api/orders/mine", "Get the flat (membership) + Query GSI1 (the household's orders) + one batch of "
      "the rounds' slot plans and arrivals", GetItem=1, Query=1, BatchGetItem=1)
least("GET", "/api/rounds?community_id=", "Get the flat (membership) + Query the community's round listings + "
      "one batch of the rounds and bundles", GetItem=1, Query=1, BatchGetItem=1)
# --- pickup day ---
least("POST", "/api/orders/{order_id}/pickup", BY_ID + " + " + SCOPE + " + one TransactWriteItems (the mark "
      "and its idempotency record): the issue's 'pickup = 1 write'", GetItem=3, TransactWriteItems=1)
least("POST", "/api/orders/{order_id}/pickup/undo", BY_ID + " + " + SCOPE + " + one conditional UpdateItem",
      GetItem=3, UpdateItem=1)
least("POST", PLAN + "/slots/generate", SCOPE + " + Get ROUND + Query the round's orders of the community + one "
      "conditional put of the plan", GetItem=2, Query=1, PutItem=1)
least("PUT", PLAN + "/slots", SCOPE + " + Get ROUND + Query the orders (who is placed) + one put conditional on "
      "the plan's version", GetItem=2, Query=1, PutItem=1)
least("POST", PLAN + "/slots/{slot_id}/announce", SCOPE + " + Get the plan + one transaction (notice and "
      "announced flag) + the building's push subscriptions (one Query)", GetItem=2, TransactWriteItems=1, Query=1)
least("POST", PLAN + "/arrival", SCOPE + " + Get ROUND + one transaction (arrival, a notice per building) + one "
      "Query of push subscriptions, if they were kept per community rather than per building", GetItem=2,
      TransactWriteItems=1, Query=1)
# --- the community's console ---
least("PATCH", C + "/settings", SCOPE + " + one conditional UpdateItem", GetItem=1, UpdateItem=1)
least("PUT", C + "/distribution-point", SCOPE + " + one conditional UpdateItem (none active)", GetItem=1,
      UpdateItem=1)
least("POST", C + "/distribution-point/retire", SCOPE + " + one conditional UpdateItem", GetItem=1, UpdateItem=1)
least("POST", C + "/info-officer/retire", SCOPE + " + one transaction (the officer's staff item and the "
      "community)", GetItem=1, TransactWriteItems=1)
least("POST", C + "/households", SCOPE + " + one conditional put of the flat", GetItem=1, PutItem=1)
least("POST", FLAT + "/members/{member_id}/approve", ONE_WRITE_FLAT, GetItem=1, UpdateItem=1)
least("POST", FLAT + "/members/{member_id}/remove", ONE_WRITE_FLAT, GetItem=1, UpdateItem=1)
least("POST", FLAT + "/handover", ONE_WRITE_FLAT, GetItem=1, UpdateItem=1)
least("PUT", FLAT + "/special", ONE_WRITE_FLAT, GetItem=1, UpdateItem=1)
least("POST", FLAT + "/special/remove", ONE_WRITE_FLAT, GetItem=1, UpdateItem=1)
least("POST", FLAT + "/check-ins", SCOPE + " + one transaction (the check-in, the flat's last check under a "
      "condition)", GetItem=1, TransactWriteItems=1)
least("POST", FLAT + "/exemptions", SCOPE + " + Get ROUND (this community's?) + one transaction (the exemption, "
      "a ConditionCheck that the flat exists)", GetItem=2, TransactWriteItems=1)
least("POST", FLAT + "/orders", SCOPE + " + " + ORDER, GetItem=1, BatchGetItem=1, TransactWriteItems=1)
least("POST", C + "/demand", SCOPE + " + Query the day's latest version + one transaction (the report, the "
      "day's pointer)", GetItem=1, Query=1, TransactWriteItems=1)
least("POST", C + "/ledger/distribute", SCOPE + " + Get the allocation + one transaction (the line, the balance "
      "under a condition)", GetItem=2, TransactWriteItems=1)
least("POST", C + "/ledger/{line_id}/correct", SCOPE + " + Get the line + one transaction (the correction, the "
      "balance under a condition)", GetItem=2, TransactWriteItems=1)
# --- rounds, payments ---
least("POST", "/api/rounds", "Get SUPPLIER + the communities in one batch + one transaction (round, bundles, "
      "listings; a round of 200 communities needs 2, over the 100-item limit)", GetItem=1, BatchGetItem=1,
      TransactWriteItems=1)
least("POST", RND + "/bundles/{bundle_id}/stock", "Get ROUND (the caller's?) + one conditional UpdateItem "
      "returning the bundle", GetItem=1, UpdateItem=1)
least("POST", RND + "/close", "Get ROUND + one conditional UpdateItem returning it", GetItem=1, UpdateItem=1)
least("POST", RND + "/packed", "Get ROUND + " + SCOPE + "'s name + Query the community's paid orders + one "
      "transaction marking them", GetItem=2, Query=1, TransactWriteItems=1)
least("POST", RND + "/exports/{kind}/jobs", "the round and bundles (one Query) + the communities (one batch) + one "
      "put of the job; the job itself runs apart (in this in-process bench it runs inline and is counted too)",
      Query=1, BatchGetItem=1, PutItem=1)
least("POST", RND + "/payments/confirm", SUPPLIER_TXN, GetItem=1, BatchGetItem=1, TransactWriteItems=1)
least("POST", RND + "/payments/undo", SUPPLIER_TXN, GetItem=1, BatchGetItem=1, TransactWriteItems=1)
least("POST", RND + "/payments/reject", SUPPLIER_TXN + " (stock given back)", GetItem=1, BatchGetItem=1,
      TransactWriteItems=1)
least("POST", RND + "/payments/statement", "Get ROUND + Query the round's orders (a preview: nothing written)",
      GetItem=1, Query=1)
least("POST", RND + "/orders/{order_id}/cancel", SUPPLIER_TXN, GetItem=1, BatchGetItem=1, TransactWriteItems=1)
least("POST", RND + "/orders/{order_id}/refunded", SUPPLIER_TXN, GetItem=1, BatchGetItem=1, TransactWriteItems=1)
least("POST", "/api/payment-qr/uploads", "none: a presigned S3 POST; the caller's scope is in the token")
least("POST", "/api/invites", "Get the scope named (exists, in the caller's sub-district?) + one put", GetItem=1,
      PutItem=1)
least("POST", "/api/invites/{code}/accept", "Get the invite + one transaction (used once; the staff item)",
      GetItem=1, TransactWriteItems=1)
# --- the gate ---
least("POST", "/api/sites", "Get COMMUNITY + one transaction (the site only if the community has none)",
      GetItem=1, TransactWriteItems=1)
least("PUT", SITE, "Get SITE (scope) + one conditional UpdateItem", GetItem=1, UpdateItem=1)
least("POST", SITE + "/documents", "Get SITE + Get SUPPLIER (both in the caller's sub-district?), then presigned "
      "S3 POSTs", GetItem=2)
least("POST", SITE + "/deliveries", "Get SITE + Get SUPPLIER + one transaction (the delivery, its plate index, "
      "the idempotency record under its condition)", GetItem=2, TransactWriteItems=1)
least("POST", SITE + "/deliveries/{delivery_id}/review", "Get SITE + Get the delivery + one transaction, the "
      "answer built from what was written", GetItem=2, TransactWriteItems=1)
least("POST", SITE + "/deliveries/{delivery_id}/gate", "as review", GetItem=2, TransactWriteItems=1)
least("POST", SITE + "/gate/turn-away", "Get SITE + one put of the log line", GetItem=1, PutItem=1)
# --- supply chain, monitoring ---
least("POST", "/api/allocations", "the community and the supplier in one BatchGetItem + one put", BatchGetItem=1,
      PutItem=1)
least("POST", "/api/allocations/{allocation_id}/advance", "Get the allocation + one conditional UpdateItem "
      "returning it", GetItem=1, UpdateItem=1)
least("POST", "/api/allocations/{allocation_id}/paid", "as advance", GetItem=1, UpdateItem=1)
least("POST", "/api/allocations/{allocation_id}/settle", "as advance", GetItem=1, UpdateItem=1)
least("POST", "/api/supply-points", "one transaction (the point and its commodities)", TransactWriteItems=1)
least("PUT", "/api/supply-points/{point_id}", "Get the point + one conditional UpdateItem", GetItem=1,
      UpdateItem=1)
least("POST", "/api/supply-points/{point_id}/reports", "Get the point + Query the day's latest version + one "
      "transaction (the report, the day's pointer)", GetItem=1, Query=1, TransactWriteItems=1)


# Reads the capacity model needs beside the writes (a resident's phone polls these).
READS = [
    ("/api/notices/mine", "/api/notices/mine", "resident"),
    ("/api/orders/mine", "/api/orders/mine", "resident"),
    ("/api/rounds?community_id=", "/api/rounds?community_id={community_id}", "resident"),
]


def _prepare(client, world, route_key):
    """Bring the world to where the request succeeds, for the routes the matrix only sends to a refusal."""
    from tests.api.helpers import post
    from tests.api import supply_helpers
    own, tok = world["views"]["own"], world["tokens"]
    rid, cid = own["round_id"], own["community_id"]

    def ok(response, *statuses):
        assert response.status_code in (statuses or (200, 201)), (route_key, response.status_code, response.body)
        return response.json_body

    method, path = route_key
    alloc = own["allocation_id"]
    if path.startswith("/api/allocations/{allocation_id}/"):
        ok(supply_helpers.distribute(client, tok["liaison"], cid, alloc, 100))
        if path.endswith(("settle", "paid")):
            ok(supply_helpers.advance(client, tok["admin"], alloc, "distributed"))
        if path.endswith("paid"):
            ok(post(client, f"/api/allocations/{alloc}/settle",
                    {"price_source": "entered", "unit_price": "4.30", "reason": "bench"}, tok["admin"]))
    elif path == C + "/distribution-point":
        ok(post(client, f"/api/communities/{cid}/distribution-point/retire", {}, tok["liaison"]))
    elif path == RND + "/packed":
        ok(post(client, f"/api/rounds/{rid}/payments/confirm", {"order_ids": [own["order_id"]]}, tok["supplier"]))
        ok(post(client, f"/api/rounds/{rid}/close", {}, tok["supplier"]))
    elif path in (RND + "/payments/undo", RND + "/orders/{order_id}/refunded"):
        ok(post(client, f"/api/rounds/{rid}/payments/confirm", {"order_ids": [own["order_id"]]}, tok["supplier"]))
        if path.endswith("refunded"):
            ok(post(client, f"/api/rounds/{rid}/orders/{own['order_id']}/cancel", {"reason": "缺货"}, tok["supplier"]))
    elif path == RND + "/payments/reject":
        ok(post(client, f"/api/orders/{own['order_id']}/payment-claim", {"reference": "1234"}, tok["resident"],
                idempotency_key="bench-claim"))
    elif path == "/api/orders/{order_id}/pickup":
        ok(post(client, f"/api/orders/{own['paid_order_id']}/pickup/undo", {}, tok["volunteer"]))
    elif path == "/api/sites":
        from tests.api.helpers import create_community
        made = create_community(own["sub_district_id"], "新建小区")
        return {"community_id": made["community_id"]}
    return {}


def _caller(route, expected) -> str | None:
    for caller in route.allow:
        if expected(route, caller, "own") != "403:wrong_role":
            return caller
    return None


def measure() -> dict:
    """Build the world, then send each write route's request once, metered. Returns the rows and the world."""
    environment()
    import secrets

    import boto3
    import time_machine
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from api import config, models, push
        boto3.client("ssm", region_name=config.REGION).put_parameter(
            Name=config.TOKEN_SECRET_PARAM, Value=secrets.token_hex(32), Type="SecureString")
        from py_vapid import Vapid02
        key = Vapid02()
        key.generate_keys()
        boto3.client("ssm", region_name=config.REGION).put_parameter(
            Name=config.VAPID_KEY_PARAM, Value=key.private_pem().decode(), Type="SecureString", Overwrite=True)
        push._vapid.cache_clear()
        models.create_table()
        from app import app
        import logging
        logging.disable(logging.INFO)  # the access log of every request: not what this prints
        from bench.capacity import Meter
        from tests.api import authz_world
        from tests.api import test_authz_matrix as matrix

        limits = _limits_state()
        rows = []
        with time_machine.travel(authz_world.NOW, tick=False):
            authz_world.buckets(create=True)
            with Client(app) as client:
                world = authz_world.build(client)
                own, other = world["views"]["own"], world["views"]["other"]
                world["views"]["sibling"]["documents"] = own["documents"]
                for scope, keys in matrix.LEAF_KEYS.items():
                    world["views"][scope] = {k: other[k] if k in keys else v for k, v in own.items()}
                saved = authz_world.snapshot()
                meter = Meter(models.dynamodb_client(), authz_world.raw_client(), config.TABLE_NAME)
                by_key = {r.key: r for r in matrix.ROUTES}
                writes = sorted((path, method) for path, methods in app.routes.items() for method in methods
                                if method != "GET")
                limits_on = [False, True] if hasattr(config, "RATE_LIMITS") else [None]

                def once(key, limited):
                    method, path = key
                    if limited is not None:
                        config.RATE_LIMITS = limited
                    with authz_world.Journal(saved):
                        if key in matrix.PUBLIC:
                            url, body = matrix.PUBLIC[key]
                            caller = "anonymous"
                            meter.start()
                            response = client.http.request(method, url.format_map(own),
                                                           headers=matrix.auth_headers(None), body=json_bytes(body))
                        else:
                            route = by_key[key]
                            caller = _caller(route, matrix.expected)
                            view = dict(own, **_prepare(client, world, key))
                            meter.start()
                            response = matrix.send_view(client, route, view, world["tokens"][caller], caller)
                        meter.stop()
                    return caller, response

                for path, method in writes:
                    key = (method, path)
                    counted = {}
                    for limited in limits_on:
                        caller, response = once(key, limited)
                        counted[limited] = dict(meter.calls)
                        if limited:
                            continue
                        row = {"method": method, "path": path, "caller": caller, "status": response.status_code,
                               "calls": dict(meter.calls), "wcu": meter.wcu, "gsi_wcu": meter.gsi_wcu,
                               "rcu": meter.rcu, "written": list(meter.written), "sequence": list(meter.sequence)}
                    row["calls_limited"] = counted.get(True)
                    rows.append(row)
                if limits_on != [None]:
                    config.RATE_LIMITS = False
                for label, url, caller in READS:
                    meter.start()
                    response = client.http.get(url.format_map(own), headers=matrix.auth_headers(
                        world["tokens"][caller], accept="*/*"))
                    meter.stop()
                    rows.append({"method": "GET", "path": label, "caller": caller, "status": response.status_code,
                                 "calls": dict(meter.calls), "wcu": meter.wcu, "gsi_wcu": meter.gsi_wcu,
                                 "rcu": meter.rcu, "written": [], "sequence": list(meter.sequence),
                                 "calls_limited": None})
                meter.close()
            authz_world.buckets(create=False)
    return {"rows": rows, "limits": limits}


def json_bytes(body) -> bytes:
    import json
    return b"" if body is None else json.dumps(body).encode()


def _limits_state() -> str:
    """Whether the rate-limit counters (api/limits.py, another part of issue 12) are in this tree."""
    import importlib.util

    from api import config
    if importlib.util.find_spec("api.limits") is None or not hasattr(config, "RATE_LIMITS"):
        return "not in this tree (no api/limits.py): every count is without rate-limit counters"
    return ("api/limits.py is in this tree: `measured` is with them off (config.RATE_LIMITS = False), "
            "`+limits` the same request with them on (one conditional UpdateItem per counter)")


def _fmt(ops: dict) -> str:
    short = {"TransactWriteItems": "TWI", "BatchGetItem": "BGI", "BatchWriteItem": "BWI", "GetItem": "Get",
             "PutItem": "Put", "UpdateItem": "Upd", "DeleteItem": "Del", "Query": "Q", "TransactGetItems": "TGI"}
    parts = [f"{n} {short.get(op, op)}" for op, n in sorted(ops.items()) if n]
    return " + ".join(parts) if parts else "0"


def report(result: dict, out=sys.stdout, verbose: bool = False) -> list[dict]:
    rows = result["rows"]
    print("DynamoDB calls per request, every write route (app.routes minus GET), in-process under moto", file=out)
    print(f"rate-limit counters: {result['limits']}", file=out)
    print("calls: Get=GetItem Put=PutItem Upd=UpdateItem Del=DeleteItem Q=Query BGI=BatchGetItem "
          "TWI=TransactWriteItems; WCU/RCU computed from item sizes (bench/capacity.py); GSI = GSI1 WCU",
          file=out)
    print(f"{'route':<72} {'as':<12} {'st':>3}  {'measured':<22} {'least':<18} {'':1} {'WCU':>4} {'GSI':>3} "
          f"{'RCU':>5} {'+limits':>7}  written (bytes)", file=out)
    over = []
    for row in rows:
        key = (row["method"], row["path"])
        given = LEAST.get(key)
        least_ops = given[0] if given else None
        measured_n = sum(row["calls"].values())
        flag = "?" if least_ops is None else ("!" if measured_n > sum(least_ops.values()) else "")
        if flag == "!":
            over.append(row)
        if flag == "!" or verbose:
            row["shown"] = True
        sizes = ",".join(str(s) for _, _, s in row["written"])
        extra = "-" if row.get("calls_limited") is None else \
            f"+{sum(row['calls_limited'].values()) - measured_n} Upd"
        print(f"{row['method'] + ' ' + row['path']:<72.72} {row['caller']:<12.12} {row['status']:>3}  "
              f"{_fmt(row['calls']):<22} {(_fmt(least_ops) if given else 'no least given'):<18} {flag:1} "
              f"{row['wcu']:>4} {row['gsi_wcu']:>3} {row['rcu']:>5g} {extra:>7}  {sizes}", file=out)
    print("\nwhere the calls go, for each route over the least (in order; ids shown as <id>):", file=out)
    for row in over:
        why = LEAST[(row["method"], row["path"])][1]
        print(f"  {row['method']} {row['path']}\n    measured: {' '.join(row['sequence'])}\n    least: {why}", file=out)
    print(f"\n{len(rows)} routes ({len(rows) - len(READS)} writes + {len(READS)} reads); {sum(1 for r in rows if 200 <= r['status'] < 300)} answered 2xx; "
          f"{len(over)} cost more calls than the least (!), {sum(1 for r in rows if (r['method'], r['path']) not in LEAST)}"
          " have no least given (?)", file=out)
    return over


def main() -> None:
    result = measure()
    report(result)


if __name__ == "__main__":
    main()
