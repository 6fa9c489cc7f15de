"""`make load`: a surge of residents against a fresh `make dev` stack, over HTTP, then the table checked.

What it does, in order:

1. starts its own `make dev` (tests/stackrunner.py's DevStack) on a free port of 127.0.0.1, in a
   temporary state directory, and prints its settings;
2. setup (timed on its own): the demo supplier creates one round for the demo community with bundle A
   (500 units, 1 per household) and bundle B (150 units, 1 per household, in a fifth of the carts);
   2,000 households register through the join link (distinct flats of the demo buildings, distinct phones);
3. the surge: every household is a resident with a seeded plan, run by a pool of N residents in flight
   (50 by default). A resident posts its order with an Idempotency-Key and retries with the SAME key on
   a client timeout, a dropped connection, a 5xx or a 429 (after Retry-After when given). Mixed in:
   flaky networks (an attempt whose answer the client stops waiting for after a few ms: the server may
   still place it), answers dropped after a 2xx (the client asks again with the same key), double taps
   (the same key sent twice at once), late replays of a key, payment claims, cancels (a cancel gives
   the units back, so later residents may buy them), a new order after a cancel, and residents who find
   the bundle sold out and try again a little later;
4. reports placed, sold-out and other answers by status and code, 429s, 5xx and client timeouts, the
   latency of each kind of request (p50/p95/p99/max) and requests per second;
5. checks against the TABLE, not the answers: a Query of the round's partition in the stack's moto
   (bundles and orders), a BatchGetItem of every order key's idempotency record, of every order's
   pickup-code claim and of every household's quota. It prints PASS or FAIL per invariant and exits 1
   if any fails: oversold 0 (and stock_left = stock - live units, exactly), lost 0, phantom 0,
   duplicated 0, pickup codes unique, the clients' last-seen statuses = the table's, quotas = live
   units, no 500.

Timings are printed, never asserted: moto behind one lock is not DynamoDB, and the machine is shared.
Options: `python -m bench.load --help` (or LOAD_HOUSEHOLDS, LOAD_STOCK, LOAD_CONCURRENCY, LOAD_SEED).
`--env KEY=VALUE` is passed to the stack's environment when DevStack takes an `env`. By default the
per-IP rate limits are lifted (every client here is 127.0.0.1) and the per-household ones kept as in prod.
"""
import argparse
import inspect
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

LIVE_EXCLUDED = ("cancelled", "expired")
# Every client of this driver is 127.0.0.1: the per-IP limits (api/config.py) are lifted out of reach, as
# API Gateway would see 2,000 phones from many addresses. The per-household and per-staff limits stay as
# in prod, so a resident's retries, double taps and replays are counted against their flat's own limit.
LIFT_PER_IP = {"BAOGONG_LIMIT_IP_WRITES": "1000000/60", "BAOGONG_LIMIT_JOIN": "1000000/60"}
# 6 blocks of the demo community: 1栋 and 2栋 have no units, 3栋 and 10栋 have two each.
BLOCKS = [("1栋", ""), ("2栋", ""), ("3栋", "1单元"), ("3栋", "2单元"), ("10栋", "1单元"), ("10栋", "2单元")]


@dataclass
class Settings:
    households: int = 2000
    stock: int = 500                  # bundle A, the one everybody wants
    stock_b: int = 150                # bundle B, in `share_b` of the carts
    share_b: float = 0.2
    concurrency: int = 50             # residents in flight at once
    register_workers: int = 8
    seed: int = 12
    timeout: float = 60.0             # a client's patience for one request
    max_attempts: int = 10            # per request, same key, before a resident gives up
    p_flaky: float = 0.05             # an attempt the client stops waiting for after 5-300 ms
    p_drop_answer: float = 0.05       # a 2xx the client never sees: it asks again with the same key
    p_double_tap: float = 0.08        # the same key sent twice at once
    p_late_replay: float = 0.05       # the same key sent again at the end of the visit
    p_claim: float = 0.30             # 「我已付款」
    p_cancel: float = 0.15            # changes their mind
    p_reorder: float = 0.25           # of those who cancelled: orders again (new key)
    p_retry_sold_out: float = 0.10    # of those told sold out: tries again later (new key), up to twice
    max_retry_after: float = 30.0     # a 429 asking to wait longer than this: the resident gives up
    env: dict = field(default_factory=lambda: dict(LIFT_PER_IP))

    def describe(self) -> str:
        return (f"households {self.households}; bundle A {self.stock} units, bundle B {self.stock_b} units "
                f"(both 1 per household; B in {self.share_b:.0%} of carts); {self.concurrency} residents in flight; "
                f"seed {self.seed}\n  client timeout {self.timeout:g} s, up to {self.max_attempts} attempts per request "
                f"with the same key; flaky attempts {self.p_flaky:.0%}, dropped 2xx answers {self.p_drop_answer:.0%}, "
                f"double taps {self.p_double_tap:.0%}, late replays {self.p_late_replay:.0%}, claims {self.p_claim:.0%}, "
                f"cancels {self.p_cancel:.0%} (of them {self.p_reorder:.0%} order again), sold-out retries "
                f"{self.p_retry_sold_out:.0%}")


# --- recording ---------------------------------------------------------------------------------------

@dataclass
class Attempt:
    kind: str           # order, claim, cancel, register
    status: object      # an int, or "timeout" / "connection"
    code: str           # the error code of a 4xx/5xx, "" otherwise
    seconds: float
    ended: float        # time.monotonic() when it ended


class Ticker:
    """A progress line every `every` seconds while a long phase runs."""

    def __init__(self, label, progress, every=30.0):
        self.label, self.progress, self.every = label, progress, every
        self.stop = threading.Event()
        self.started = time.perf_counter()

    def __enter__(self):
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self):
        while not self.stop.wait(self.every):
            print(f"  ... {self.label} {time.perf_counter() - self.started:.0f} s: {self.progress()}", flush=True)

    def __exit__(self, *exc):
        self.stop.set()


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.attempts: list[Attempt] = []
        self.outcome_seconds: dict[str, list[float]] = defaultdict(list)  # first try to final answer
        self.events = Counter()

    def add(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def outcome(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.outcome_seconds[kind].append(seconds)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.events[name] += n


@dataclass
class KeyUse:
    """One Idempotency-Key of an order, as its household's client saw it."""

    key: str
    body: dict
    order_ids: set = field(default_factory=set)    # every order id any 2xx answer for this key named
    outcome: str = ""                             # "placed", "refused:<code>", "gave_up:<last>"
    answered_at: float = 0.0


@dataclass
class Household:
    index: int
    flat: dict
    phone: str
    token: str = ""
    household_id: str = ""
    member_id: str = ""
    keys: list = field(default_factory=list)              # [KeyUse]
    last_status: dict = field(default_factory=dict)       # order_id -> last status its journey saw, or None


local = threading.local()


def _session() -> requests.Session:
    if getattr(local, "session", None) is None:
        local.session = requests.Session()
    return local.session


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _call(rec: Recorder, kind: str, method: str, url: str, *, token=None, key=None, body=None, timeout=30.0,
          fresh=False):
    """One HTTP attempt. Returns (status, json or None, headers)."""
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    session = requests.Session() if fresh else _session()
    started = time.perf_counter()
    try:
        r = session.request(method, url, json=body, headers=headers, timeout=(10, timeout))
    except requests.Timeout:
        rec.add(Attempt(kind, "timeout", "", time.perf_counter() - started, time.monotonic()))
        local.session = None  # the connection is gone with the answer
        return "timeout", None, {}
    except requests.ConnectionError:
        rec.add(Attempt(kind, "connection", "", time.perf_counter() - started, time.monotonic()))
        local.session = None
        return "connection", None, {}
    finally:
        if fresh:
            session.close()
    try:
        data = r.json()
    except ValueError:
        data = None
    code = ((data or {}).get("error") or {}).get("code", "") if r.status_code >= 400 and isinstance(data, dict) else ""
    rec.add(Attempt(kind, r.status_code, code, time.perf_counter() - started, time.monotonic()))
    return r.status_code, data, r.headers


def _retryable(status) -> bool:
    return status in ("timeout", "connection", 429) or (isinstance(status, int) and status >= 500)


def _with_retries(settings: Settings, rng: random.Random, rec: Recorder, kind: str, method: str, url: str, *,
                  flaky: bool = False, **kwargs):
    """Send until an answer that is not worth retrying, with the same key every time; returns
    (status, data, attempts). `flaky` lets this client give up waiting on some attempts early."""
    started = time.perf_counter()
    status, data = None, None
    for attempt in range(settings.max_attempts):
        timeout = settings.timeout
        if flaky and rng.random() < settings.p_flaky:
            timeout = rng.uniform(0.005, 0.3)
            rec.count(f"{kind}: flaky attempts (client stopped waiting after 5-300 ms)")
        status, data, headers = _call(rec, kind, method, url, timeout=timeout, **kwargs)
        if not _retryable(status):
            break
        if attempt + 1 < settings.max_attempts:
            try:
                pause = float(headers.get("Retry-After", ""))
            except ValueError:
                pause = min(4.0, 0.2 * 2 ** attempt)
            if pause > settings.max_retry_after:
                rec.count(f"{kind}: gave up on a Retry-After over {settings.max_retry_after:g} s")
                break
            time.sleep(pause + rng.uniform(0, 0.5))
    rec.outcome(kind, time.perf_counter() - started)
    return status, data


# --- the stack ---------------------------------------------------------------------------------------

def start_stack(state_dir: Path, env: dict):
    """A fresh `make dev`; returns (stack, what was done with `env`)."""
    from tests.stackrunner import DevStack
    takes_env = "env" in inspect.signature(DevStack.__init__).parameters
    if env and takes_env:
        stack, used = DevStack(state_dir, env=env), f"passed to DevStack: {env}"
    else:
        stack = DevStack(state_dir)
        used = ("none" if not env else f"NOT passed (this DevStack takes no env): {env}")
    return stack.start(timeout=180), used


# --- setup -------------------------------------------------------------------------------------------

def flat_of(i: int) -> dict:
    building, unit = BLOCKS[i % len(BLOCKS)]
    j = i // len(BLOCKS)
    return {"building": building, "unit": unit, "room": f"{j // 4 + 1}{j % 4 + 1:02d}"}


def create_round(base: str, info: dict, settings: Settings) -> dict:
    now = datetime.now(timezone.utc)
    bundles = [{"name": "米面油 抢购", "items": [{"name": "大米", "qty": "5", "unit": "kg"}],
                "price_fen": 5990, "stock": settings.stock, "per_household_limit": 1}]
    if settings.stock_b and settings.share_b:
        bundles.append({"name": "蔬菜 抢购", "items": [{"name": "白菜", "qty": "1", "unit": "颗"}],
                        "price_fen": 2990, "stock": settings.stock_b, "per_household_limit": 1})
    r = requests.post(f"{base}/api/rounds", timeout=60, headers={"Authorization": f"Bearer {info['tokens']['supplier']}"},
                      json={"name": "surge load", "community_ids": [info["community_id"]],
                            "opens_at": (now - timedelta(minutes=1)).isoformat(),
                            "closes_at": (now + timedelta(hours=3)).isoformat(),
                            "payment_deadline": (now + timedelta(hours=4)).isoformat(),
                            "payment_qr": "wxp://surge-load", "bundles": bundles})
    if r.status_code != 201:
        raise RuntimeError(f"creating the round: {r.status_code} {r.text}")
    return r.json()


def register(base: str, join_key: str, households: list, settings: Settings, rec: Recorder) -> None:
    """Each household's first phone joins. No client timeout short enough to double a flat: a second
    registration of a flat would be a pending phone, which may not order."""
    def one(h: Household):
        rng = random.Random(f"{settings.seed}/register/{h.index}")
        for attempt in range(settings.max_attempts):
            status, data, headers = _call(rec, "register", "POST", f"{base}/api/join/{join_key}/households",
                                          body={**h.flat, "phone": h.phone}, timeout=300)
            if status == 201:
                if data.get("membership", "member") != "member":
                    raise RuntimeError(f"household {h.index} registered as {data.get('membership')}")
                h.token, h.household_id, h.member_id = data["token"], data["household_id"], data["member_id"]
                return
            if status in (429, 503):
                try:
                    pause = float(headers.get("Retry-After", ""))
                except ValueError:
                    pause = min(4.0, 0.2 * 2 ** attempt)
                if pause > settings.max_retry_after:
                    raise RuntimeError(f"registering household {h.index}: {status}, Retry-After {pause:g} s; "
                                       "lift the join limit with --env BAOGONG_LIMIT_JOIN=1000000/60")
                time.sleep(pause + rng.uniform(0, 0.5))
                continue
            raise RuntimeError(f"registering household {h.index}: {status} {data}")
        raise RuntimeError(f"registering household {h.index}: still {status} after {settings.max_attempts} attempts")

    with ThreadPoolExecutor(max_workers=settings.register_workers) as pool:
        list(pool.map(one, households))


# --- the surge ---------------------------------------------------------------------------------------

class Surge:
    def __init__(self, base: str, round_: dict, settings: Settings, rec: Recorder):
        self.base, self.settings, self.rec = base, settings, rec
        self.round_id = round_["round_id"]
        self.bundle_a = round_["bundles"][0]["bundle_id"]
        self.bundle_b = round_["bundles"][1]["bundle_id"] if len(round_["bundles"]) > 1 else None
        self.first_sold_out: dict[str, float] = {}   # bundle id -> when a client first heard sold_out
        self.placed_after_sold_out = Counter()       # bundle id -> orders placed after that
        self.lock = threading.Lock()

    def _lines(self, with_b: bool) -> dict:
        lines = [{"bundle_id": self.bundle_a, "qty": 1}]
        if with_b and self.bundle_b:
            lines.append({"bundle_id": self.bundle_b, "qty": 1})
        return {"round_id": self.round_id, "lines": lines}

    def _send_order(self, h: Household, use: KeyUse, rng: random.Random, fresh=False):
        status, data = _with_retries(self.settings, rng, self.rec, "order", "POST", f"{self.base}/api/orders",
                                     token=h.token, key=use.key, body=use.body, flaky=True, fresh=fresh)
        return status, data

    def _note(self, use: KeyUse, status, data) -> None:
        """What one (final) answer for this key said."""
        with self.lock:
            if status in (200, 201):
                use.order_ids.add(data["order_id"])
                if not use.outcome.startswith("placed"):
                    use.outcome = "placed"
                    use.answered_at = time.monotonic()
            elif not use.outcome:
                code = ((data or {}).get("error") or {}).get("code", "") if isinstance(data, dict) else ""
                use.outcome = (f"refused:{status}:{code}" if isinstance(status, int) and 400 <= status < 500
                               and status != 429 else f"gave_up:{status}")
                use.answered_at = time.monotonic()

    def order(self, h: Household, rng: random.Random, with_b: bool):
        """Place one order under a new key, with the client's mishaps. Returns (order_id or None, refusal code)."""
        s = self.settings
        use = KeyUse(key=f"load-{uuid.UUID(int=rng.getrandbits(128))}", body=self._lines(with_b))
        h.keys.append(use)
        twin = None
        if rng.random() < s.p_double_tap:
            self.rec.count("double taps (same key twice at once)")
            twin_rng = random.Random(rng.random())
            twin = threading.Thread(target=lambda: self._note(use, *self._send_order(h, use, twin_rng, fresh=True)))
            twin.start()
        status, data = self._send_order(h, use, rng)
        if status in (200, 201) and rng.random() < s.p_drop_answer:
            self.rec.count("2xx answers dropped by the client, asked again with the same key")
            self._note(use, status, data)
            status, data = self._send_order(h, use, rng)
        self._note(use, status, data)
        if twin is not None:
            twin.join()
        if status in (200, 201):
            order_id = data["order_id"]
            h.last_status[order_id] = data["status"]
            with self.lock:
                for line in use.body["lines"]:
                    if line["bundle_id"] in self.first_sold_out:
                        self.placed_after_sold_out[line["bundle_id"]] += 1
            return order_id, ""
        code = ((data or {}).get("error") or {}).get("code", "") if isinstance(data, dict) else ""
        if code == "sold_out":
            bundle = ((data.get("error") or {}).get("fields") or {}).get("bundle_id")
            with self.lock:
                self.first_sold_out.setdefault(bundle, time.monotonic())
            return None, f"sold_out:{'A' if bundle == self.bundle_a else 'B'}"
        return None, code or str(status)

    def resident(self, h: Household) -> None:
        s = self.settings
        rng = random.Random(f"{s.seed}/resident/{h.index}")
        time.sleep(rng.uniform(0, 0.2))
        with_b = rng.random() < s.share_b
        order_id, refusal = self.order(h, rng, with_b)
        tries = 0
        while order_id is None:
            if refusal == "sold_out:B" and with_b:
                self.rec.count("carts without B after B sold out (new key)")
                with_b = False
            elif refusal.startswith("sold_out") and tries < 2 and rng.random() < s.p_retry_sold_out:
                tries += 1
                self.rec.count("sold-out residents trying again later (new key)")
                time.sleep(rng.uniform(1.0, 4.0))
            else:
                return
            order_id, refusal = self.order(h, rng, with_b)
        if rng.random() < s.p_claim:
            self.claim(h, order_id, rng)
        if rng.random() < s.p_cancel:
            time.sleep(rng.uniform(0, 3.0))
            if self.cancel(h, order_id, rng) and rng.random() < s.p_reorder:
                self.rec.count("new orders after a cancel (new key)")
                self.order(h, rng, False)
        for use in list(h.keys):
            if use.outcome == "placed" and rng.random() < s.p_late_replay:
                self.rec.count("late replays of a key")
                self._note(use, *self._send_order(h, use, rng))

    def claim(self, h: Household, order_id: str, rng: random.Random) -> None:
        key = f"claim-{uuid.UUID(int=rng.getrandbits(128))}"
        status, data = _with_retries(self.settings, rng, self.rec, "claim", "POST",
                                     f"{self.base}/api/orders/{order_id}/payment-claim", token=h.token, key=key,
                                     body={"reference": f"{rng.randrange(10000):04d}"}, flaky=True)
        h.last_status[order_id] = data["status"] if status == 200 else None  # None: not known any more

    def cancel(self, h: Household, order_id: str, rng: random.Random) -> bool:
        status, data = _with_retries(self.settings, rng, self.rec, "cancel", "POST",
                                     f"{self.base}/api/orders/{order_id}/cancel", token=h.token, flaky=True)
        h.last_status[order_id] = data["status"] if status == 200 else None
        return status == 200


# --- the table ---------------------------------------------------------------------------------------

def _dynamodb(moto_url: str, kind: str = "resource"):
    import boto3
    return getattr(boto3, kind)("dynamodb", endpoint_url=moto_url, region_name="cn-north-1",
                                aws_access_key_id="local", aws_secret_access_key="local")


def read_table(moto_url: str, table_name: str, round_id: str, households: list) -> dict:
    """Everything the checks need, read straight from the stack's moto."""
    from boto3.dynamodb.conditions import Key
    table = _dynamodb(moto_url).Table(table_name)
    items, start = [], None
    while True:
        kwargs = {"KeyConditionExpression": Key("PK").eq(f"ROUND#{round_id}"), "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = table.query(**kwargs)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    bundles = {i["bundle_id"]: i for i in items if i["SK"].startswith("ROUND#BUNDLE#")}
    orders = [i for i in items if i["SK"].startswith("ORDER#")]
    client = _dynamodb(moto_url, "client")  # plain DynamoDB JSON in and out

    def batch_get(keys):
        found = []
        for n in range(0, len(keys), 100):
            request = {table_name: {"Keys": keys[n:n + 100], "ConsistentRead": True}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                found += answer["Responses"].get(table_name, [])
                request = answer.get("UnprocessedKeys") or None
        return found

    from boto3.dynamodb.types import TypeDeserializer
    plain = TypeDeserializer()

    def as_python(item):
        return {k: plain.deserialize(v) for k, v in item.items()}

    idem_keys = [{"PK": {"S": f"IDEMPOTENCY#{h.member_id}#{u.key}"}, "SK": {"S": "IDEMPOTENCY"}}
                 for h in households for u in h.keys]
    idempotency = {i["PK"]: i for i in map(as_python, batch_get(idem_keys))}
    code_keys = [{"PK": {"S": f"PICKUP#{round_id}#{code}"}, "SK": {"S": "PICKUP"}}
                 for code in sorted({o["pickup_code"] for o in orders})]
    codes = [as_python(i) for i in batch_get(code_keys)]
    quota_keys = [{"PK": {"S": f"HOUSEHOLD#{h.household_id}"}, "SK": {"S": f"QUOTA#{round_id}#{b}"}}
                  for h in households for b in bundles]
    quotas = {(i["PK"], i["SK"]): i for i in map(as_python, batch_get(quota_keys))}
    return {"bundles": bundles, "orders": orders, "idempotency": idempotency, "codes": codes, "quotas": quotas}


def _units(order: dict, bundle_id: str) -> int:
    return sum(int(line["qty"]) for line in order["lines"] if line["bundle_id"] == bundle_id)


def check(table: dict, households: list, bundles: dict, round_id: str) -> list[tuple[str, bool, str]]:
    """The invariants, from the table and the clients' ledger: [(name, passed, detail)].

    `bundles` maps a short name (A, B) to its bundle id; the stock is the bundle item's own stock_total."""
    results = []
    orders = table["orders"]
    by_id = {o["order_id"]: o for o in orders}
    live = [o for o in orders if o["status"] not in LIVE_EXCLUDED]

    # Oversold, and stock_left agreeing with the live orders exactly.
    over, ledger = [], []
    for name, bundle_id in bundles.items():
        units = sum(_units(o, bundle_id) for o in live)
        total = int(table["bundles"][bundle_id]["stock_total"])
        left = int(table["bundles"][bundle_id]["stock_left"])
        over.append((name, units, total))
        ledger.append((name, left, total, units))
    results.append(("oversold", all(u <= t for _, u, t in over),
                    "; ".join(f"bundle {n}: live units {u} - stock {t} = {u - t}" for n, u, t in over)))
    results.append(("stock_left = stock - live units", all(left == t - u for _, left, t, u in ledger),
                    "; ".join(f"bundle {n}: {left} vs {t} - {u} = {t - u}" for n, left, t, u in ledger)))

    # Lost: an order id a client was given that the table does not hold (in this round).
    given = {oid for h in households for u in h.keys for oid in u.order_ids}
    lost = sorted(given - set(by_id))
    results.append(("lost", not lost, f"{len(lost)} of {len(given)} orders the clients were given are not in the table"
                    + (f": {lost[:5]}" if lost else "")))

    # Each order key: its idempotency record and the answers must name one and the same order.
    order_of_key, split_keys, missing_records = {}, set(), []
    for h in households:
        for u in h.keys:
            record = table["idempotency"].get(f"IDEMPOTENCY#{h.member_id}#{u.key}")
            if len(u.order_ids) > 1:
                split_keys.add(u.key)
            if record is None:
                if u.order_ids:
                    missing_records.append(u.key)
                continue
            sk = record["result_sk"]
            order_of_key[u.key] = (h, u, sk)
            if u.order_ids and not any(sk.endswith("#" + oid) for oid in u.order_ids):
                split_keys.add(u.key)
    keyed_sks = Counter(sk for _, _, sk in order_of_key.values())
    unkeyed = [o["order_id"] for o in orders if keyed_sks[o["SK"]] == 0]
    twice_keyed = [sk for sk, n in keyed_sks.items() if n > 1]
    live_per_household = Counter(o["household_id"] for o in live)
    two_live = [hid for hid, n in live_per_household.items() if n > 1]
    asked = {h.household_id: len(h.keys) for h in households}
    more_than_asked = [hid for hid, n in Counter(o["household_id"] for o in orders).items() if n > asked.get(hid, 0)]
    duplicated = len(split_keys) + len(unkeyed) + len(twice_keyed) + len(two_live) + len(more_than_asked)
    results.append(("duplicated", duplicated == 0,
                    f"{duplicated}: keys answered with another order {len(split_keys)}, orders no client key made "
                    f"{len(unkeyed)}, orders two keys made {len(twice_keyed)}, households with two live orders "
                    f"{len(two_live)}, households with more orders than keys {len(more_than_asked)}"))
    results.append(("idempotency records", not missing_records,
                    f"{len(missing_records)} keys with a 2xx answer but no record"))

    # Phantom: an order made under a key its client was refused with a 4xx.
    phantom = [u.key for h, u, sk in order_of_key.values() if u.outcome.startswith("refused")]
    orphans = [u.key for h, u, sk in order_of_key.values() if u.outcome.startswith("gave_up")]
    results.append(("phantom", not phantom, f"{len(phantom)} orders in the table under a key its client was refused"))

    # Pickup codes: unique in the round, and each code's claim names its order.
    codes = Counter(o["pickup_code"] for o in orders)
    repeated = [c for c, n in codes.items() if n > 1]
    claims = {c["PK"].rsplit("#", 1)[1]: c["order_id"] for c in table["codes"]}
    wrong_claim = [o["order_id"] for o in orders if claims.get(o["pickup_code"]) != o["order_id"]]
    results.append(("pickup codes unique", not repeated and not wrong_claim,
                    f"{len(codes)} codes for {len(orders)} orders; repeated {len(repeated)}; "
                    f"claims not naming their order {len(wrong_claim)}"))

    # What each client last saw of its orders is what the table holds.
    known = [(oid, st) for h in households for oid, st in h.last_status.items() if st is not None]
    differ = [(oid, st, by_id[oid]["status"]) for oid, st in known if oid in by_id and by_id[oid]["status"] != st]
    results.append(("statuses agree", not differ, f"{len(differ)} of {len(known)} orders differ from what their "
                    "client last saw" + (f": {differ[:3]}" if differ else "")))

    # Household quotas: each household's count per bundle = its live units of that bundle.
    bad_quota = 0
    for h in households:
        for bundle_id in bundles.values():
            quota = table["quotas"].get((f"HOUSEHOLD#{h.household_id}", f"QUOTA#{round_id}#{bundle_id}"), {})
            units = sum(_units(o, bundle_id) for o in live if o["household_id"] == h.household_id)
            if int(quota.get("qty") or 0) != units:
                bad_quota += 1
    results.append(("household quotas = live units", bad_quota == 0,
                    f"{bad_quota} (household, bundle) quotas differ"))
    results.append(("orphans (client gave up before hearing; informational)", True,
                    f"{len(orphans)} orders"))
    return results


# --- the report --------------------------------------------------------------------------------------

def _latency_rows(rec: Recorder) -> list[str]:
    rows = [f"  {'request (answered attempts)':<34}{'n':>6}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}   (ms)"]
    for kind in ("order", "claim", "cancel"):
        times = [a.seconds for a in rec.attempts if a.kind == kind and isinstance(a.status, int)]
        if times:
            rows.append(f"  {'POST ' + {'order': '/api/orders', 'claim': '/api/orders/{id}/payment-claim', 'cancel': '/api/orders/{id}/cancel'}[kind]:<34}"
                        f"{len(times):>6}{1000 * statistics.median(times):>8.0f}{1000 * _percentile(times, 95):>8.0f}"
                        f"{1000 * _percentile(times, 99):>8.0f}{1000 * max(times):>8.0f}")
    for kind, label in (("order", "order: first try to last answer"), ("claim", "claim: first try to last answer")):
        times = rec.outcome_seconds.get(kind) or []
        if times:
            rows.append(f"  {label:<34}{len(times):>6}{1000 * statistics.median(times):>8.0f}"
                        f"{1000 * _percentile(times, 95):>8.0f}{1000 * _percentile(times, 99):>8.0f}"
                        f"{1000 * max(times):>8.0f}")
    return rows


def _answers(rec: Recorder, kind: str) -> str:
    counts = Counter((a.status, a.code) for a in rec.attempts if a.kind == kind)
    order = sorted(counts, key=lambda sc: (str(sc[0]), sc[1]))
    return ", ".join(f"{s}{' ' + c if c else ''}: {counts[(s, c)]}" for s, c in order) or "none"


def summarise(households: list, surge: Surge, rec: Recorder, elapsed: float, started: float) -> dict:
    uses = [u for h in households for u in h.keys]
    outcomes = Counter(u.outcome.split(":")[0] if not u.outcome.startswith("refused") else
                       "refused " + u.outcome.split(":", 2)[2] for u in uses)
    surge_attempts = [a for a in rec.attempts if a.kind != "register" and a.ended >= started]
    statuses = Counter(a.status for a in surge_attempts)
    return {
        "keys": len(uses), "outcomes": dict(outcomes),
        "placed": outcomes.get("placed", 0),
        "households_with_order": sum(1 for h in households if any(u.outcome == "placed" for u in h.keys)),
        "sold_out": sum(n for o, n in outcomes.items() if o.startswith("refused sold_out")),
        "requests": len(surge_attempts), "seconds": elapsed,
        "status_429": statuses.get(429, 0), "status_5xx": sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500),
        "status_500": statuses.get(500, 0), "timeouts": statuses.get("timeout", 0),
        "connection_errors": statuses.get("connection", 0),
        "events": dict(rec.events),
    }


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(settings: Settings, json_path: str | None = None) -> int:
    t0 = time.perf_counter()
    rec = Recorder()
    print(f"Baogong surge load (make load), {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", flush=True)
    print(f"machine: nproc {os.cpu_count()}, Python {platform.python_version()}, {platform.platform()}; "
          f"load average {_load()}")
    print(f"settings: {settings.describe()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="baogong-load-") as state:
        stack, env_used = start_stack(Path(state), settings.env)
        try:
            info = stack.info
            base = info["base_url"]
            print(f"stack: make dev at {base}, moto at {info['moto_url']} (fresh, in {state}); up in "
                  f"{time.perf_counter() - t0:.1f} s\n  env: {env_used}", flush=True)
            for line in stack.output().splitlines():
                if line.startswith("Rate limits"):
                    print(f"  make dev says: {line}", flush=True)
            code = _run_on(stack, info, settings, rec, json_path)
            tracebacks = stack.output().count("Traceback")
            print(f"make dev log: {tracebacks} tracebacks")
        finally:
            stack.stop()
    print(f"total wall time {time.perf_counter() - t0:.0f} s; load average now {_load()}", flush=True)
    return code


def _run_on(stack, info: dict, settings: Settings, rec: Recorder, json_path: str | None) -> int:
    base = info["base_url"]
    households = [Household(i, flat_of(i), f"136{i:08d}") for i in range(settings.households)]
    t = time.perf_counter()
    round_ = create_round(base, info, settings)
    with Ticker("setup", lambda: f"{sum(1 for h in households if h.token)} households registered"):
        register(base, info["join_key"], households, settings, rec)
    setup = time.perf_counter() - t
    reg = [a.seconds for a in rec.attempts if a.kind == "register" and a.status == 201]
    print(f"\nsetup: round {round_['round_id']} with {len(round_['bundles'])} bundles; {len(households)} households "
          f"registered in {setup:.1f} s ({len(households) / setup:.0f}/s, {settings.register_workers} at once; "
          f"p50 {1000 * statistics.median(reg):.0f} ms, max {1000 * max(reg):.0f} ms; answers: {_answers(rec, 'register')})",
          flush=True)

    surge = Surge(base, round_, settings, rec)
    started_mono = time.monotonic()
    t = time.perf_counter()
    done, before = [], len(rec.attempts)

    def resident(h):
        surge.resident(h)
        done.append(h.index)

    with Ticker("surge", lambda: f"{len(done)} residents done, {len(rec.attempts) - before} requests sent"), \
            ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        list(pool.map(resident, households))
    elapsed = time.perf_counter() - t
    summary = summarise(households, surge, rec, elapsed, started_mono)
    print(f"\nsurge: {len(households)} residents, {settings.concurrency} in flight: {elapsed:.1f} s, "
          f"{summary['requests']} requests = {summary['requests'] / elapsed:.0f} requests/s")
    print(f"  order keys used {summary['keys']}: placed {summary['placed']}, sold out {summary['sold_out']}, "
          f"outcomes {summary['outcomes']}")
    print(f"  households that got an order {summary['households_with_order']} of {len(households)}")
    names = {"A": surge.bundle_a, **({"B": surge.bundle_b} if surge.bundle_b else {})}
    for name, bundle_id in names.items():
        if bundle_id in surge.first_sold_out:
            print(f"  bundle {name}: first sold out after {surge.first_sold_out[bundle_id] - started_mono:.1f} s; "
                  f"orders with it placed after that (units given back by cancels, sold again): "
                  f"{surge.placed_after_sold_out[bundle_id]}")
    print(f"  order POST answers: {_answers(rec, 'order')}")
    print(f"  claim answers: {_answers(rec, 'claim')}")
    print(f"  cancel answers: {_answers(rec, 'cancel')}")
    print(f"  429 {summary['status_429']}, 5xx {summary['status_5xx']} (500: {summary['status_500']}), "
          f"client timeouts {summary['timeouts']}, connection errors {summary['connection_errors']}")
    for name, n in sorted(summary["events"].items()):
        print(f"  {name}: {n}")
    print("\nlatency")
    print("\n".join(_latency_rows(rec)), flush=True)

    # The stack's table: scripts/devstack.prepare_aws sets BAOGONG_STAGE=local (api/config.py names it).
    table_name = settings.env.get("BAOGONG_TABLE", "baogong-local")
    table = read_table(info["moto_url"], table_name, round_["round_id"], households)
    results = check(table, households, names, round_["round_id"])
    results.append(("no 500 answers", summary["status_500"] == 0, f"{summary['status_500']}"))
    live = [o for o in table["orders"] if o["status"] not in LIVE_EXCLUDED]
    print(f"\ntable check (Query PK=ROUND#{round_['round_id']} on the stack's moto: {len(table['orders'])} orders, "
          f"{len(live)} live; BatchGetItem of {sum(len(h.keys) for h in households)} idempotency records, "
          f"the pickup-code claims and {len(households) * len(names)} household quotas)")
    statuses = Counter(o["status"] for o in table["orders"])
    print(f"  orders by status: {dict(sorted(statuses.items()))}")
    for name, bundle_id in names.items():
        ever = sum(_units(o, bundle_id) for o in table["orders"])
        now_live = sum(_units(o, bundle_id) for o in live)
        print(f"  bundle {name}: stock {int(table['bundles'][bundle_id]['stock_total'])}, units in live orders "
              f"{now_live}, in cancelled/expired ones {ever - now_live}, stock_left "
              f"{int(table['bundles'][bundle_id]['stock_left'])}")
    failed = 0
    for name, passed, detail in results:
        failed += not passed
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}")
    print(f"\n{'ALL INVARIANTS PASS' if not failed else f'{failed} INVARIANT(S) FAILED'}", flush=True)
    if json_path:
        Path(json_path).write_text(json.dumps({
            "summary": summary, "setup_seconds": setup,
            "invariants": [{"name": n, "passed": p, "detail": d} for n, p, d in results],
            "table": {"orders": len(table["orders"]), "live": len(live), "by_status": dict(statuses)},
            "placed_after_sold_out": {n: surge.placed_after_sold_out[b] for n, b in names.items()},
        }, ensure_ascii=False, indent=2))
    return 1 if failed else 0


def parse(argv=None) -> tuple[Settings, str | None]:
    d = Settings()
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--households", type=int, default=int(os.environ.get("LOAD_HOUSEHOLDS", d.households)))
    p.add_argument("--stock", type=int, default=int(os.environ.get("LOAD_STOCK", d.stock)))
    p.add_argument("--stock-b", type=int, default=int(os.environ.get("LOAD_STOCK_B", d.stock_b)))
    p.add_argument("--concurrency", type=int, default=int(os.environ.get("LOAD_CONCURRENCY", d.concurrency)))
    p.add_argument("--seed", type=int, default=int(os.environ.get("LOAD_SEED", d.seed)))
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="an environment variable for the stack (when DevStack takes env); the per-IP limits are "
                        f"lifted by default ({LIFT_PER_IP}), e.g. --env BAOGONG_LIMIT_IP_WRITES=1200/60 puts one back")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any other setting of the Settings class, e.g. p_cancel=0.5 or timeout=60")
    p.add_argument("--json", help="also write the summary and invariants to this file")
    a = p.parse_args(argv)
    env = {**LIFT_PER_IP, **dict(item.split("=", 1) for item in a.env)}
    settings = Settings(households=a.households, stock=a.stock, stock_b=a.stock_b, concurrency=a.concurrency,
                        seed=a.seed, env=env)
    for item in a.set:
        name, value = item.split("=", 1)
        if name not in Settings.__dataclass_fields__ or name == "env":
            p.error(f"no setting {name}")
        setattr(settings, name, type(getattr(settings, name))(value))
    return settings, a.json


def main(argv=None) -> int:
    settings, json_path = parse(argv)
    return run(settings, json_path)


if __name__ == "__main__":
    sys.exit(main())
