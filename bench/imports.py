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

The samples alternate (deps, app, deps, app...) BENCH_IMPORT_REPEATS times (default 21); the figure is the
median of each pair's ratio (the ratio of the medians and of the fastest samples are printed beside it); the target is to stay near today's 1.2×. Then one more child under `-X importtime` lists
the modules that app's import adds beyond the dependencies' (cumulative µs, the largest first).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPEATS = int(os.environ.get("BENCH_IMPORT_REPEATS", "21"))
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


def importtime(stmt: str) -> dict[str, tuple[int, int]]:
    """{module: (self µs, cumulative µs)} from one child under -X importtime."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt], capture_output=True, text=True,
                         env=_env(), check=True, cwd=os.getcwd())
    found = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.split(":", 1)[1].split("|")
        found[name.strip()] = (int(own), int(cumulative))
    return found


BUNDLE = Path("build/package/deployment.zip")
BUNDLE_PROBE = ("import sys, time; sys.path[:0] = {path!r}; t = time.process_time(); import app; "
                "print(repr(time.process_time() - t))")


def bundle(repeats: int = 5) -> None:
    """`import app` from the Lambda bundle of the last `make package`, with its .pyc and without them.

    As in tests/packaging: the unzipped bundle and the runtime's boto3 are the whole path (-S -I), and -B
    keeps the children from writing the .pyc that a read-only /var/task could not keep either.
    """
    if not BUNDLE.exists():
        print(f"  the bundle: no {BUNDLE} (run make package STAGE=prod first)")
        return
    import boto3
    import s3transfer
    with tempfile.TemporaryDirectory() as scratch:
        root, runtime = Path(scratch) / "task", Path(scratch) / "runtime"
        with zipfile.ZipFile(BUNDLE) as zipped:
            zipped.extractall(root)
        runtime.mkdir()
        for package in (boto3, s3transfer):
            (runtime / package.__name__).symlink_to(Path(package.__file__).parent)
        probe = [sys.executable, "-B", "-S", "-I", "-c", BUNDLE_PROBE.format(path=[str(root), str(runtime)])]
        env = {"AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": "prod"}

        def run() -> float:
            out = subprocess.run(probe, cwd=root, env=env, capture_output=True, text=True, check=True)
            return float(out.stdout.strip().splitlines()[-1])
        pycs = sum(1 for _ in root.rglob("*.pyc"))
        run()  # the OS file cache
        shipped = statistics.median(run() for _ in range(repeats))
        for cache in list(root.rglob("__pycache__")):
            shutil.rmtree(cache)
        source = statistics.median(run() for _ in range(repeats))
    print(f"  the bundle ({BUNDLE}, {pycs} .pyc), import app with only the bundle and boto3 on the path, "
          f"median of {repeats}:")
    print(f"    as shipped {1000 * shipped:7.1f} ms CPU;  without its .pyc (compiling every module, as before "
          f"infra/bytecode.py) {1000 * source:7.1f} ms CPU")
    print("BENCH-IMPORT-BUNDLE " + f"shipped_s={shipped:.4f} source_s={source:.4f}")


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
    # Each app sample is taken right after its deps sample, so the two see the same load: the median of the
    # pairs' ratios is steadier on a shared machine than the ratio of the medians (both printed), and the
    # ratio of the fastest samples is the least disturbed of all.
    paired = statistics.median(app_s / deps_s for (deps_s, _), (app_s, _) in zip(deps, app))
    fastest = min(s for s, _ in app) / min(s for s, _ in deps)
    print(f"  app ÷ deps: {paired:.2f}× the import alone (CPU, median of the {REPEATS} pairs; {a / d:.2f}× the "
          f"medians, {fastest:.2f}× the fastest), {aw / dw:.2f}× the whole process (wall, interpreter start-up "
          f"included); app adds {1000 * (a - d):.1f} ms")
    base = importtime(DEPS)
    mine = importtime(APP)
    # What the app's import loads that the dependencies' does not, by self time (cumulative times would
    # count the dependencies again under whichever api/ module happens to import them first).
    added = {name: times for name, times in mine.items() if name not in base}
    tops = sorted(((own, name) for name, (own, _) in added.items() if not name.startswith(("api.", "app"))),
                  reverse=True)[:8]
    ours = sorted(((own, name) for name, (own, _) in added.items() if name.startswith(("api.", "app"))),
                  reverse=True)
    print(f"  what app's import adds (self ms in one -X importtime child): {len(added)} modules, "
          f"{sum(own for own, _ in added.values()) / 1000:.1f} ms")
    print(f"    api/ and app.py ({len(ours)} modules, {sum(own for own, _ in ours) / 1000:.1f} ms): "
          + ", ".join(f"{n} {c / 1000:.1f}" for c, n in ours[:8]))
    print("    other modules: " + ", ".join(f"{n} {c / 1000:.1f}" for c, n in tops))
    bundle()
    print("BENCH-IMPORT " + f"deps_s={d:.4f} app_s={a:.4f} ratio={paired:.3f} ratio_of_medians={a / d:.3f} "
          f"fastest_ratio={fastest:.3f} process_ratio={aw / dw:.3f}")


if __name__ == "__main__":
    main()
