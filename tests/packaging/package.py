"""`make package` once per test session: tests/packaging and tests/infra read the same build."""
import functools
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "build" / "package"
STAGE = "prod"


@functools.cache
def built() -> Path:
    """build/package after `make package STAGE=prod`: deployment.zip, sam.json, app.json, data.json."""
    result = subprocess.run(["make", "--no-print-directory", "package", f"STAGE={STAGE}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"make package failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return PACKAGE_DIR
