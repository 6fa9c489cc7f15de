"""`make bench`: how fast the order path (and the liaison's roster) is on the local stack. Printed, never asserted.

Starts the same stack `make dev` runs (moto + API + PWA, in this process, on
127.0.0.1), registers households, then measures placing orders over HTTP:
one at a time (latency), and many at once (throughput, behind moto's lock).
It also counts DynamoDB calls per order with botocore event hooks. moto is
not DynamoDB: these numbers compare versions of this code on this machine,
they do not predict production latency.
"""
import os
import statistics
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests

# Every caller here is 127.0.0.1: with the rate limits of api/limits.py on (make dev's default), one IP
# registering 500 flats and placing their orders would be refused with 429 long before the end. These
# timings are of the order path; bench.calls counts what the limits add to each write.
os.environ.setdefault("BAOGONG_RATE_LIMITS", "off")

from scripts import devstack  # noqa: E402

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "200"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "300"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "50"))


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _register(base, join_key, n, offset):
    blocks = [("1栋", ""), ("2栋", ""), ("3栋", "1单元"), ("3栋", "2单元"), ("10栋", "1单元"), ("10栋", "2单元")]
    tokens = []
    for i in range(n):
        building, unit = blocks[(i + offset) % len(blocks)]
        room = f"{(i + offset) // len(blocks) % 60 + 1}{(i + offset) // 360 + 1:02d}"
        r = requests.post(f"{base}/api/join/{join_key}/households", timeout=60,
                          json={"building": building, "unit": unit, "room": room, "phone": f"137{i + offset:08d}"})
        r.raise_for_status()
        tokens.append(r.json()["token"])
    return tokens


def _round(base, info, stock):
    now = datetime.now(timezone.utc)
    r = requests.post(f"{base}/api/rounds", timeout=60, headers={"Authorization": f"Bearer {info['tokens']['supplier']}"},
                      json={"name": "bench", "community_ids": [info["community_id"]],
                            "opens_at": (now - timedelta(minutes=1)).isoformat(),
                            "closes_at": (now + timedelta(hours=1)).isoformat(),
                            "payment_deadline": (now + timedelta(hours=2)).isoformat(), "payment_qr": "wxp://bench",
                            "bundles": [{"name": "bench", "items": [{"name": "米", "qty": "5", "unit": "kg"}],
                                         "price_fen": 100, "stock": stock, "per_household_limit": 1}]})
    r.raise_for_status()
    return r.json()


def _order(base, token, round_):
    started = time.perf_counter()
    r = requests.post(f"{base}/api/orders", timeout=300,
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
                      json={"round_id": round_["round_id"],
                            "lines": [{"bundle_id": round_["bundles"][0]["bundle_id"], "qty": 1}]})
    return r.status_code, time.perf_counter() - started


def main():
    os.environ.setdefault("BAOGONG_PUBLIC_URL", "http://127.0.0.1")
    moto_server, moto_url = devstack.start_moto()
    devstack.prepare_aws(moto_url)
    from api import bootstrap, models
    demo = bootstrap.demo()
    port = devstack.free_port()
    server = devstack.serve("127.0.0.1", port)
    # One access line per request is what make dev prints; here it would bury the figures under ~1,000 lines.
    import logging
    from api.logs import ACCESS_LOGGER
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.WARNING)
    # 50 clients at once share the app's one botocore client to moto (10 pooled connections): the pool's
    # "discarding connection" lines say only that, once per surplus request.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    base = f"http://127.0.0.1:{port}"
    calls = Counter()
    models.dynamodb_client().meta.events.register("before-call.dynamodb",
                                                  lambda model, **kw: calls.__setitem__(model.name, calls[model.name] + 1))

    tokens = _register(base, demo["join_key"], SEQUENTIAL + CONCURRENT, 0)
    print(f"Baogong order benchmark (local stack, moto behind one lock), {time.strftime('%Y-%m-%d %H:%M')}; "
          f"rate limits {os.environ['BAOGONG_RATE_LIMITS']}")

    round_ = _round(base, demo, SEQUENTIAL)
    calls.clear()
    results = [_order(base, t, round_) for t in tokens[:SEQUENTIAL]]
    latencies = [s for code, s in results if code == 201]
    per_order = {name: n / SEQUENTIAL for name, n in sorted(calls.items())}
    print(f"\nsequential: {len(latencies)}/{SEQUENTIAL} placed")
    print(f"  latency ms  p50 {1000 * statistics.median(latencies):.1f}  p95 {1000 * _percentile(latencies, 95):.1f}"
          f"  p99 {1000 * _percentile(latencies, 99):.1f}  max {1000 * max(latencies):.1f}")
    print("  DynamoDB calls per order: " + ", ".join(f"{k} {v:g}" for k, v in per_order.items()))

    round_ = _round(base, demo, CONCURRENT // 3)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(lambda t: _order(base, t, round_), tokens[SEQUENTIAL:]))
    elapsed = time.perf_counter() - started
    outcome = Counter(code for code, _ in results)
    print(f"\nconcurrent: {CONCURRENT} orders for {CONCURRENT // 3} bags, {WORKERS} clients at once")
    print(f"  outcome {dict(sorted(outcome.items()))}  in {elapsed:.1f} s  = {CONCURRENT / elapsed:.0f} requests/s")
    print(f"  latency ms  p50 {1000 * statistics.median(s for _, s in results):.1f}"
          f"  p95 {1000 * _percentile([s for _, s in results], 95):.1f}")
    _roster(base, demo, calls, len(tokens))
    server.shutdown()
    moto_server.shutdown()


def _roster(base, demo, calls, flats, repeats=10):
    """The liaison's roster of the whole community, and of one building, with this round's orders."""
    headers = {"Authorization": f"Bearer {demo['tokens']['liaison']}"}
    url = f"{base}/api/communities/{demo['community_id']}/roster"
    print(f"\nroster: {flats} flats, each with its order status in the newest open round")
    for label, params in (("whole community", {}), ("one building (3栋)", {"building": "3栋"})):
        timings = []
        calls.clear()
        for _ in range(repeats):
            started = time.perf_counter()
            r = requests.get(url, params=params, headers=headers, timeout=300)
            r.raise_for_status()
            timings.append(time.perf_counter() - started)
        shown = len(r.json()["households"])
        per = {name: n / repeats for name, n in sorted(calls.items())}
        print(f"  {label}: {shown} flats  p50 {1000 * statistics.median(timings):.0f} ms"
              f"  max {1000 * max(timings):.0f} ms  {len(r.content) // 1024} KiB;  DynamoDB calls: "
              + ", ".join(f"{k} {v:g}" for k, v in per.items()))


if __name__ == "__main__":
    main()
