"""make lighthouse: Lighthouse over every resident and volunteer screen of a fresh `make dev` stack.

    .venv/bin/python -m scripts.lighthouse [--runs N] [--only NAME ...]

Lighthouse 12.2.3 (tools/lighthouse, installed with `npm ci` there) runs through its Node API
(tools/lighthouse/run.mjs) against /usr/bin/chromium, with its defaults: mobile emulation and
simulated throttling; categories performance and accessibility.

The state the screens need is made first, the way a person makes it: a resident registers a flat in
the PWA and orders (left unpaid, so 我的订单 shows how to pay); a second phone of the same flat
registers and waits for approval; a special household in the same building has a paid order; the
liaison plans the pickup slots, announces the building's slot (the resident's notice) and says
货已到; a volunteer signs in with the sign-in link of `make dev`. Each screen then loads cold
(no HTTP cache, no service worker) with the session of whoever opens it in localStorage.

Each screen is measured --runs times (3 by default) and its median run is kept, as Lighthouse CI does:
the machine is shared and one run is noisy. Prints a table of the median runs (screen, scores, FCP,
LCP, TBT, CLS, KB transferred), saves their JSON reports under .local/lighthouse/, and exits 1 when a
screen misses a target (performance or accessibility below 95 in its median run), or when any run does
not reach the screen it asked for (a sign-in that did not hold) or ends in a Lighthouse error.
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools" / "lighthouse"
OUT = ROOT / ".local" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
# Lighthouse's chrome flags: new headless, no sandbox (root in a container), no GPU; and the quiet
# flags of the browser tests, so Chromium fetches nothing of its own during a run.
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
TARGET = 0.95
BEIJING = timezone(timedelta(hours=8))

BUILDING = "1栋"
MEMBER = ("0501", "13900000501")        # the resident whose screens are measured
SECOND_PHONE = "13900000502"            # a later phone of the same flat: pending
SPECIAL = ("0601", "13900000601")       # a special household (door delivery), paid


class Api:
    """The stack's API with dev.json's tokens; every call checks its status."""

    def __init__(self, info: dict):
        self.info = info
        self.base = info["base_url"]

    def call(self, method: str, path: str, role: str | None = None, body=None, token: str | None = None,
             expect: tuple = (200, 201), **params) -> dict:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        token = token or (self.info["tokens"][role] if role else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        r = requests.request(method, self.base + path, json=body, params=params or None, headers=headers, timeout=30)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()


def staff_session(token: str) -> str:
    """localStorage 'baogong.staff' as frontend/js/staff.js saves it from a sign-in link."""
    part = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return json.dumps({"token": token, "role": claims["role"], "scope_id": claims["scope_id"],
                       "exp": claims.get("exp")})


def make_state(info: dict) -> dict:
    """Everything the screens show, made through the PWA (residents, volunteer) and the API (the rest)."""
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS
    from tests.e2e.flows import place_order, register, register_pending, session

    api = Api(info)
    cid, rid = info["community_id"], info["round_id"]
    rnd = next(r for r in api.call("GET", "/api/rounds", "liaison", community_id=cid)["rounds"]
               if r["round_id"] == rid)
    bundle = rnd["bundles"][0]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            def phone():
                return browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN",
                                           timezone_id="Asia/Shanghai").new_page()

            member = phone()
            register(member, info["join_url"], BUILDING, MEMBER[0], MEMBER[1])
            place_order(member, rid, bundle["name"])
            pending = phone()
            pending_session = register_pending(pending, info["join_url"], BUILDING, MEMBER[0], SECOND_PHONE)

            # A special household of the same building with a paid order: the door list has a row.
            joined = api.call("POST", f"/api/join/{info['join_key']}/households",
                              body={"building": BUILDING, "room": SPECIAL[0], "phone": SPECIAL[1]})
            placed = api.call("POST", "/api/orders", token=joined["token"],
                              body={"round_id": rid, "lines": [{"bundle_id": bundle["bundle_id"], "qty": 1}]})
            api.call("POST", f"/api/rounds/{rid}/payments/confirm", "supplier", body={"order_ids": [placed["order_id"]]})
            roster = api.call("GET", f"/api/communities/{cid}/roster", "liaison", building=BUILDING, room=SPECIAL[0])
            flat_ref = next(e["flat_ref"] for e in roster["households"] if e["room"] == SPECIAL[0])
            api.call("PUT", f"/api/communities/{cid}/households/{flat_ref}/special", "liaison",
                     body={"category": "elderly_alone", "needs": "腿脚不便，送到门口"})

            # Pickup day: the slot plan, the building's notice, 货已到.
            buildings = [b["name"] for b in api.call("GET", f"/api/join/{info['join_key']}")["buildings"]]
            start = (datetime.now(BEIJING) + timedelta(hours=1)).replace(microsecond=0)
            plan = api.call("POST", f"/api/communities/{cid}/rounds/{rid}/slots/generate", "liaison",
                            body={"start_at": start.isoformat(), "minutes_per_slot": 20, "households_per_slot": 10,
                                  "building_order": buildings})
            api.call("POST", f"/api/communities/{cid}/rounds/{rid}/slots/{plan['slots'][0]['slot_id']}/announce",
                     "liaison")
            api.call("POST", f"/api/communities/{cid}/rounds/{rid}/arrival", "liaison", body={"note": "北门，请戴口罩"})

            # The member's phone sees the notice and the request to join: its session is what a returning
            # resident has (the request count included).
            member.get_by_test_id("nav-household").click()
            expect(member.get_by_test_id("join-request")).to_have_count(1)
            member.get_by_test_id("nav-orders").click()
            expect(member.get_by_test_id("order-card")).to_have_count(1)
            member_session = session(member)

            volunteer = phone()
            volunteer.goto(f"{info['base_url']}/#/signin/{info['tokens']['volunteer']}")
            expect(volunteer.get_by_test_id("staff-role")).to_have_attribute("data-role", "volunteer")
            volunteer_session = volunteer.evaluate("localStorage.getItem('baogong.staff')")
        finally:
            browser.close()
    assert json.loads(volunteer_session) == json.loads(staff_session(info["tokens"]["volunteer"]))
    return {"member": json.dumps(member_session), "pending": json.dumps(pending_session),
            "volunteer": volunteer_session, "round_id": rid}


def screens(info: dict, state: dict) -> list[dict]:
    base = info["base_url"]
    member = {"baogong.session": state["member"]}
    pending = {"baogong.session": state["pending"]}
    volunteer = {"baogong.staff": state["volunteer"]}
    board = f"#/staff/pickup/{quote(state['round_id'], safe='')}/{quote(BUILDING, safe='')}"
    rows = [
        # name, who, hash, localStorage
        ("start", "resident", "", {}),
        ("join", "resident", f"#/join/{info['join_key']}", {}),
        ("rounds", "resident", "#/rounds", member),
        ("orders", "resident", "#/orders", member),
        ("household", "resident", "#/household", member),
        ("household-pending", "resident", "#/household", pending),
        ("staff", "volunteer", "#/staff", volunteer),
        ("pickup", "volunteer", "#/staff/pickup", volunteer),
        ("pickup-list", "volunteer", board, volunteer),
        ("pickup-door", "volunteer", f"{board}/door", volunteer),
        ("progress", "volunteer", "#/staff/progress", volunteer),
    ]
    return [{"name": name, "who": who, "hash": hash_, "url": f"{base}/{hash_}", "local_storage": storage}
            for name, who, hash_, storage in rows]


WHAT = {
    "start": "start page (no link yet)",
    "join": "join link: community + registration form",
    "rounds": "order: bundles, cart",
    "orders": "my orders: unpaid order, pay QR, notice, 货已到",
    "household": "家人: members, a request to approve",
    "household-pending": "家人 on a pending phone (waiting)",
    "staff": "staff home (volunteer)",
    "pickup": "pickup: choose round and building",
    "pickup-list": "pickup list of 1栋 (codes, scan)",
    "pickup-door": "door deliveries of 1栋",
    "progress": "pickup progress",
}


def table(summary: dict, wanted: list[dict]) -> tuple[str, list[str]]:
    hashes = {s["name"]: s for s in wanted}
    lines = ["| screen | who | performance | accessibility | FCP | LCP | TBT | CLS | transferred | performance, every run |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    misses = []
    for row in summary["screens"]:
        perf, a11y = row["performance"], row["accessibility"]
        lines.append(
            f"| {row['name']} ({WHAT.get(row['name'], '')}) | {hashes[row['name']]['who']} | {round(perf * 100)} | "
            f"{round(a11y * 100)} | {row['fcp_ms'] / 1000:.1f} s | {row['lcp_ms'] / 1000:.1f} s | "
            f"{round(row['tbt_ms'])} ms | {row['cls']:.3f} | {row['transfer_bytes'] / 1024:.0f} KB | "
            + ", ".join(str(round((r["performance"] or 0) * 100)) for r in row["runs"]) + " |")
        want = hashes[row["name"]]["hash"]
        for run in row["runs"]:
            if run["runtime_error"]:
                misses.append(f"{row['name']}: Lighthouse error: {run['runtime_error']}")
            if run["landed"] != want:
                misses.append(f"{row['name']}: asked for {want or '/'} but the app showed {run['landed'] or '/'} "
                              "(the session did not hold)")
        for category, score, losses in (("performance", perf, row["performance_losses"]),
                                        ("accessibility", a11y, row["accessibility_losses"])):
            if score is None or score < TARGET:
                lost = "; ".join(f"{x['id']} {x['display']} (score {x['score']}, weight {x['weight']})"
                                 + (f" {x['items']}" if x["items"] else "") for x in losses)
                misses.append(f"{row['name']}: {category} {round((score or 0) * 100)} < {round(TARGET * 100)}: {lost}")
    return "\n".join(lines), misses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per screen; the median is kept (default 3)")
    parser.add_argument("--only", nargs="*", help="measure only these screens")
    args = parser.parse_args(argv)

    if not (TOOLS / "node_modules" / "lighthouse").is_dir():
        print(f"Lighthouse is not installed: run `npm ci` in {TOOLS.relative_to(ROOT)} (make lighthouse does).",
              file=sys.stderr)
        return 2
    from tests.stackrunner import DevStack

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    stack = DevStack(OUT / "stack").start()
    try:
        info = stack.info
        print(f"make dev on {info['base_url']}: making the screens' state…", flush=True)
        state = make_state(info)
        wanted = [s for s in screens(info, state) if not args.only or s["name"] in args.only]
        job = {"origin": info["base_url"], "out_dir": str(OUT), "chrome_flags": CHROME_FLAGS, "runs": args.runs,
               "screens": [{k: s[k] for k in ("name", "url", "local_storage")} for s in wanted]}
        job_path = OUT / "job.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False, indent=2))
        subprocess.run(["node", str(TOOLS / "run.mjs"), str(job_path)], cwd=TOOLS, check=True, timeout=1800,
                       env={**os.environ, "CHROME_PATH": CHROMIUM})
    finally:
        stack.stop()
    job_path.unlink()  # it holds the sessions' tokens
    summary = json.loads((OUT / "summary.json").read_text())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    text, misses = table(summary, wanted)
    print()
    print(f"Lighthouse {summary['lighthouse']}, Node {node}, {summary['chromium']} ({CHROMIUM}), "
          f"mobile emulation, simulated throttling; median of {args.runs} run(s) a screen; "
          f"benchmarkIndex {summary['benchmark_index']}")
    print(text)
    print(f"\nReports: {OUT.relative_to(ROOT)}/<screen>.report.json")
    if misses:
        print(f"\nMissed (target: performance and accessibility >= {round(TARGET * 100)}):")
        for m in misses:
            print(f"  - {m}")
        return 1
    print(f"\nEvery screen: performance and accessibility >= {round(TARGET * 100)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
