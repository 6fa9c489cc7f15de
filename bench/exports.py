"""`make bench-exports`: how long a round's exports take, and how much memory, at 1,000 and 10,000 orders.

Printed, never asserted: a missed target is reported, not failed. The exit status is non-zero only
if an export crashed (a case's process died, or its job ended other than `done`).

Each round serves 20 communities of one sub-district for one supplier. The households live in
low-rise blocks without units and towers with 2–3 units over up to 33 floors; every order is paid
and has 1–3 bundle lines. One process per size (moto is in memory, per process):

1. seeds the round under `moto.mock_aws`: sub-district, communities, supplier and round through the
   domain modules, then the Order items directly with `Order.batch_write()` under the order path's
   keys (placing 10,000 orders through the API would take too long). Never inside a timing;
2. forks one process per case (kind, format, and for the labels PDF the layout) for the job end to
   end: `export_jobs.create` for the supplier with BAOGONG_EXPORT_RUNNER=inline, which counts,
   queries, writes the file, puts it into the exports bucket and marks the job done; the job must
   then read `done` with every order written, and the S3 object is measured. These are forked
   before step 3, since a job never holds a list of the orders;
3. reads the orders once, `list(exports.orders(selection))`: every kind selects the same orders
   (the whole round, paid). That process is the baseline: set up and read the orders, no export;
4. forks one process per case for the export alone: `exports.write(selection, orders, temp file)`
   from the inherited list.
Each process's peak RSS (`ru_maxrss`) is its own and counts up from what it inherits; an idle child
forked at each point gives the baseline its "+" is counted from.

Times are wall seconds and, beside them, the process's CPU seconds (other load on this machine
stretches the first, hardly the second). moto is not DynamoDB and holds the whole table in this
process: these figures compare versions of this code on one machine; they do not predict a
Lambda's latency or memory. See docs/benchmarks.md.

BENCH_EXPORT_SIZES (default "1000,10000") and BENCH_EXPORT_CASES (e.g. "labels/pdf/a4-3x7,packing/xlsx")
narrow a run.
"""
import json
import os
import platform
import subprocess
import sys
import time

SIZES = [int(s) for s in os.environ.get("BENCH_EXPORT_SIZES", "1000,10000").split(",") if s.strip()]
COMMUNITIES = 20
CASES = [("picklist", "csv", "a4-3x7"), ("picklist", "xlsx", "a4-3x7"),
         ("packing", "csv", "a4-3x7"), ("packing", "xlsx", "a4-3x7"),
         ("boxes", "csv", "a4-3x7"), ("boxes", "xlsx", "a4-3x7"),
         ("labels", "csv", "a4-3x7"), ("labels", "xlsx", "a4-3x7"),
         ("labels", "pdf", "a4-3x7"), ("labels", "pdf", "roll-60x40")]
if os.environ.get("BENCH_EXPORT_CASES"):
    wanted = {tuple(c.split("/")) for c in os.environ["BENCH_EXPORT_CASES"].split(",")}
    CASES = [c for c in CASES if c in wanted or c[:2] in wanted]
RATIO_TARGET = 12.0
MEMORY_TARGET_MB = 512
MARK = "BENCH-RESULT "

COMMUNITY_NAMES = [
    "幸福家园", "锦绣华城", "阳光花园", "御景湾", "书香门第", "滨江一号", "翠苑新村", "金色港湾", "东风小区", "建设新村",
    "紫荆苑", "丽水蓝湾", "桂花园", "康居小区", "长虹花园", "汉江明珠", "新华里", "人民路小区", "铁路新村", "檀溪湖畔",
]
BUNDLES = [
    {"name": "米面油套餐", "price_fen": 12800,
     "items": [{"name": "大米", "qty": "5", "unit": "kg"}, {"name": "面粉", "qty": "2.5", "unit": "kg"},
               {"name": "花生油", "qty": "1.8", "unit": "L"}]},
    {"name": "蔬菜套餐（大份）", "price_fen": 6800,
     "items": [{"name": "白菜", "qty": "1", "unit": "颗"}, {"name": "土豆", "qty": "2", "unit": "kg"},
               {"name": "西红柿", "qty": "1", "unit": "kg"}, {"name": "胡萝卜", "qty": "1", "unit": "kg"}]},
    {"name": "蔬菜套餐（小份）", "price_fen": 3800,
     "items": [{"name": "青菜", "qty": "1", "unit": "kg"}, {"name": "土豆", "qty": "1", "unit": "kg"}]},
    {"name": "肉蛋奶套餐", "price_fen": 15800,
     "items": [{"name": "猪肉", "qty": "1", "unit": "kg"}, {"name": "鸡蛋", "qty": "30", "unit": "枚"},
               {"name": "纯牛奶", "qty": "12", "unit": "盒"}]},
    {"name": "鸡蛋 30 枚", "price_fen": 2600, "items": [{"name": "鸡蛋", "qty": "30", "unit": "枚"}]},
    {"name": "水果套餐", "price_fen": 5900,
     "items": [{"name": "苹果", "qty": "2", "unit": "kg"}, {"name": "香蕉", "qty": "1.5", "unit": "kg"}]},
]


# --- seeding and measuring, in the process of one size -------------------------------

def _environment() -> None:
    """As tests/conftest.py: moto credentials, a table and bucket of our own, exports run inline."""
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": "bench", "BAOGONG_TABLE": "baogong-bench",
        "BAOGONG_PUBLIC_URL": "http://baogong.bench", "BAOGONG_EXPORT_RUNNER": "inline",
    })
    for name in ("BAOGONG_AWS_ENDPOINT", "BAOGONG_EXPORTS_BUCKET", "BAOGONG_TOKEN_SECRET_PARAM", "AWS_PROFILE"):
        os.environ.pop(name, None)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _buildings(rng, households: int) -> list[dict]:
    """A compound as they come: a few low-rise blocks without units, then towers with 2–3 units
    (more towers if it must hold more households than that)."""
    low, towers = rng.randint(3, 6), rng.randint(4, 9)
    out = []
    for n in range(1, low + towers + 1):
        if n <= low:
            out.append({"name": f"{n}栋", "units": [], "floors": rng.randint(5, 7), "per_floor": rng.randint(2, 4)})
        else:
            out.append(_tower(rng, n))
    while len(_flats(out)) < households:
        out.append(_tower(rng, len(out) + 1))
    return out


def _tower(rng, n: int) -> dict:
    return {"name": f"{n}栋", "units": [f"{u}单元" for u in range(1, rng.randint(2, 3) + 1)],
            "floors": rng.randint(11, 33), "per_floor": rng.randint(2, 4)}


def _flats(layout: list[dict]) -> list[tuple[str, str, str]]:
    flats = []
    for b in layout:
        for unit in b["units"] or [""]:
            for floor in range(1, b["floors"] + 1):
                for r in range(1, b["per_floor"] + 1):
                    flats.append((b["name"], unit, f"{floor}{r:02d}"))
    return flats


def seed(size: int) -> dict:
    """A round of `size` paid orders over 20 communities; returns the ids and the supplier's principal."""
    import random
    from datetime import timedelta

    from api import auth, bootstrap, clock, communities, ids, rounds, suppliers
    from api.models import Order, OrderLine

    rng = random.Random(20220415 + size)
    sub_district = bootstrap.create_sub_district("樊城区示范街道")
    sid = sub_district.sub_district_id
    layouts, found = [], []
    per_community = [size // COMMUNITIES + (1 if c < size % COMMUNITIES else 0) for c in range(COMMUNITIES)]
    for name, households in zip(COMMUNITY_NAMES, per_community):
        layout = _buildings(rng, households)
        layouts.append(layout)
        buildings = [{"name": b["name"], "units": b["units"]} for b in layout]
        found.append(communities.create(sid, name if name.endswith("小区") else f"{name}小区", buildings,
                                        {"name": "北门配送点", "note": "北门岗亭旁"}))
    supplier = suppliers.create(sid, "大润发樊城店", "07103200000")
    token = bootstrap.create_staff("supplier", supplier.supplier_id)
    principal = auth.from_headers({"authorization": f"Bearer {token}"})
    now = clock.now()
    created = rounds.create(principal, {
        "name": f"第3期 保供团购 {size}户", "community_ids": [c.community_id for c in found], "supplier_id": None,
        "opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=1),
        "payment_deadline": now + timedelta(days=1, hours=6), "payment_qr": "wxp://f2f0-bench-supplier",
        "bundles": [{**b, "stock": 100 * size, "per_household_limit": 3} for b in BUNDLES],
    })
    rnd, bundles = rounds.load(created["round_id"])

    codes = rng.sample(range(1_000_000), size)
    with Order.batch_write() as batch:
        for community, layout, households in zip(found, layouts, per_community):
            flats = rng.sample(_flats(layout), households)
            for building, unit, room in flats:
                order_id, household_id = ids.new_id(), ids.new_id()
                chosen = rng.sample(bundles, rng.choice((1, 1, 2, 2, 2, 3)))
                lines = [OrderLine(bundle_id=b.bundle_id, name=b.name, qty=rng.choice((1, 1, 1, 2)),
                                   price_fen=int(b.price_fen)) for b in chosen]
                placed = now - timedelta(minutes=rng.randint(1, 1400))
                key = communities.flat_key(community, building, unit, room)
                batch.save(Order(
                    rnd.pk, f"ORDER#{community.community_id}#{key}#{order_id}",
                    gsi1pk=f"HOUSEHOLD#{household_id}", gsi1sk=f"ORDER#{order_id}",
                    order_id=order_id, round_id=rnd.round_id, round_name=rnd.name,
                    payment_deadline=rnd.payment_deadline, payment_qr=rnd.payment_qr,
                    community_id=community.community_id, household_id=household_id,
                    building=building, unit=unit, room=room,
                    phone="1" + rng.choice(("38", "39", "37", "58", "86", "35")) + f"{rng.randrange(10 ** 8):08d}",
                    lines=lines, total_fen=sum(int(line.price_fen) * int(line.qty) for line in lines),
                    status="paid", pickup_code=f"{codes.pop():06d}", created_at=placed,
                    claimed_at=placed + timedelta(minutes=5), confirmed_at=placed + timedelta(minutes=30),
                    payment_reference=f"{rng.randrange(10 ** 4):04d}", holds_fair_share=True))
    return {"round_id": rnd.round_id, "principal": principal}


def _rss_now_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _in_child(measure) -> dict:
    """Run `measure()` in a forked child, so its peak RSS is its own: the child starts from this
    process's resident pages (the seeded table, the orders list) and ru_maxrss counts from there."""
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        status = 0
        try:
            result = measure()
        except BaseException:  # noqa: BLE001 - reported, and the driver exits non-zero
            import traceback

            result, status = {"error": traceback.format_exc()}, 1
        result["peak_mb"] = _peak_mb()
        status = status or (1 if result.get("error") else 0)
        with os.fdopen(write_end, "w") as out:
            out.write(json.dumps(result))
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    result = json.loads(text) if text else {}
    if status != 0 and not result.get("error"):
        result["error"] = f"the case's process ended with wait status {status} (killed? out of memory?)"
    return result


def size_worker(size: int, cases: list[tuple[str, str, str]]) -> None:
    """Seed one round of `size` orders under moto, read its orders once, then measure every case
    in forked processes of its own. Prints one result line per case on stdout."""
    _environment()
    import gc
    import secrets
    import tempfile

    from moto import mock_aws

    with mock_aws():
        import botocore.session

        from api import config
        session = botocore.session.get_session()
        session.create_client("ssm", region_name=config.REGION).put_parameter(
            Name=config.TOKEN_SECRET_PARAM, Value=secrets.token_hex(32), Type="SecureString")
        s3 = session.create_client("s3", region_name=config.REGION)
        s3.create_bucket(Bucket=config.EXPORTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": config.REGION})
        from api import export_jobs, exports, models, rounds
        models.create_table()
        rss_start = _rss_now_mb()

        started = time.perf_counter()
        seeded = seed(size)
        seed_s = time.perf_counter() - started
        round_id, principal = seeded["round_id"], seeded["principal"]
        gc.collect()
        rss_seeded = _rss_now_mb()

        rnd, bundles = rounds.load(round_id)
        # The writers' libraries are loaded here, once, so no case times or counts their import.
        import xlsxwriter  # noqa: F401

        from api import labels  # noqa: F401
        gc.collect()

        def end_to_end(kind: str, fmt: str, layout: str) -> dict:
            """The background job, inline: count, Query, write to a temp file, S3 put, job done."""
            started, cpu = time.perf_counter(), time.process_time()
            job = export_jobs.create(principal, round_id, kind, {"format": fmt, "layout": layout, "status": "paid",
                                                                 "community_id": None, "building": None})
            result = {"e2e_s": time.perf_counter() - started, "e2e_cpu": time.process_time() - cpu}
            job = export_jobs.view(principal, job["job_id"])  # create answers with the job as it was queued
            result["state"], result["job_done"] = job["state"], job["done"]
            if job["state"] != "done":
                result["error"] = f"the job ended {job['state']}: {job['error']}"
            elif job["done"] != size:
                result["error"] = f"the job wrote {job['done']} of {size} orders"
            else:
                stored = models.ExportJob.get(f"EXPORTJOB#{job['job_id']}", "EXPORTJOB", consistent_read=True)
                result["s3_bytes"] = s3.head_object(Bucket=config.EXPORTS_BUCKET, Key=stored.s3_key)["ContentLength"]
            return result

        def export_alone(kind: str, fmt: str, layout: str) -> dict:
            """`exports.write` from the inherited list into a temporary file: no store at all."""
            selection = exports.selection_of(rnd, bundles, kind, fmt, layout=layout, status="paid",
                                             community_id=None, building=None)
            with tempfile.TemporaryFile() as out:
                started, cpu = time.perf_counter(), time.process_time()
                written = exports.write(selection, orders, out)
                result = {"export_s": time.perf_counter() - started, "export_cpu": time.process_time() - cpu,
                          "file_bytes": out.tell()}
            if written != size:
                result["error"] = f"the export wrote {written} of {size} orders"
            return result

        # End to end first, forked before the orders are listed: the job never holds that list, so
        # its peak must not include it.
        seeded_peak = _in_child(lambda: {}).get("peak_mb")  # the end-to-end runs' baseline
        e2e_of = {}
        for kind, fmt, layout in cases:
            print(f"[{size:,}] {kind} {_label({'format': fmt, 'layout': layout})} end to end ...", file=sys.stderr,
                  flush=True)
            e2e_of[(kind, fmt, layout)] = _in_child(lambda: end_to_end(kind, fmt, layout))

        # The export alone reads from a list: every kind selects the same orders (the whole round,
        # paid), so they are read once here and every export-alone process inherits them.
        listing = exports.selection_of(rnd, bundles, "packing", "csv", layout="a4-3x7", status="paid",
                                       community_id=None, building=None)
        started, cpu = time.perf_counter(), time.process_time()
        orders = list(exports.orders(listing))
        query_s, query_cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.collect()
        base = {"size": size, "kind": "baseline", "format": "-", "layout": "-", "seed_s": seed_s, "query_s": query_s,
                "query_cpu": query_cpu, "orders": len(orders), "rss_start_mb": rss_start, "rss_seeded_mb": rss_seeded,
                "rss_listed_mb": _rss_now_mb(), "seeded_peak_mb": seeded_peak}
        # "a process that only set up and read the orders": a child that does nothing else.
        base.update(_in_child(lambda: {}))
        print(MARK + json.dumps(base), flush=True)

        for kind, fmt, layout in cases:
            print(f"[{size:,}] {kind} {_label({'format': fmt, 'layout': layout})} alone ...", file=sys.stderr, flush=True)
            e2e = dict(e2e_of[(kind, fmt, layout)])
            alone = _in_child(lambda: export_alone(kind, fmt, layout))
            errors = [e for e in (e2e.pop("error", None), alone.pop("error", None)) if e]
            peaks = {"e2e_peak_mb": e2e.pop("peak_mb", None), "export_peak_mb": alone.pop("peak_mb", None)}
            result = {"size": size, "kind": kind, "format": fmt, "layout": layout, **e2e, **alone, **peaks}
            if errors:
                result["error"] = "\n".join(errors)
            print(f"    e2e {_s(result.get('e2e_s'))} s (peak {_mb(result.get('e2e_peak_mb'))} MB), "
                  f"export alone {_s(result.get('export_s'))} s (peak {_mb(result.get('export_peak_mb'))} MB)"
                  + ("  ERROR" if errors else ""), file=sys.stderr, flush=True)
            print(MARK + json.dumps(result), flush=True)


# --- the driver: one process per size, then the tables ---------------------------------

def _run_size(size: int) -> tuple[dict, list[dict], float]:
    """The size's process: its baseline and its cases, in the order they ran (progress goes to stderr)."""
    command = [sys.executable, "-m", "bench.exports", "--size", str(size)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    found = [json.loads(line[len(MARK):]) for line in process.stdout if line.startswith(MARK)]
    process.wait()
    wall = time.perf_counter() - started
    baseline = next((r for r in found if r["kind"] == "baseline"), None)
    if baseline is None:
        baseline = {"size": size, "kind": "baseline", "format": "-", "layout": "-",
                    "error": f"the seeding process exited {process.returncode} before its baseline"}
    cases = [r for r in found if r["kind"] != "baseline"]
    ran = {(r["kind"], r["format"], r["layout"]) for r in cases}
    cases += [{"size": size, "kind": k, "format": f, "layout": lo,
               "error": f"never ran: the seeding process exited {process.returncode}"}
              for k, f, lo in CASES if (k, f, lo) not in ran]
    return baseline, cases, wall


def _mb(n: float | None) -> str:
    return "—" if n is None else f"{n:.0f}"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def _s(n: float | None) -> str:
    return "—" if n is None else f"{n:.2f}"


def _label(r: dict) -> str:
    return f"{r['format']} {r['layout']}" if r["format"] == "pdf" else r["format"]


def _commit() -> str:
    """The commit measured, and whether api/ differs from it."""
    try:
        head = subprocess.run(["git", "log", "-1", "--format=%h %s"], capture_output=True, text=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "api"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown (no git)"
    return f"{head[:90]}" + (" (api/ has uncommitted changes)" if changed.strip() else "")


def main() -> int:
    begun = time.perf_counter()
    print("Baogong export benchmark: moto in-process, BAOGONG_EXPORT_RUNNER=inline, "
          + time.strftime("%Y-%m-%d %H:%M %Z"))
    print(f"code: {_commit()}")
    print(f"machine: nproc {len(os.sched_getaffinity(0))}, Python {sys.version.split()[0]}, {platform.platform()}, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    print(f"rounds: {', '.join(f'{s:,}' for s in SIZES)} paid orders over {COMMUNITIES} communities of one "
          "sub-district, one supplier; one process per size, two forked per case\n", flush=True)

    baselines, results, walls = {}, [], {}
    for size in SIZES:
        baselines[size], cases, walls[size] = _run_size(size)
        results += cases

    print("baseline, per size: one process seeds the round (in no timing); the end-to-end runs are forked from it")
    print("then; it reads its orders into a list with exports.orders (query s), and the export-alone runs are forked")
    print("from it after that. RSS: after the imports (moto, api), after seeding; seeded MB and baseline MB: the")
    print("peak of an idle child forked at those two points (what each + below is counted from)")
    print(f"  {'size':>6}  {'seed s':>7}  {'query s':>8}  {'(cpu)':>7}  {'RSS imports':>11}  {'RSS seeded':>10}"
          f"  {'seeded MB':>9}  {'baseline MB':>11}  {'process s':>9}")
    for size, b in baselines.items():
        print(f"  {size:>6}  {_s(b.get('seed_s')):>7}  {_s(b.get('query_s')):>8}  {_s(b.get('query_cpu')):>7}"
              f"  {_mb(b.get('rss_start_mb')):>11}  {_mb(b.get('rss_seeded_mb')):>10}  {_mb(b.get('seeded_peak_mb')):>9}"
              f"  {_mb(b.get('peak_mb')):>11}"
              f"  {walls[size]:>9.0f}" + (f"  ERROR {b['error']}" if b.get("error") else ""))

    print("\ne2e s: export_jobs.create → count, Query (moto), write to a temp file, S3 put (moto), job done"
          "\nexport s: exports.write(selection, orders, temp file) alone, from the orders already in a list"
          "\n(cpu): the same span in CPU seconds of its process, which other load on the machine hardly stretches"
          "\npeak MB: ru_maxrss of the process that ran it, each its own: end to end forked after seeding (moto's"
          "\n  table included), the export alone forked from the baseline (the orders list too); +: the peak over"
          "\n  the peak of an idle child forked at the same point (seeded MB, baseline MB), the run's own share."
          "\nfile: the object in S3 (the temp file of the export alone is the same size, to a few bytes)")
    header = (f"  {'size':>6}  {'kind':<8}  {'format':<17}  {'e2e s':>7}  {'(cpu)':>7}  {'peak MB':>7}  {'+':>4}"
              f"  {'export s':>8}  {'(cpu)':>7}  {'peak MB':>7}  {'+':>4}  {'file':>9}")
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        base = baselines.get(r["size"], {}).get("peak_mb")
        seeded = baselines.get(r["size"], {}).get("seeded_peak_mb")

        def over(peak, below):
            return _mb(peak - below) if peak is not None and below is not None else "—"
        print(f"  {r['size']:>6}  {r['kind']:<8}  {_label(r):<17}  {_s(r.get('e2e_s')):>7}  {_s(r.get('e2e_cpu')):>7}"
              f"  {_mb(r.get('e2e_peak_mb')):>7}  {over(r.get('e2e_peak_mb'), seeded):>4}"
              f"  {_s(r.get('export_s')):>8}  {_s(r.get('export_cpu')):>7}"
              f"  {_mb(r.get('export_peak_mb')):>7}  {over(r.get('export_peak_mb'), base):>4}  {_size(r.get('s3_bytes')):>9}"
              + ("  ERROR" if r.get("error") else ""))

    failed = [r for r in [*baselines.values(), *results] if r.get("error")]
    if len(SIZES) >= 2:
        small, large = min(SIZES), max(SIZES)
        by = {(r["size"], r["kind"], r["format"], r["layout"]): r for r in results}
        print(f"\ntargets, {large:,} against {small:,} (printed, never asserted)")
        print(f"  time at {large:,} ÷ time at {small:,}, target ≤ {RATIO_TARGET:g}× (! marks a miss)")
        print(f"  {'kind':<8}  {'format':<17}  {'e2e':>7}  {'(cpu)':>7}  {'export':>7}  {'(cpu)':>7}")
        for kind, fmt, layout in CASES:
            a, b = by.get((small, kind, fmt, layout), {}), by.get((large, kind, fmt, layout), {})
            cells = []
            for key in ("e2e_s", "e2e_cpu", "export_s", "export_cpu"):
                if a.get(key) and b.get(key) is not None:
                    ratio = b[key] / a[key]
                    cells.append(f"{ratio:.1f}×" + (" " if ratio <= RATIO_TARGET else "!"))
                else:
                    cells.append("— ")
            print(f"  {kind:<8}  {_label({'format': fmt, 'layout': layout}):<17}  "
                  + "  ".join(f"{c:>7}" for c in cells))
        for key, what, below in (("e2e_peak_mb", "end to end", "seeded_peak_mb"),
                                 ("export_peak_mb", "export alone", "peak_mb")):
            base = baselines.get(large, {}).get(below)
            peaks = [r for r in results if r["size"] == large and r.get(key) is not None]
            if peaks:
                worst = max(peaks, key=lambda r: r[key])
                verdict = "met" if worst[key] < MEMORY_TARGET_MB else "MISSED"
                share = f"; {worst[key] - base:.0f} MB over the baseline's {base:.0f} MB" if base else ""
                print(f"  peak memory at {large:,}, {what}: {worst[key]:.0f} MB ({worst['kind']} {_label(worst)}{share}),"
                      f" target < {MEMORY_TARGET_MB} MB: {verdict}")
        for layout in ("a4-3x7", "roll-60x40"):
            r = by.get((large, "labels", "pdf", layout))
            if r is not None:
                built = r.get("state") == "done" and not r.get("error")
                print(f"  labels PDF {layout} at {large:,} built: {'yes' if built else 'no'}"
                      + (f", {_size(r.get('s3_bytes'))}, {_s(r.get('e2e_s'))} s end to end" if built else ""))
    print(f"\ntotal run time {time.perf_counter() - begun:.0f} s, load average at the end {os.getloadavg()[0]:.2f}")
    for r in failed:
        print(f"\nFAILED {r['size']} {r['kind']} {r['format']} {r['layout']}: {r['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--size":
        size_worker(int(sys.argv[2]), CASES)
        sys.exit(0)
    sys.exit(main())
