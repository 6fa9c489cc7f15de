"""`make package` builds a Lambda bundle from which the app imports and answers, with nothing else on the path."""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import app
from api import openapi
print(json.dumps({
    "file": app.__file__,
    "api": __import__("api").__file__,
    "routes": sorted(app.app.routes),
    "health": app.app.routes["/api/health"]["GET"].view_function(),
    "paths": len(openapi.spec(app.app)["paths"]),
}))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    subprocess.run(["make", "--no-print-directory", "package"], cwd=ROOT, check=True, capture_output=True, timeout=900)
    target = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(ROOT / "build" / "package" / "deployment.zip") as zipped:
        zipped.extractall(target)
    return target


def test_bundle__holds_app_api_and_the_chalice_runtime(bundle):
    assert (bundle / "app.py").is_file()
    assert (bundle / "api" / "orders.py").is_file()
    assert (bundle / "api" / "routes" / "orders.py").is_file()
    assert (bundle / "chalice" / "app.py").is_file()
    assert not (bundle / "tests").exists()  # our tests are not shipped (some dependencies ship their own)
    assert not list((bundle / "api").rglob("test_*.py"))


def _lambda_runtime(tmp_path) -> Path:
    """What the Lambda Python runtime adds to a bundle: boto3 and s3transfer (botocore ships in ours)."""
    import boto3
    import s3transfer
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for package in (boto3, s3transfer):
        (runtime / package.__name__).symlink_to(Path(package.__file__).parent)
    return runtime


def test_bundle__imports_the_app_with_only_the_bundle_on_the_path(bundle, tmp_path):
    # -S -I: no site-packages; the bundle, then the runtime's boto3, is the whole world, as in Lambda.
    path = [str(bundle), str(_lambda_runtime(tmp_path))]
    result = subprocess.run([sys.executable, "-S", "-I", "-c", f"import sys; sys.path[:0] = {path!r};" + _PROBE],
                            cwd=bundle, capture_output=True, text=True, timeout=120,
                            env={"AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": "prod"})
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["file"].startswith(str(bundle)) and probe["api"].startswith(str(bundle))
    assert "/api/orders" in probe["routes"] and probe["health"] == {"ok": True}
    assert probe["paths"] == len(probe["routes"])


def test_sam_template__uses_the_prod_stage_settings(bundle):
    sam = json.loads((ROOT / "build" / "package" / "sam.json").read_text())
    function = next(r for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function")
    env = function["Properties"]["Environment"]["Variables"]
    assert env["BAOGONG_TABLE"] == "baogong-prod"
    assert env["BAOGONG_TOKEN_SECRET_PARAM"] == "/baogong/prod/token-secret"


def test_sam_template__export_worker_is_named_as_the_api_invokes_it(bundle):
    """The API invokes the worker by name (BAOGONG_EXPORT_FUNCTION); CloudFormation must not invent one."""
    sam = json.loads((ROOT / "build" / "package" / "sam.json").read_text())
    worker = sam["Resources"]["ExportWorker"]["Properties"]
    assert worker["Handler"] == "api.routes.exports.export_worker"
    assert worker["Timeout"] == 900
    api = sam["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert worker["FunctionName"] == api["BAOGONG_EXPORT_FUNCTION"] == "baogong-prod-export_worker"
