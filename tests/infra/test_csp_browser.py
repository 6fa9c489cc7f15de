"""The CSP that CloudFront adds (the final template's response headers policy) does not break the PWA.

Chromium (tests/infra/csp_check.py, in a process of its own) opens the `make dev` stack with that
Content-Security-Policy added to every document, as CloudFront would add it, the buckets' addresses
replaced by the local moto server's (where `make dev`'s presigned links point). The join page and each
role's screens are opened, a payment QR image goes to S3 with the app's own presigned POST, and the page
must report no CSP violation. The same upload under a policy without the bucket in connect-src must be
refused and reported: the check can fail.
"""
import json
import re
import subprocess
import sys

import pytest

from tests.infra.cfn import app_template, sub_text
from tests.packaging.package import ROOT

pytestmark = [pytest.mark.stack, pytest.mark.browser]

SCREENS = {
    "admin": ["#/staff", "#/staff/supply", "#/staff/site", "#/staff/review", "#/staff/gate-log"],
    "liaison": ["#/staff/roster", "#/staff/special", "#/staff/community", "#/staff/unpaid", "#/staff/progress",
                "#/staff/slots", "#/staff/demand", "#/staff/ledger"],
    "supplier": ["#/staff", "#/staff/rounds", "#/staff/deliveries"],
    "volunteer": ["#/staff/pickup"],
}


def _policy(moto_origin: str) -> str:
    config = app_template()["Resources"]["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    text = sub_text(config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    text = re.sub(r"https://\$\{(Uploads|Exports)Bucket\}\.s3\.(\$\{AWS::Region\}\.)?\$\{AWS::URLSuffix\}",
                  moto_origin, text)
    assert "${" not in text, text
    return text


@pytest.fixture(scope="module")
def results(dev_stack):
    info = dev_stack.info
    policy = _policy(info["moto_url"].rstrip("/"))
    request = {"base_url": info["base_url"], "join_key": info["join_key"], "tokens": info["tokens"],
               "screens": SCREENS, "policy": policy,
               "strict_policy": re.sub(r"connect-src [^;]*;", "connect-src 'self';", policy)}
    result = subprocess.run([sys.executable, "-m", "tests.infra.csp_check"], cwd=ROOT, input=json.dumps(request),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_csp__the_join_page_loads_with_its_inline_scripts(results):
    assert results["join"]["text"]
    assert results["join"]["violations"] == []


@pytest.mark.parametrize("role", sorted(SCREENS))
def test_csp__every_staff_screen_loads_without_a_violation(results, role):
    for screen in SCREENS[role]:
        assert results[f"{role} {screen}"]["violations"] == [], screen


def test_csp__a_presigned_post_to_the_uploads_bucket_is_allowed(results):
    assert results["upload"]["outcome"].startswith("payment-qr/")
    assert results["upload"]["violations"] == []


def test_csp__the_check_sees_a_violation_when_the_bucket_is_missing_from_connect_src(results):
    assert results["upload, bucket left out"]["outcome"].startswith("refused")
    assert any(v.startswith("connect-src") for v in results["upload, bucket left out"]["violations"])
