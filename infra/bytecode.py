"""The Lambda bundle's compiled bytecode: `python -m infra.bytecode build/package` after `chalice package`.

chalice zips sources only (no `.pyc`: it walks the wheels and vendor/ and we drop vendor's `__pycache__`), and
Lambda's /var/task is read-only, so without this every cold start compiles every module it imports from source,
botocore's and api/'s alike, and throws the result away: about 90 ms of `compile` for api/ alone, more than the
whole of api/'s own import (`make bench`, bench.imports).

This adds `__pycache__/<module>.cpython-3XX.pyc` beside every `.py` in deployment.zip, hash-based and unchecked
(PEP 552): a zip keeps modification times to 2 s and extraction resets them, so a timestamp-checked `.pyc` could
be judged stale; an unchecked one is used as it is, and the bundle is immutable once deployed, so it can never
disagree with its source. A `.pyc` is only read by the Python version that wrote it: the build's interpreter must
be the functions' runtime (sam.json's `Runtime`), or the build stops. A file that is not valid Python for that
version (a dependency's Python 2 example, a template) is left as it is and counted.
"""
import argparse
import importlib.util
import json
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

# Lambda unpacks the bundle here; tracebacks name /var/task/api/orders.py, as they do without the .pyc.
TASK_ROOT = "/var/task"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the .pyc entries do not change the zip's bytes from one build to the next


class BuildError(Exception):
    pass


def runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def check_runtime(sam: dict) -> None:
    runtimes = {r["Properties"].get("Runtime") for r in sam["Resources"].values()
                if r["Type"] == "AWS::Serverless::Function"}
    if runtimes != {runtime()}:
        raise BuildError(f"the functions run {sorted(map(str, runtimes))} but this build is {runtime()}: "
                         f"their .pyc would be ignored; build with the functions' Python")


def pyc_name(source: str) -> str:
    """'api/orders.py' -> 'api/__pycache__/orders.cpython-311.pyc', as the import system looks for it."""
    return importlib.util.cache_from_source(source)


def compile_source(source: bytes, name: str, scratch: Path) -> bytes:
    """The unchecked hash-based .pyc of one module's source (py_compile needs files: scratch holds them)."""
    src, pyc = scratch / "module.py", scratch / "module.pyc"
    src.write_bytes(source)
    py_compile.compile(str(src), cfile=str(pyc), dfile=f"{TASK_ROOT}/{name}", doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return pyc.read_bytes()


def add_bytecode(zip_path: Path) -> tuple[int, list[str]]:
    """Rewrite zip_path with a .pyc beside each .py that has none: (how many added, the names that did not compile)."""
    added, failed = 0, []
    rewritten = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as old, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as new, \
            tempfile.TemporaryDirectory() as scratch:
        names = set(old.namelist())
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, data)
            if not info.filename.endswith(".py") or "/__pycache__/" in f"/{info.filename}":
                continue
            target = pyc_name(info.filename)
            if target in names:
                continue
            try:
                pyc = compile_source(data, info.filename, Path(scratch))
            except py_compile.PyCompileError:
                failed.append(info.filename)
                continue
            entry = zipfile.ZipInfo(target, FIXED_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            new.writestr(entry, pyc)
            added += 1
    rewritten.replace(zip_path)
    return added, failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package_dir", type=Path, help="chalice package's output: deployment.zip and sam.json")
    args = parser.parse_args(argv)
    try:
        check_runtime(json.loads((args.package_dir / "sam.json").read_text()))
        added, failed = add_bytecode(args.package_dir / "deployment.zip")
    except BuildError as err:
        print(f"infra.bytecode: {err}", file=sys.stderr)
        return 1
    print(f"infra.bytecode: {added} .pyc ({runtime()}, unchecked hash) added to deployment.zip; "
          f"{len(failed)} .py not valid {runtime()} left as source")
    return 0


if __name__ == "__main__":
    sys.exit(main())
