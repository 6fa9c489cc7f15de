"""The final templates `make package STAGE=prod` writes (build/package/app.json and data.json).

cfn-lint for a China and a global region; least-privilege IAM parsed from the template; every function
the code defines, with its schedule, role, log group, alarms and reserved concurrency; the partition
differences (origin access control or identity, certificates); the CSP against index.html; the buckets.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra import build
from tests.infra.cfn import (
    allowed_actions, app_template, as_list, concrete, data_template, of_type, role_statements, sub_text,
)
from tests.packaging.package import STAGE, built

CFN_LINT = Path(sys.executable).with_name("cfn-lint")

# What each function calls, from the code (the inventory in infra/README.md; tests/infra/test_iam_inventory.py
# checks it against the calls the API tests make). DynamoDB has no TransactWriteItems action.
EXPECTED_ACTIONS = {
    "ApiRole": {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "ssm:GetParameter", "s3:PutObject", "s3:GetObject",
        "lambda:InvokeFunction", "logs:CreateLogStream", "logs:PutLogEvents",
    },
    "ExportWorkerRole": {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem",
                         "s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents"},
    "ExpireUnpaidOrdersRole": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
                               "logs:CreateLogStream", "logs:PutLogEvents"},
    "DailyMarketReportRole": {"dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                              "logs:CreateLogStream", "logs:PutLogEvents"},
}
SERVICE_PRINCIPALS = {"lambda.amazonaws.com", "events.amazonaws.com", "apigateway.amazonaws.com",
                      "cloudfront.amazonaws.com"}


@pytest.fixture(scope="module")
def app():
    return app_template()


@pytest.fixture(scope="module")
def china(app):
    return concrete(app, "cn-north-1", DomainName="baogong.example.cn", CertificateId="ASCAEXAMPLEIAMCERT")


@pytest.fixture(scope="module")
def global_(app):
    return concrete(app, "ap-east-1", DomainName="", CertificateId="")


# ---------------------------------------------------------------- cfn-lint

@pytest.mark.parametrize("region", ["cn-north-1", "us-east-1"])
def test_cfn_lint__passes_on_both_final_templates(region):
    package_dir = built()
    result = subprocess.run([str(CFN_LINT), "--regions", region, "--", str(package_dir / "app.json"),
                             str(package_dir / "data.json")], capture_output=True, text=True, timeout=600)
    print(f"cfn-lint --regions {region}: exit {result.returncode}\n{result.stdout}{result.stderr}")
    assert result.returncode == 0, result.stdout + result.stderr  # no errors and no warnings


# ---------------------------------------------------------------- IAM

def _all_statements(template: dict) -> list[dict]:
    statements = []
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for lid, resource in of_type(template, kind).items():
            props = resource["Properties"]
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            if "PolicyDocument" in props:
                documents.append(props["PolicyDocument"])
            statements += [s for d in documents for s in as_list(d["Statement"])]
    return statements


@pytest.mark.parametrize("region", ["cn-north-1", "us-east-1"])
def test_iam__no_wildcard_action_and_no_wildcard_resource_on_dynamodb_or_s3(app, region):
    # Every branch that adds rights: SMS on, a domain (China needs one).
    template = concrete(app, region, DomainName="baogong.example.cn", CertificateId="c", Sms="sns")
    statements = _all_statements(template)
    actions = [a for s in statements for a in as_list(s.get("Action", []))]
    assert any(a.startswith("dynamodb:") for a in actions) and any(a.startswith("s3:") for a in actions)
    for statement in statements:
        assert "NotAction" not in statement, statement
        for action in as_list(statement.get("Action", [])):
            assert "*" not in action, f"wildcard action {action}"
            if action.startswith(("dynamodb:", "s3:")):
                assert "NotResource" not in statement and statement["Resource"] not in ("*", ["*"]), statement


def test_iam__each_function_has_its_own_role_with_only_what_its_code_calls(app):
    functions = of_type(app, "AWS::Lambda::Function")
    roles = {lid: f["Properties"]["Role"]["Fn::GetAtt"][0] for lid, f in functions.items()}
    assert roles == {lid: spec.role for lid, spec in build.FUNCTIONS.items()}
    assert len(set(roles.values())) == len(roles)
    with_sms = concrete(app, "us-east-1", CertificateId="", Sms="sns")
    without_sms = concrete(app, "us-east-1", CertificateId="", Sms="off")
    for role, expected in EXPECTED_ACTIONS.items():
        assert allowed_actions(role_statements(without_sms, role)) == expected, role
    assert allowed_actions(role_statements(with_sms, "ApiRole")) == EXPECTED_ACTIONS["ApiRole"] | {"sns:Publish"}
    assert of_type(app, "AWS::IAM::Role").keys() == EXPECTED_ACTIONS.keys()


def test_iam__resources_are_the_stage_s_own(global_):
    api = {s["Sid"]: s for s in role_statements(global_, "ApiRole")}
    assert api["Table"]["Resource"] == {"Fn::ImportValue": {"Fn::Sub": "baogong-${Stage}-table-arn"}}
    assert sub_text(api["Index"]["Resource"]) == "${TableArn}/index/GSI1"
    assert sorted(sub_text(r) for r in api["Uploads"]["Resource"]) == [
        "${UploadsBucket.Arn}/gate-docs/*", "${UploadsBucket.Arn}/payment-qr/*"]
    assert sub_text(api["ExportLinks"]["Resource"]) == "${ExportsBucket.Arn}/exports/*"
    assert api["StartExport"]["Resource"] == {"Fn::GetAtt": ["ExportWorker", "Arn"]}
    assert [sub_text(r).rsplit(":parameter", 1)[1] for r in api["Secrets"]["Resource"]] == [
        "/baogong/${Stage}/token-secret", "/baogong/${Stage}/vapid-private-key"]
    assert "Sms" not in api  # SNS only when Sms=sns
    worker = {s["Sid"]: s for s in role_statements(global_, "ExportWorkerRole")}
    assert sub_text(worker["Exports"]["Resource"]) == "${ExportsBucket.Arn}/exports/*"
    for role in EXPECTED_ACTIONS:
        logs = {s["Sid"]: s for s in role_statements(global_, role)}["Logs"]
        function = next(lid for lid, spec in build.FUNCTIONS.items() if spec.role == role)
        name = global_["Resources"][function]["Properties"]["FunctionName"]
        assert sub_text(logs["Resource"]).endswith(f":log-group:/aws/lambda/{name.replace(STAGE, '${Stage}')}:*")


# ---------------------------------------------------------------- functions and schedules

def _code_functions():
    """What app.py defines: the API, pure Lambda functions, schedules (name -> (handler, schedule or None))."""
    import app as chalice_app
    found = {"api_handler": ("app.app", None)}
    for event in chalice_app.app.event_sources:
        expression = event.schedule_expression
        found[event.name] = (event.handler_string, expression if isinstance(expression, str)
                             else expression.to_string())
    for function in chalice_app.app.pure_lambda_functions:
        found[function.name] = (function.handler_string, None)
    return found


def test_functions__every_function_the_code_defines_is_deployed_with_its_schedule(app):
    functions = of_type(app, "AWS::Lambda::Function")
    rules = of_type(app, "AWS::Events::Rule")
    deployed = {f["Properties"]["Handler"]: lid for lid, f in functions.items()}
    schedules = {rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: rule["Properties"]["ScheduleExpression"]
                 for rule in rules.values()}
    code = _code_functions()
    assert {handler for handler, _ in code.values()} == set(deployed)
    for name, (handler, schedule) in code.items():
        assert schedules.get(deployed[handler]) == schedule, name
    assert schedules == {"ExpireUnpaidOrders": "rate(1 minute)", "DailyMarketReport": "cron(0 1 * * ? *)"}
    permissions = [p["Properties"] for p in of_type(app, "AWS::Lambda::Permission").values()]
    for rule_id, rule in rules.items():
        assert {"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": rule["Properties"]["Targets"][0]["Id"]},
                "Principal": "events.amazonaws.com", "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}} in permissions


def test_functions__named_per_stage_with_code_from_the_artifacts_bucket_log_groups_and_reserved_concurrency(app):
    for lid, function in of_type(app, "AWS::Lambda::Function").items():
        props = function["Properties"]
        assert props["FunctionName"] == build.function_name(lid, STAGE)
        assert props["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
        assert props["Runtime"] == "python3.11"
        log_group = app["Resources"][f"{lid}LogGroup"]
        assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
        assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert function["DependsOn"] == [f"{lid}LogGroup"]
        reserved = props["ReservedConcurrentExecutions"]["Fn::If"]
        assert reserved[0] == "Reserve" and reserved[2] == {"Ref": "AWS::NoValue"}
        assert reserved[1] == build.FUNCTIONS[lid].concurrency
    env = app["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["BAOGONG_EXPORT_FUNCTION"] == app["Resources"]["ExportWorker"]["Properties"]["FunctionName"]


def test_alarms__lambda_errors_and_throttles_of_every_function_and_dynamodb_throttling(app):
    alarms = [a["Properties"] for a in of_type(app, "AWS::CloudWatch::Alarm").values()]
    for lid in build.FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            assert any(a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric
                       and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": lid}}] for a in alarms), \
                (lid, metric)
    dynamodb = {(a["MetricName"], len(a["Dimensions"])) for a in alarms if a["Namespace"] == "AWS/DynamoDB"}
    assert dynamodb == {("ReadThrottleEvents", 1), ("WriteThrottleEvents", 1), ("WriteThrottleEvents", 2)}
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_api__regional_rest_api_with_per_stage_throttling(app):
    [(api_id, api)] = of_type(app, "AWS::ApiGateway::RestApi").items()
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert "/api/health" in api["Properties"]["Body"]["paths"]
    [stage] = of_type(app, "AWS::ApiGateway::Stage").values()
    [deployment_id] = of_type(app, "AWS::ApiGateway::Deployment")
    assert stage["Properties"]["StageName"] == "api"
    assert stage["Properties"]["DeploymentId"] == {"Ref": deployment_id}
    [setting] = stage["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}


# ---------------------------------------------------------------- the partitions

def test_partition__no_arn_or_endpoint_names_a_partition(app):
    text = json.dumps(app)
    assert "arn:aws:" not in text and "arn:aws-cn:" not in text
    suffixes = set(re.findall(r"[\w.-]*amazonaws\.com(?:\.cn)?", text))
    assert suffixes <= SERVICE_PRINCIPALS, suffixes - SERVICE_PRINCIPALS
    arns = re.findall(r'"(arn:[^"]*)"', text)
    assert arns and all(a.startswith("arn:${AWS::Partition}:") for a in arns), arns


def test_partition__china_uses_an_origin_access_identity_and_an_iam_certificate(china):
    assert china["_conditions"]["IsChina"]
    assert "SiteOriginAccessControl" not in china["Resources"]
    assert "SiteOriginAccessIdentity" in china["Resources"]
    config = china["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    site = next(o for o in config["Origins"] if o["Id"] == "site")
    assert "OriginAccessControlId" not in site
    assert sub_text(site["S3OriginConfig"]["OriginAccessIdentity"]) == \
        "origin-access-identity/cloudfront/${SiteOriginAccessIdentity}"
    assert config["Aliases"] == [{"Ref": "DomainName"}]
    assert config["ViewerCertificate"]["IamCertificateId"] == {"Ref": "CertificateId"}
    assert config["HttpVersion"] == "http2"
    [reads] = [s for s in china["Resources"]["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
               if s["Effect"] == "Allow"]
    assert reads["Principal"] == {"CanonicalUser": {"Fn::GetAtt": ["SiteOriginAccessIdentity", "S3CanonicalUserId"]}}


def test_partition__global_uses_origin_access_control_and_works_without_a_domain(global_):
    assert not global_["_conditions"]["IsChina"]
    assert "SiteOriginAccessIdentity" not in global_["Resources"]
    config = global_["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    site = next(o for o in config["Origins"] if o["Id"] == "site")
    assert site["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert site["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "Aliases" not in config and config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    [reads] = [s for s in global_["Resources"]["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
               if s["Effect"] == "Allow"]
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert sub_text(reads["Condition"]["StringEquals"]["AWS:SourceArn"]).endswith(":distribution/${Distribution}")
    with_domain = concrete(app_template(), "us-east-1", DomainName="baogong.example.com",
                           CertificateId="arn:aws:acm:us-east-1:123456789012:certificate/x")
    certificate = with_domain["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["ViewerCertificate"]
    assert certificate["AcmCertificateArn"] == {"Ref": "CertificateId"}


def test_partition__china_refuses_to_deploy_without_a_domain_and_certificate(app):
    rule = app["Rules"]["ChinaNeedsDomainAndCertificate"]
    assert rule["RuleCondition"] == {"Fn::Contains": [["cn-north-1", "cn-northwest-1"], {"Ref": "AWS::Region"}]}
    assert len(rule["Assertions"]) == 2


# ---------------------------------------------------------------- CloudFront and the CSP

def test_cloudfront__app_and_api_on_one_origin_with_security_headers_on_both(global_):
    config = global_["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    api_origin = next(o for o in config["Origins"] if o["Id"] == "api")
    assert sub_text(api_origin["DomainName"]) == "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    assert api_origin["OriginPath"] == "/api"  # the stage; routes keep their /api prefix
    [api] = config["CacheBehaviors"]
    assert api["PathPattern"] == "/api/*" and api["TargetOriginId"] == "api"
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "site"
    for behaviour in (config["DefaultCacheBehavior"], api):
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}
        assert behaviour["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")
    api_cache = global_["Resources"]["ApiCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert api_cache["DefaultTTL"] == 0 and api_cache["MinTTL"] == 0
    assert api_cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"] == ["Authorization"]
    forwarded = global_["Resources"]["ApiOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"]
    # The headers the API reads, and the phone's own address for the per-IP limits; never Host.
    assert forwarded["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert {"Content-Type", "Accept", "Idempotency-Key", "CloudFront-Viewer-Address"} <= set(
        forwarded["HeadersConfig"]["Headers"])
    assert "Host" not in forwarded["HeadersConfig"]["Headers"]


def _csp(template) -> dict:
    config = template["Resources"]["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    text = sub_text(config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in text.split(";")) if d}


def test_csp__allows_what_the_pwa_loads_and_nothing_inline_but_index_html_s_own_scripts(global_):
    csp = _csp(global_)
    hashes = build.inline_script_hashes()
    index = (build.INDEX_HTML).read_text()
    assert len(hashes) == len(re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", index))  # every inline script
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", *hashes]
    assert csp["style-src"] == ["'self'"] and csp["style-src-attr"] == ["'unsafe-inline'"]
    uploads = ["https://${UploadsBucket}.s3.${AWS::URLSuffix}",
               "https://${UploadsBucket}.s3.${AWS::Region}.${AWS::URLSuffix}"]
    exports = [u.replace("Uploads", "Exports") for u in uploads]
    assert csp["img-src"] == ["'self'", "data:", "blob:", *uploads, *exports]
    assert csp["connect-src"] == ["'self'", *uploads]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe-eval" in v or "*" in v for values in csp.values() for v in values)
    headers = global_["Resources"]["SecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert len(sub_text(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])) < 1783  # CloudFront's limit


# ---------------------------------------------------------------- buckets

def test_buckets__private_encrypted_tls_only_exports_expire_after_7_days_cors_only_for_upload_posts(global_):
    buckets = of_type(global_, "AWS::S3::Bucket")
    assert set(buckets) == {"SiteBucket", "ExportsBucket", "UploadsBucket"}
    for lid, bucket in buckets.items():
        props = bucket["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}, lid
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}], lid
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        policy = of_type(global_, "AWS::S3::BucketPolicy")[f"{lid}Policy"]["Properties"]
        assert policy["Bucket"] == {"Ref": lid}
        deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert not [s for s in policy["PolicyDocument"]["Statement"]
                    if s["Effect"] == "Allow" and s["Principal"] == "*"], lid
    [expiry] = buckets["ExportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == 7 and expiry["Status"] == "Enabled" and "Prefix" not in expiry
    assert "CorsConfiguration" not in buckets["ExportsBucket"]["Properties"]
    assert "CorsConfiguration" not in buckets["SiteBucket"]["Properties"]
    [cors] = buckets["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    uploads_rules = buckets["UploadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert not any(key.startswith("Expiration") for rule in uploads_rules for key in rule)  # uploads are kept
    with_domain = concrete(app_template(), "cn-north-1", DomainName="baogong.example.cn", CertificateId="c")
    [cors] = with_domain["Resources"]["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == [{"Fn::Sub": "https://${DomainName}"}]


def test_data_template__is_the_table_alone_pinned_to_the_stage():
    data = data_template()
    assert list(data["Resources"]) == ["Table"]
    assert data["Parameters"]["Stage"]["AllowedValues"] == [STAGE]
    assert data["Resources"]["Table"]["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True}
