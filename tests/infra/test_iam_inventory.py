"""Each function's role allows exactly what its code calls, measured rather than read.

A set of API tests runs under tests/infra/aws_calls.py, which records every AWS call, presigned URL and
presigned POST with the function it would run in (the API, the export worker, the two schedules). Every
recorded (action, resource) must be allowed by that function's role in the final template, and every
right a role grants (but writing its own logs, which the Lambda runtime does) must have been used.
"""
import json
import os
import subprocess
import sys

import pytest

from tests.infra.cfn import app_template, as_list, concrete, role_statements, sub_text
from tests.packaging.package import ROOT

# The tests that reach every AWS call of every function (the whole of tests/api and tests/unit records
# the same set; infra/README.md says how to take it).
TESTS = [
    "tests/api/test_export_jobs.py", "tests/api/test_payments.py", "tests/api/test_monitoring.py",
    "tests/api/test_payment_qr.py", "tests/api/test_deliveries.py", "tests/api/test_push.py",
    "tests/api/test_sms.py", "tests/api/test_orders.py", "tests/api/test_special.py",
]
ROLES = {"api": "ApiRole", "export_worker": "ExportWorkerRole", "expire_unpaid_orders": "ExpireUnpaidOrdersRole",
         "daily_market_report": "DailyMarketReportRole"}


def _kind(statement: dict, resource) -> str:
    """The kind aws_calls.py names a resource by, for a Resource of the template."""
    if statement.get("NotResource"):
        return "sms"
    if resource == {"Fn::ImportValue": {"Fn::Sub": "baogong-${Stage}-table-arn"}}:
        return "table"
    if resource == {"Fn::GetAtt": ["ExportWorker", "Arn"]}:
        return "function/export_worker"
    text = sub_text(resource)
    if text == "${TableArn}/index/GSI1":
        return "index/GSI1"
    for bucket in ("Uploads", "Exports"):
        if text.startswith(f"${{{bucket}Bucket.Arn}}/"):
            return f"{bucket.lower()}/{text.split('/')[1]}/"
    if ":parameter/baogong/${Stage}/" in text:
        return f"parameter/{text.rsplit('/', 1)[1]}"
    if ":log-group:" in text:
        return "own-log-group"
    raise AssertionError(f"a resource this test cannot name: {resource}")


def _granted(role: str, template: dict) -> set[tuple[str, str]]:
    granted = set()
    for statement in role_statements(template, role):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            for resource in as_list(statement.get("Resource") or [None]):
                granted.add((action, _kind(statement, resource)))
    return granted


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("calls") / "calls.json"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                             "-p", "tests.infra.aws_calls", *TESTS], cwd=ROOT, capture_output=True, text=True,
                            timeout=1800, env=dict(os.environ, BAOGONG_AWS_CALLS=str(out)))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {function: {tuple(call) for call in calls} for function, calls in json.loads(out.read_text()).items()}


def test_recorded__only_the_four_functions_and_the_tests_own_setup_call_aws(recorded):
    assert set(recorded) <= set(ROLES) | {"setup"}
    assert set(ROLES) <= set(recorded)  # every function was exercised


@pytest.mark.parametrize("function", sorted(ROLES))
def test_role__allows_every_call_its_function_makes_and_nothing_it_does_not(recorded, function):
    template = concrete(app_template(), "us-east-1", CertificateId="", Sms="sns")
    granted = _granted(ROLES[function], template)
    calls = recorded[function]
    assert calls - granted == set(), f"{function} calls what its role does not allow"
    unused = {(action, kind) for action, kind in granted - calls if kind != "own-log-group"}
    assert unused == set(), f"{ROLES[function]} grants what {function} never called"
