"""Cold import time of `app.py`, as a ratio of importing its bare dependencies in the same run.

Printed, never asserted. Each sample is a fresh interpreter (`python -c`), so nothing is cached in
memory (the OS file cache is warm after the first: one untimed round of each goes first). The time is
taken inside the child around the import statement alone, in the child's CPU seconds (on a shared
machine the wall clock mostly measures the other processes), so interpreter start-up is not in it; the
whole child's wall time, start-up included, is printed beside it:

- deps: `import chalice, jwt, marshmallow, pynamodb.models` (pynamodb.models is what the app imports of
  pynamodb, and it brings botocore, the bulk of it);
- app:  `import app` (which imports the same, then api/ and every blueprint).

Both sides are measured as the Lambda bundle ships them: compiled. The dependencies' .pyc were written by pip;
api/'s and app.py's are written here first (`compileall`), as `make package` adds them to the bundle
(infra/bytecode.py), because a shell with PYTHONDONTWRITEBYTECODE=1 never writes them, and a module without its
.pyc is compiled from source in every child (about 90 ms for api/), which is a figure of the shell, not of the app.

The samples alternate (deps, app, deps, app...) BENCH_IMPORT_REPEATS times (default 11) and the medians
are compared; the target is to stay near today's 1.2×. Then one more child under `-X importtime` lists
the modules that app's import adds beyond the dependencies' (cumulative µs, the largest first).
"""
import os
import statistics
import subprocess
import sys
import time

REPEATS = int(os.environ.get("BENCH_IMPORT_REPEATS", "11"))
DEPS = "import chalice, jwt, marshmallow, pynamodb.models"
APP = "import app"
PROBE = ("import time; t = time.process_time(); {stmt}; "
         "print(repr(time.process_time() - t))")


def _env() -> dict:
    from bench.calls import ENV
    return {**os.environ, **ENV}


def sample(stmt: str) -> tuple[float, float]:
    """(CPU seconds of the import inside the child, wall seconds of the whole child as the parent saw it)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True,
                         env=_env(), check=True, cwd=os.getcwd())
    whole = time.perf_counter() - started
    return float(out.stdout.strip().splitlines()[-1]), whole


def importtime(stmt: str) -> dict[str, int]:
    """{module: cumulative µs} from one child under -X importtime."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt], capture_output=True, text=True,
                         env=_env(), check=True, cwd=os.getcwd())
    found = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        found[name.strip()] = int(cumulative)
    return found


def compile_app() -> None:
    """api/'s and app.py's .pyc, as the bundle has them (the dependencies' are pip's)."""
    import compileall
    ok = compileall.compile_dir("api", quiet=1) and compileall.compile_file("app.py", quiet=1)
    if not ok:
        raise SystemExit("bench.imports: api/ or app.py does not compile")


def main() -> None:
    compile_app()
    sample(DEPS), sample(APP)  # warm the OS file cache and the .pyc files: untimed
    deps, app = [], []
    for _ in range(REPEATS):
        deps.append(sample(DEPS))
        app.append(sample(APP))
    d, a = statistics.median(s for s, _ in deps), statistics.median(s for s, _ in app)
    dw, aw = statistics.median(w for _, w in deps), statistics.median(w for _, w in app)
    print(f"cold import, fresh interpreter each, {REPEATS} alternating samples each, median (min–max)")
    for label, stmt, runs, med, whole in (("deps", DEPS, deps, d, dw), ("app", APP, app, a, aw)):
        print(f"  {label:<5} {stmt:<50} import {1000 * med:7.1f} ms CPU ({1000 * min(s for s, _ in runs):.1f}–"
              f"{1000 * max(s for s, _ in runs):.1f});  whole process {1000 * whole:7.1f} ms wall")
    print(f"  app ÷ deps: {a / d:.2f}× the import alone (CPU), {aw / dw:.2f}× the whole process "
          f"(wall, interpreter start-up included); app adds {1000 * (a - d):.1f} ms")
    base = importtime(DEPS)
    mine = importtime(APP)
    # Modules the app's import loads that the dependencies' does not, outside api/ itself and its own
    # submodules: what api/ pulls in beyond chalice, jwt, marshmallow and pynamodb.
    added = {name: cum for name, cum in mine.items() if name not in base}
    tops = sorted(((cum, name) for name, cum in added.items()
                   if "." not in name and name not in ("app", "api")), reverse=True)[:8]
    own = sorted(((cum, name) for name, cum in added.items() if name.startswith("api.") and name.count(".") == 1),
                 reverse=True)[:8]
    print("  what app's import adds (cumulative ms in one -X importtime child, nested imports included):")
    print("    packages beyond the deps: " + ", ".join(f"{n} {c / 1000:.1f}" for c, n in tops))
    print("    api/ modules:             " + ", ".join(f"{n} {c / 1000:.1f}" for c, n in own))
    print("BENCH-IMPORT " + f"deps_s={d:.4f} app_s={a:.4f} ratio={a / d:.3f} process_ratio={aw / dw:.3f}")


if __name__ == "__main__":
    main()
