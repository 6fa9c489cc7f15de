"""scripts/deploy.py (make deploy / make destroy) against a moto server, without an AWS account.

The script runs as the command it is (`python -m scripts.deploy`) with AWS_ENDPOINT_URL pointing at a
moto server in its own process; the first admin is made by scripts/bootstrap_admin.py in a third process,
against the table and the token secret the deploy just created. The app template is the final one minus
what moto's CloudFormation cannot create (tests/infra/moto_support.py: CloudFront, bucket policies, the
API stage and deployment, alarms, the e-mail subscription), so these tests cannot see the CloudFront
invalidation, the PublicUrl second pass (no distribution address) or termination protection (moto ignores it).
"""
import json
import os
import shutil
import subprocess
import sys

import boto3
import jwt
import pytest

from scripts import deploy
from tests.infra.moto_support import for_moto
from tests.packaging.package import ROOT, STAGE, built

DOMAIN = "baogong.example.cn"


# ---------------------------------------------------------------- cache headers (no AWS at all)

@pytest.mark.parametrize("key, cache_control", [
    ("index.html", "no-cache"),
    ("sw.js", "no-cache"),
    ("manifest.webmanifest", "no-cache"),
    ("vendor/uplot-1.6.32/uPlot.iife.min.js", "public, max-age=31536000, immutable"),
    ("vendor/uplot-1.6.32/uPlot.min.css", "public, max-age=31536000, immutable"),
    ("vendor/qrcode-generator-1.4.4/qrcode.js", "public, max-age=31536000, immutable"),
    ("js/app.js", "no-cache"),  # same name in every release: revalidated, never stale
    ("vendor/jsQR.js", "no-cache"),
    ("icons/icon-192.png", "no-cache"),
])
def test_cache_control__entry_points_revalidate_versioned_files_are_kept_a_year(key, cache_control):
    assert deploy.cache_control(key) == cache_control


def test_content_types__what_browsers_need_to_run_modules_and_install_the_app():
    assert deploy.content_type("js/app.js") == "text/javascript; charset=utf-8"
    assert deploy.content_type("index.html") == "text/html; charset=utf-8"
    assert deploy.content_type("manifest.webmanifest") == "application/manifest+json"
    assert deploy.content_type("css/app.css") == "text/css; charset=utf-8"
    assert deploy.content_type("icons/icon-512.png") == "image/png"


def test_site_files__every_file_of_the_pwa_with_the_entry_points_last():
    files = [key for key, _ in deploy.site_files()]
    on_disk = {p.relative_to(deploy.FRONTEND).as_posix() for p in deploy.FRONTEND.rglob("*")
               if p.is_file() and p.suffix != ".md"}
    assert set(files) == on_disk
    assert files[-3:] == ["manifest.webmanifest", "index.html", "sw.js"]
    assert all(deploy.content_type(k) != "application/octet-stream" for k in files), files


# ---------------------------------------------------------------- deploy and destroy against moto

@pytest.fixture(scope="module")
def package_dir(tmp_path_factory):
    """build/package with the app template cut to what moto can create."""
    source = built()
    target = tmp_path_factory.mktemp("package")
    app, _ = for_moto(json.loads((source / "app.json").read_text()))
    (target / "app.json").write_text(json.dumps(app))
    shutil.copy(source / "data.json", target / "data.json")
    shutil.copy(source / "deployment.zip", target / "deployment.zip")
    return target


def _env(moto_url, region):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BAOGONG_"))}
    env.update(AWS_ENDPOINT_URL=moto_url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION=region, AWS_DEFAULT_REGION=region)
    return env


def _run(moto_url, region, *args):
    result = subprocess.run([sys.executable, "-m", "scripts.deploy", *args], cwd=ROOT, env=_env(moto_url, region),
                            capture_output=True, text=True, timeout=600)
    print(result.stdout, result.stderr)
    return result


def _client(moto_url, region, service):
    return boto3.client(service, region_name=region, endpoint_url=moto_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def china(moto_url, package_dir):
    """`make deploy STAGE=prod DOMAIN=… CERTIFICATE=… SUB_DISTRICT=…` in cn-north-1, then the same again."""
    args = ["deploy", "--stage", STAGE, "--package-dir", str(package_dir), "--domain", DOMAIN,
            "--certificate", "ASCAEXAMPLEIAMCERTID"]
    first = _run(moto_url, "cn-north-1", *args, "--sub-district", "示范街道")
    ssm = _client(moto_url, "cn-north-1", "ssm")
    secret = ssm.get_parameter(Name=f"/baogong/{STAGE}/token-secret", WithDecryption=True)["Parameter"]["Value"]
    again = _run(moto_url, "cn-north-1", *args)
    return {"first": first, "again": again, "secret": secret}


def test_deploy__creates_both_stacks_with_the_table_and_the_functions(china, moto_url):
    assert china["first"].returncode == 0, china["first"].stderr
    cfn = _client(moto_url, "cn-north-1", "cloudformation")
    for name in (f"baogong-{STAGE}-data", f"baogong-{STAGE}"):
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] in ("CREATE_COMPLETE",
                                                                                   "UPDATE_COMPLETE")
    table = _client(moto_url, "cn-north-1", "dynamodb").describe_table(TableName=f"baogong-{STAGE}")["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    functions = {f["FunctionName"]: f for f in _client(moto_url, "cn-north-1", "lambda").list_functions()["Functions"]}
    assert set(functions) == {f"baogong-{STAGE}", f"baogong-{STAGE}-export_worker",
                              f"baogong-{STAGE}-expire_unpaid_orders", f"baogong-{STAGE}-daily_market_report"}
    env = functions[f"baogong-{STAGE}"]["Environment"]["Variables"]
    assert env["BAOGONG_PUBLIC_URL"] == f"https://{DOMAIN}"
    assert env["BAOGONG_UPLOADS_BUCKET"] == f"baogong-{STAGE}-uploads-123456789012"


def test_deploy__makes_the_secrets_once_as_secure_strings_and_keeps_them(china, moto_url):
    ssm = _client(moto_url, "cn-north-1", "ssm")
    for name in ("token-secret", "vapid-private-key"):
        parameter = ssm.get_parameter(Name=f"/baogong/{STAGE}/{name}", WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
    token_secret = ssm.get_parameter(Name=f"/baogong/{STAGE}/token-secret", WithDecryption=True)["Parameter"]
    assert len(token_secret["Value"]) == 64 and token_secret["Value"] == china["secret"]  # not replaced
    assert "token-secret (kept)" in china["again"].stdout


def test_deploy__uploads_the_pwa_with_its_cache_headers(china, moto_url):
    s3 = _client(moto_url, "cn-north-1", "s3")
    bucket = f"baogong-{STAGE}-site-123456789012"
    expected = {
        "index.html": ("no-cache", "text/html; charset=utf-8"),
        "sw.js": ("no-cache", "text/javascript; charset=utf-8"),
        "manifest.webmanifest": ("no-cache", "application/manifest+json"),
        "js/app.js": ("no-cache", "text/javascript; charset=utf-8"),
        "vendor/uplot-1.6.32/uPlot.iife.min.js": ("public, max-age=31536000, immutable",
                                                  "text/javascript; charset=utf-8"),
    }
    for key, (cache_control, content_type) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["CacheControl"], head["ContentType"]) == (cache_control, content_type), key
    keys = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}
    assert keys == {key for key, _ in deploy.site_files()}
    index = s3.get_object(Bucket=bucket, Key="index.html")["Body"].read()
    assert index == (deploy.FRONTEND / "index.html").read_bytes()


def test_deploy__creates_the_first_admin_once_and_prints_what_a_newcomer_needs(china, moto_url):
    out = china["first"].stdout
    assert f"open:        https://{DOMAIN}" in out
    assert f"DNS:         point {DOMAIN} (CNAME) at" in out
    assert "first admin: 示范街道" in out
    link = next(line.split()[-1] for line in out.splitlines() if line.strip().startswith("sign-in:"))
    assert link.startswith(f"https://{DOMAIN}/#/signin/")
    claims = jwt.decode(link.rsplit("/", 1)[1], china["secret"], algorithms=["HS256"])
    assert claims["role"] == "admin"
    staff = _client(moto_url, "cn-north-1", "dynamodb").get_item(
        TableName=f"baogong-{STAGE}", Key={"PK": {"S": f"STAFF#{claims['sub']}"}, "SK": {"S": "STAFF"}})["Item"]
    assert staff["role"]["S"] == "admin" and staff["scope_id"]["S"] == claims["scope_id"]
    again = china["again"]
    assert again.returncode == 0, again.stderr
    assert "first admin:" not in again.stdout and "no new admin" in again.stdout
    assert "make destroy STAGE=prod" in out


def test_deploy__refuses_china_without_a_domain_and_a_first_deploy_without_a_sub_district(moto_url, package_dir):
    no_domain = _run(moto_url, "cn-northwest-1", "deploy", "--stage", STAGE, "--package-dir", str(package_dir),
                     "--sub-district", "x")
    assert no_domain.returncode == 1 and "ICP" in no_domain.stderr
    no_admin = _run(moto_url, "cn-northwest-1", "deploy", "--stage", STAGE, "--package-dir", str(package_dir),
                    "--domain", DOMAIN, "--certificate", "ASCAX")
    assert no_admin.returncode == 1 and "SUB_DISTRICT" in no_admin.stderr
    cfn = _client(moto_url, "cn-northwest-1", "cloudformation")
    assert cfn.describe_stacks()["Stacks"] == []  # refused before anything was made
    wrong_stage = _run(moto_url, "cn-northwest-1", "deploy", "--stage", "staging", "--package-dir",
                       str(package_dir), "--domain", DOMAIN, "--certificate", "ASCAX", "--sub-district", "x")
    assert wrong_stage.returncode == 1 and "make package STAGE=staging" in wrong_stage.stderr


def test_destroy__removes_everything_but_the_table(china, moto_url):
    region = "cn-north-1"
    result = _run(moto_url, region, "destroy", "--stage", STAGE, "--yes")
    assert result.returncode == 0, result.stderr
    cfn = _client(moto_url, region, "cloudformation")
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == [f"baogong-{STAGE}-data"]
    assert _client(moto_url, region, "s3").list_buckets()["Buckets"] == []
    assert _client(moto_url, region, "lambda").list_functions()["Functions"] == []
    ssm = _client(moto_url, region, "ssm")
    assert ssm.get_parameters(Names=[f"/baogong/{STAGE}/token-secret",
                                     f"/baogong/{STAGE}/vapid-private-key"])["Parameters"] == []
    dynamodb = _client(moto_url, region, "dynamodb")
    assert dynamodb.describe_table(TableName=f"baogong-{STAGE}")["Table"]["DeletionProtectionEnabled"] is True
    assert dynamodb.get_item(TableName=f"baogong-{STAGE}", Key={"PK": {"S": "x"}, "SK": {"S": "x"}}) is not None
    assert f"Kept:    table baogong-{STAGE}" in result.stdout


def test_deploy__works_in_a_global_region_without_a_domain(moto_url, package_dir):
    # After the China stage is gone: moto shares one bucket namespace between the partitions; AWS does not.
    result = _run(moto_url, "us-east-1", "deploy", "--stage", STAGE, "--package-dir", str(package_dir),
                  "--sub-district", "Demo")
    assert result.returncode == 0, result.stderr
    s3 = _client(moto_url, "us-east-1", "s3")
    assert s3.head_object(Bucket=f"baogong-{STAGE}-site-123456789012", Key="sw.js")["CacheControl"] == "no-cache"
    functions = _client(moto_url, "us-east-1", "lambda").list_functions()["Functions"]
    assert {f["Role"].split(":")[1] for f in functions} == {"aws"}
    destroyed = _run(moto_url, "us-east-1", "destroy", "--stage", STAGE, "--yes")
    assert destroyed.returncode == 0, destroyed.stderr


def test_destroy__asks_before_deleting(moto_url):
    result = subprocess.run([sys.executable, "-m", "scripts.deploy", "destroy", "--stage", STAGE], cwd=ROOT,
                            env=_env(moto_url, "cn-north-1"), input="no\n", capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "Nothing deleted" in result.stdout
