"""In-process order throughput through the API, as a ratio of the raw TransactWriteItems of the same items.

Printed, never asserted. One process, moto in-process (`mock_aws`), rate limits off (config.RATE_LIMITS,
if api/limits.py is in the tree) unless BENCH_LIMITS=on:

1. a round with one bundle whose stock no run can exhaust, and BENCH_ORDERS households (default 50),
   each registered through the API; the table is then snapshotted (untimed);
2. **API**: each household places one order through `chalice.test.Client` (POST /api/orders, one bundle,
   qty 1, a fresh Idempotency-Key): the whole request (routing, token, schema, the BatchGetItem, the
   transaction, the answer). The parameters of every TransactWriteItems it sends are kept;
3. the table is put back as the snapshot had it (untimed);
4. **raw**: the same TransactWriteItems, parameter for parameter, sent through the same botocore client
   (api.models.dynamodb_client()) to the same moto: the store operation alone;
5. the table is put back again; 2–4 repeat BENCH_REPEATS times (default 3), alternating, and the medians
   are compared: target API ÷ raw ≤ 1.5×.

Times are the process's CPU seconds (time.process_time): everything runs in this one thread (moto
included), and on a shared machine the wall clock mostly measures the other processes.

moto's TransactWriteItems deep-copies the whole table first (its rollback) and registers every copied
item with moto's own model registry, which keeps them: each transaction costs time in proportion to the
table, and about 2.5 MB that is never given back while the mock runs. Both paths pay this the same, so
the ratio stands, but the pass sizes are kept small.

If the target is missed, BENCH_PROFILE=1 profiles one API pass and prints where the time goes outside the
raw operation (cProfile, cumulative, the app's own functions first).
"""
import copy
import os
import statistics
import sys
import time
import uuid

ORDERS = int(os.environ.get("BENCH_ORDERS", "50"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
TARGET = 1.5
MARK = "BENCH-THROUGHPUT "


def _environment() -> None:
    from bench.calls import ENV
    os.environ.update(dict(ENV, BAOGONG_TABLE="baogong-bench-throughput"))
    os.environ.pop("BAOGONG_AWS_ENDPOINT", None)


class Table:
    """Snapshot and restore of the whole table through a client of our own (never timed)."""

    def __init__(self, name: str):
        import boto3
        self.name = name
        self.client = boto3.client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"])
        self.saved = {}

    def items(self) -> dict:
        found, start = {}, None
        while True:
            page = self.client.scan(TableName=self.name, ConsistentRead=True,
                                    **({"ExclusiveStartKey": start} if start else {}))
            for item in page["Items"]:
                found[(item["PK"]["S"], item["SK"]["S"])] = item
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def snapshot(self) -> None:
        self.saved = self.items()

    def restore(self) -> None:
        for key, item in self.items().items():
            if key not in self.saved:
                self.client.delete_item(TableName=self.name, Key={"PK": item["PK"], "SK": item["SK"]})
            elif item != self.saved[key]:
                self.client.put_item(TableName=self.name, Item=self.saved[key])


def setup():
    """The round, the households' tokens, and the snapshot; in the running mock."""
    import json
    import secrets
    from datetime import timedelta

    import boto3

    from api import bootstrap, clock, config, models
    boto3.client("ssm", region_name=config.REGION).put_parameter(
        Name=config.TOKEN_SECRET_PARAM, Value=secrets.token_hex(32), Type="SecureString")
    models.create_table()
    if hasattr(config, "RATE_LIMITS"):
        config.RATE_LIMITS = os.environ.get("BENCH_LIMITS", "off") == "on"
    demo = bootstrap.demo()
    from chalice.test import Client

    from app import app
    client = Client(app)
    now = clock.now()
    body = {"name": "吞吐", "community_ids": [demo["community_id"]],
            "opens_at": clock.iso(now - timedelta(minutes=1)), "closes_at": clock.iso(now + timedelta(days=1)),
            "payment_deadline": clock.iso(now + timedelta(days=2)), "payment_qr": "wxp://bench",
            "bundles": [{"name": "米面油", "items": [{"name": "米", "qty": "5", "unit": "kg"}], "price_fen": 12800,
                         "stock": 10 * ORDERS * (REPEATS + 2), "per_household_limit": 1}]}
    r = client.http.post("/api/rounds", body=json.dumps(body), headers={
        "authorization": f"Bearer {demo['tokens']['supplier']}", "content-type": "application/json"})
    assert r.status_code == 201, r.body
    round_ = r.json_body
    blocks = [("1栋", ""), ("2栋", ""), ("3栋", "1单元"), ("3栋", "2单元"), ("10栋", "1单元"), ("10栋", "2单元")]
    tokens = []
    for i in range(ORDERS):
        building, unit = blocks[i % len(blocks)]
        flat = {"building": building, "unit": unit, "room": f"{i // 6 % 60 + 1}{i // 360 + 1:02d}",
                "phone": f"137{i:08d}"}
        r = client.http.post(f"/api/join/{demo['join_key']}/households", headers={"content-type": "application/json"},
                             body=json.dumps(flat))
        assert r.status_code == 201, r.body
        tokens.append(r.json_body["token"])
    order_body = json.dumps({"round_id": round_["round_id"],
                             "lines": [{"bundle_id": round_["bundles"][0]["bundle_id"], "qty": 1}]})
    table = Table(config.TABLE_NAME)
    table.snapshot()
    return client, tokens, order_body, table


def api_pass(client, tokens, order_body, captured: list | None) -> float:
    from api import models
    def hook(params, **kwargs):
        captured.append(copy.deepcopy(params))
    if captured is not None:
        models.dynamodb_client().meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", hook,
                                                      unique_id="bench-capture")
    started = time.process_time()
    for token in tokens:
        r = client.http.post("/api/orders", body=order_body, headers={
            "authorization": f"Bearer {token}", "content-type": "application/json",
            "idempotency-key": str(uuid.uuid4())})
        if r.status_code != 201:
            raise SystemExit(f"an order was refused: {r.status_code} {r.body[:300]!r}")
    elapsed = time.process_time() - started
    if captured is not None:
        models.dynamodb_client().meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems",
                                                        unique_id="bench-capture")
    return elapsed


def raw_pass(transactions: list) -> float:
    from api import models
    client = models.dynamodb_client()
    started = time.process_time()
    for params in transactions:
        client.transact_write_items(**params)
    return time.process_time() - started


def main() -> None:
    _environment()
    from moto import mock_aws
    import logging
    logging.disable(logging.INFO)  # the access log line of every request: not what this prints
    with mock_aws():
        client, tokens, order_body, table = setup()
        from api import config
        limits = getattr(config, "RATE_LIMITS", None)
        api_times, raw_times, transactions = [], [], []
        # One pass of each, untimed in the result, warms both paths (imports, caches, moto's first calls).
        captured = []
        api_pass(client, tokens, order_body, captured)
        table.restore()
        raw_pass(captured)
        table.restore()
        for _ in range(REPEATS):
            transactions = []
            api_times.append(api_pass(client, tokens, order_body, transactions))
            table.restore()
            assert len(transactions) == len(tokens), (len(transactions), len(tokens))
            raw_times.append(raw_pass(transactions))
            table.restore()
        api_s, raw_s = statistics.median(api_times), statistics.median(raw_times)
        ratio = api_s / raw_s
        items = len(transactions[0]["TransactItems"])
        print(f"in-process order throughput, moto in-process (mock_aws), {len(tokens)} orders a pass, "
              f"{REPEATS} passes each, alternating; rate limits "
              f"{'n/a (no api/limits.py)' if limits is None else ('on' if limits else 'off')}")
        print(f"  API  POST /api/orders (chalice.test.Client): median {api_s:.2f} CPU s a pass = "
              f"{len(tokens) / api_s:7.1f} orders/s  ({1000 * api_s / len(tokens):.2f} ms each; passes "
              + ", ".join(f"{t:.2f}" for t in api_times) + " s)")
        print(f"  raw  TransactWriteItems ({items} items, same params, same client): median {raw_s:.2f} CPU s = "
              f"{len(tokens) / raw_s:7.1f} transactions/s  ({1000 * raw_s / len(tokens):.2f} ms each; passes "
              + ", ".join(f"{t:.2f}" for t in raw_times) + " s)")
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(f"  API ÷ raw: {ratio:.2f}×  (target ≤ {TARGET}×: {verdict})")
        print(MARK + f"api_s={api_s:.4f} raw_s={raw_s:.4f} ratio={ratio:.3f}")
        if os.environ.get("BENCH_PROFILE") == "1":
            profile(client, tokens, order_body, table)


def profile(client, tokens, order_body, table) -> None:
    """Where an API pass spends its time: cumulative, top entries."""
    import cProfile
    import pstats
    profiler = cProfile.Profile()
    profiler.enable()
    api_pass(client, tokens, order_body, None)
    profiler.disable()
    table.restore()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
