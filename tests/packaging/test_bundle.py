"""`make package` builds a Lambda bundle from which the app imports and answers, with nothing else on the path."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import bytecode
from tests.packaging.package import STAGE, built

MB = 1024 * 1024
# Lambda's limits: a zip uploaded directly, and everything unzipped (code from S3 is held to the second only).
ZIPPED_LIMIT = 50 * MB
UNZIPPED_LIMIT = 250 * MB

_PROBE = """
import importlib, json, sys
import app
from api import labels, openapi
pdf = labels.render([], {})  # the CJK font, from the bundle, embedded
from py_vapid import Vapid02  # cryptography's native code (Web Push)
key = Vapid02(); key.generate_keys()
import PIL.Image, xlsxwriter, openpyxl, pynamodb, jwt, segno, chinese_calendar  # noqa
handlers = {}
for name in sys.argv[1:]:
    module, attr = name.rsplit(".", 1)
    handlers[name] = callable(getattr(importlib.import_module(module), attr))
print(json.dumps({
    "file": app.__file__,
    "api": __import__("api").__file__,
    "font": str(labels.FONT_FILE),
    "pdf_embeds_font": b"/FontFile2" in pdf,
    "routes": sorted(app.app.routes),
    "health": app.app.routes["/api/health"]["GET"].view_function(),
    "paths": len(openapi.spec(app.app)["paths"]),
    "handlers": handlers,
}))
"""


@pytest.fixture(scope="module")
def package_dir():
    return built()


@pytest.fixture(scope="module")
def bundle(package_dir, tmp_path_factory):
    target = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(package_dir / "deployment.zip") as zipped:
        zipped.extractall(target)
    return target


@pytest.fixture(scope="module")
def sam(package_dir):
    return json.loads((package_dir / "sam.json").read_text())


def _functions(sam):
    return {lid: r["Properties"] for lid, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_bundle__holds_app_api_fonts_and_the_chalice_runtime(bundle):
    assert (bundle / "app.py").is_file()
    assert (bundle / "api" / "orders.py").is_file()
    assert (bundle / "api" / "routes" / "orders.py").is_file()
    assert (bundle / "api" / "fonts" / "wqy-microhei-gb2312.ttf").is_file()  # the labels' and statements' font
    assert (bundle / "chalice" / "app.py").is_file()
    assert not (bundle / "tests").exists()  # our tests are not shipped (some dependencies ship their own)
    assert not (bundle / "infra").exists() and not (bundle / "scripts").exists()
    assert not list((bundle / "api").rglob("test_*.py"))


def test_bundle__stays_under_lambdas_size_limits(package_dir):
    zipped = package_dir / "deployment.zip"
    with zipfile.ZipFile(zipped) as z:
        unzipped = sum(i.file_size for i in z.infolist())
    print(f"deployment.zip: {zipped.stat().st_size / MB:.1f} MB zipped, {unzipped / MB:.1f} MB unzipped")
    assert zipped.stat().st_size < ZIPPED_LIMIT
    assert unzipped < UNZIPPED_LIMIT


def _lambda_runtime(tmp_path) -> Path:
    """What the Lambda Python runtime adds to a bundle: boto3 and s3transfer (botocore ships in ours)."""
    import boto3
    import s3transfer
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for package in (boto3, s3transfer):
        (runtime / package.__name__).symlink_to(Path(package.__file__).parent)
    return runtime


def test_bundle__imports_the_app_and_every_handler_with_only_the_bundle_on_the_path(bundle, sam, tmp_path):
    handlers = sorted(props["Handler"] for props in _functions(sam).values())
    # -S -I: no site-packages; the bundle, then the runtime's boto3, is the whole world, as in Lambda.
    path = [str(bundle), str(_lambda_runtime(tmp_path))]
    result = subprocess.run([sys.executable, "-S", "-I", "-c", f"import sys; sys.path[:0] = {path!r};" + _PROBE,
                             *handlers], cwd=bundle, capture_output=True, text=True, timeout=120,
                            env={"AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": STAGE})
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["file"].startswith(str(bundle)) and probe["api"].startswith(str(bundle))
    assert probe["font"].startswith(str(bundle)) and probe["pdf_embeds_font"]
    assert "/api/orders" in probe["routes"] and probe["health"] == {"ok": True}
    assert probe["paths"] == len(probe["routes"])
    assert probe["handlers"] == {h: True for h in handlers}
    assert "app.app" in handlers and "api.routes.exports.export_worker" in handlers


# Counts every module the import system compiles from source instead of loading its .pyc.
_COUNT_COMPILES = """
import importlib.machinery as m
compiled = []
_source_to_code = m.SourceFileLoader.source_to_code
def source_to_code(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _source_to_code(self, data, path, *args, **kwargs)
m.SourceFileLoader.source_to_code = source_to_code
"""


def test_bundle__every_module_ships_compiled_so_a_cold_start_compiles_nothing(package_dir, sam, tmp_path):
    """Lambda's /var/task is read-only: a module without its .pyc is compiled again on every cold start."""
    with zipfile.ZipFile(package_dir / "deployment.zip") as zipped:
        names = set(zipped.namelist())
        zipped.extractall(tmp_path / "bundle")
    sources = {n for n in names if n.endswith(".py")}
    assert sources and all(bytecode.pyc_name(n) in names for n in sources)
    handlers = sorted(props["Handler"] for props in _functions(sam).values())
    path = [str(tmp_path / "bundle"), str(_lambda_runtime(tmp_path))]
    # -B: nothing written, so what the child loads is what the bundle holds.
    result = subprocess.run([sys.executable, "-B", "-S", "-I", "-c",
                             f"import sys; sys.path[:0] = {path!r};" + _COUNT_COMPILES + _PROBE
                             + "\nprint(json.dumps({'compiled': compiled, 'loaded': len(sys.modules)}))",
                             *handlers], cwd=tmp_path / "bundle", capture_output=True, text=True, timeout=120,
                            env={"AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": STAGE})
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.splitlines()[-1])
    assert counts["loaded"] > 300  # the app, its routes, botocore, reportlab...
    assert counts["compiled"] == []


def test_sam_template__uses_the_stage_settings(sam):
    for props in _functions(sam).values():
        env = props["Environment"]["Variables"]
        assert env["BAOGONG_STAGE"] == STAGE
        assert env["BAOGONG_TABLE"] == f"baogong-{STAGE}"
        assert env["BAOGONG_TOKEN_SECRET_PARAM"] == f"/baogong/{STAGE}/token-secret"
        assert env["BAOGONG_VAPID_KEY_PARAM"] == f"/baogong/{STAGE}/vapid-private-key"
        # The buckets are the app stack's own, not names typed into .chalice/config.json.
        assert env["BAOGONG_EXPORTS_BUCKET"] == {"Ref": "ExportsBucket"}
        assert env["BAOGONG_UPLOADS_BUCKET"] == {"Ref": "UploadsBucket"}
        assert props["Role"]["Fn::GetAtt"][1] == "Arn"
    assert sam["Resources"]["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"


def test_sam_template__export_worker_is_named_as_the_api_invokes_it(sam):
    """The API invokes the worker by name (BAOGONG_EXPORT_FUNCTION); CloudFormation must not invent one."""
    worker = sam["Resources"]["ExportWorker"]["Properties"]
    assert worker["Handler"] == "api.routes.exports.export_worker"
    assert worker["Timeout"] == 900
    api = sam["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert worker["FunctionName"] == api["BAOGONG_EXPORT_FUNCTION"] == f"baogong-{STAGE}-export_worker"


def test_package__any_stage_gets_its_own_names_with_nothing_typed_in_for_it(package_dir, tmp_path):
    """`make package STAGE=staging`'s steps (into a scratch directory): names, table and settings follow."""
    from infra import build
    root = package_dir.parents[1]
    merge = tmp_path / "merge-staging.json"
    out = tmp_path / "package"
    steps = [[sys.executable, "-m", "infra.build", "merge", "--stage", "staging", str(merge)],
             [str(Path(sys.executable).with_name("chalice")), "package", "--stage", "staging",
              "--merge-template", str(merge), str(out)],
             [sys.executable, "-m", "infra.build", "combine", "--stage", "staging", str(out)]]
    for step in steps:
        result = subprocess.run(step, cwd=root, capture_output=True, text=True, timeout=900,
                                env={**os.environ, "AWS_DEFAULT_REGION": "cn-north-1"})
        assert result.returncode == 0, result.stdout + result.stderr
    app = json.loads((out / "app.json").read_text())
    functions = {lid: r["Properties"] for lid, r in app["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert {p["FunctionName"] for p in functions.values()} == {
        "baogong-staging", "baogong-staging-export_worker", "baogong-staging-expire_unpaid_orders",
        "baogong-staging-daily_market_report"}
    assert (functions["ExportWorker"]["Timeout"], functions["ExportWorker"]["MemorySize"]) == (900, 1024)
    assert (functions["APIHandler"]["Timeout"], functions["APIHandler"]["MemorySize"]) == (30, 512)
    env = functions["APIHandler"]["Environment"]["Variables"]
    assert env["BAOGONG_TABLE"] == "baogong-staging"
    assert env["BAOGONG_EXPORT_FUNCTION"] == "baogong-staging-export_worker"
    assert app["Parameters"]["Stage"]["AllowedValues"] == ["staging"]
    assert "prod" not in json.dumps(build.merge_template("staging"))
    for source in ("template.yaml", "table.yaml"):
        assert "prod" not in (build.INFRA / source).read_text()
