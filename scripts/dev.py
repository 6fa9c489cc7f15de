"""`make dev`: start the local stack, seed the demo community, print how to use it.

Environment: PORT (default 8000), HOST (default 127.0.0.1; 0.0.0.0 to try it
from a phone on your network), BAOGONG_STATE_DIR (default .local), and the rate limits
(BAOGONG_RATE_LIMITS=off, BAOGONG_LIMIT_<NAME>=<requests>/<seconds>: api/config.py), on by default as in prod.
"""
import json
import os
import signal
import sys
import threading
from pathlib import Path

import segno

from scripts import devstack


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    state_dir = Path(os.environ.get("BAOGONG_STATE_DIR", devstack.ROOT / ".local"))
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    base_url = f"http://{shown_host}:{port}"
    os.environ["BAOGONG_PUBLIC_URL"] = base_url

    moto_server, moto_url = devstack.start_moto()
    devstack.prepare_aws(moto_url)
    from api import bootstrap
    demo = bootstrap.demo()
    server = devstack.serve(host, port)
    stop = threading.Event()
    threading.Thread(target=devstack.run_schedules, args=(stop,), daemon=True, name="schedules").start()

    join_url = f"{base_url}/#/join/{demo['join_key']}"
    dev = {"base_url": base_url, "join_key": demo["join_key"], "community_id": demo["community_id"],
           "round_id": demo["round_id"], "supplier_id": demo["supplier_id"],
           "sub_district_id": demo["sub_district_id"], "bundle_ids": demo["bundle_ids"],
           "tokens": demo["tokens"], "join_url": join_url, "moto_url": moto_url}
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "dev.json").write_text(json.dumps(dev, ensure_ascii=False, indent=2))

    print(f"保供 Baogong is running at {base_url}", flush=True)
    print("", flush=True)
    print("居民扫码加入 Resident join link (scan with a phone on this network, or open it):")
    print(f"  {join_url}")
    segno.make(join_url, error="m").terminal(compact=True)
    print("工作人员 Staff sign-in links (open one to sign in as that role):")
    for role in ("admin", "liaison", "info_officer", "volunteer", "supplier"):
        print(f"  {role:<12} {base_url}/#/signin/{demo['tokens'][role]}")
    print("", flush=True)
    print(f"Tokens and ids written to {state_dir / 'dev.json'}")
    print(f"Scheduled jobs (expiring unpaid orders) run every {devstack.SCHEDULE_SECONDS} s.")
    from api import config
    limits = ", ".join(f"{name} {count}/{seconds}s" for name, (count, seconds) in config.LIMITS.items())
    limits += f", join misses {config.JOIN_MISSES}"
    print(f"Rate limits {'on, as in prod' if config.RATE_LIMITS else 'OFF'} ({limits}); every caller is 127.0.0.1 here."
          " BAOGONG_RATE_LIMITS=off, or BAOGONG_LIMIT_<NAME>=<requests>/<seconds>, changes them (docs/api.md).")
    print("Ctrl-C to stop. Data lives in memory and is gone when you stop.", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()
    moto_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
