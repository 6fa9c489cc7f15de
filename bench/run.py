"""`make bench`: every benchmark of the API, one after another, each in a process of its own. Printed, never asserted.

1. bench.calls      DynamoDB calls and capacity units per request, every write route, against the least possible;
2. bench.order_cost one order, pickup and notice poll item by item, in a 1- and a 200-community round;
3. bench.throughput the in-process order throughput through the API, as a ratio of the raw TransactWriteItems;
4. bench.imports    the cold import time of app.py, as a ratio of its bare dependencies';
5. bench.orders     the order path and the roster over HTTP on the local stack (`make dev`'s).

BENCH_PARTS=calls,imports runs some of them. The exit status is non-zero only if a part crashed; a missed
target is printed, not failed. The header names the machine, the date and the code's commit, and whether
the tree had uncommitted changes under api/ or app.py (they are measured too).
"""
import os
import platform
import subprocess
import sys
import time

PARTS = ["calls", "order_cost", "throughput", "imports", "orders"]


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def header() -> None:
    dirty = _git("status", "--porcelain", "--", "api", "app.py")
    print(f"make bench  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"  code: commit {_git('rev-parse', '--short', 'HEAD')} ({_git('log', '-1', '--format=%s')[:90]})")
    print(f"  uncommitted under api/ and app.py: {len(dirty.splitlines()) if dirty else 0} files"
          + (f" ({', '.join(line.split(maxsplit=1)[-1] for line in dirty.splitlines())})" if dirty else ""))
    print(f"  machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> int:
    wanted = [p.strip() for p in os.environ.get("BENCH_PARTS", ",".join(PARTS)).split(",") if p.strip()]
    header()
    failed = []
    for part in wanted:
        print(f"\n=== bench.{part} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", f"bench.{part}"]).returncode
        print(f"(bench.{part}: {time.perf_counter() - started:.0f} s, exit {code})", flush=True)
        if code:
            failed.append(part)
    print(f"\nload average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
          + (f"; CRASHED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
