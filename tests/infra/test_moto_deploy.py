"""The final templates deploy into moto's CloudFormation, in a China and a global region.

The data stack (data.json) as it is, then the app stack (app.json) minus what moto cannot create
(tests/infra/moto_support.py lists it and why), with the code from an S3 bucket as `make deploy` does.
Asserted on what moto made: the table with its keys, GSI1, on-demand billing and deletion protection; the
three buckets, encrypted; the four functions with their handlers, roles, environment, code and reserved
concurrency; the roles' policies with the imported table ARN; the schedules and their permissions; the log
groups; the REST API; the alarm topic. What moto ignores is asserted as ignored (so an upgrade that starts
applying it is noticed) and is checked in the final template by tests/infra/test_final_template.py.
"""
import ast
import json

import pytest
from botocore.exceptions import ClientError

from tests.infra.moto_support import IGNORED_PROPERTIES, MOTO_BREAKS, MOTO_LACKS, for_moto, unsupported_types
from tests.packaging.package import STAGE, built

ACCOUNT = "123456789012"
TABLE = f"baogong-{STAGE}"
FUNCTIONS = {
    f"baogong-{STAGE}": ("app.app", 30, 512, 100),
    f"baogong-{STAGE}-export_worker": ("api.routes.exports.export_worker", 900, 1024, 5),
    f"baogong-{STAGE}-expire_unpaid_orders": ("api.routes.schedules.expire_unpaid_orders", 30, 512, 1),
    f"baogong-{STAGE}-daily_market_report": ("api.routes.schedules.daily_market_report", 30, 512, 1),
}


@pytest.fixture(scope="module", params=["cn-north-1", "us-east-1"])
def stack(request, aws_client):
    """Both stacks in one region; torn down after (moto shares one S3 namespace across regions)."""
    region = request.param
    client = lambda service: aws_client(service, region)  # noqa: E731
    package = built()
    s3, cfn = client("s3"), client("cloudformation")
    code_bucket = f"artifacts-{region}"
    s3.create_bucket(Bucket=code_bucket, **({} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}))
    s3.upload_file(str(package / "deployment.zip"), code_bucket, "deployment.zip")
    cfn.create_stack(StackName=f"baogong-{STAGE}-data", TemplateBody=(package / "data.json").read_text())
    app, left_out = for_moto(json.loads((package / "app.json").read_text()))
    s3.put_object(Bucket=code_bucket, Key="app.json", Body=json.dumps(app).encode())
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    parameters = {"CodeBucket": code_bucket, "CodeKey": "deployment.zip", "DomainName": "",
                  "CertificateId": "", "PublicUrl": "https://baogong.example"}
    if region.startswith("cn-"):
        parameters.update(DomainName="baogong.example.cn", CertificateId="ASCAEXAMPLE", PublicUrl="")
    cfn.create_stack(StackName=f"baogong-{STAGE}", Capabilities=["CAPABILITY_IAM"],
                     TemplateURL=f"https://{code_bucket}.s3.{region}.{suffix}/app.json",
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    yield {"region": region, "client": client, "left_out": left_out, "app": app, "parameters": parameters}
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cfn.describe_stacks(StackName=f"baogong-{STAGE}")["Stacks"][0].get("Outputs", [])}
    for key in ("SiteBucket", "ExportsBucket", "UploadsBucket"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=outputs[key]):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=outputs[key], Key=item["Key"])
    cfn.delete_stack(StackName=f"baogong-{STAGE}")
    for item in s3.list_objects_v2(Bucket=code_bucket).get("Contents", []):
        s3.delete_object(Bucket=code_bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=code_bucket)


def test_left_out__only_what_moto_cannot_create():
    app = json.loads((built() / "app.json").read_text())
    assert unsupported_types(app) == MOTO_LACKS  # moto gained a model, or the template a new type: look again
    _, left_out = for_moto(app)
    assert set(left_out.values()) == MOTO_LACKS | MOTO_BREAKS
    assert unsupported_types(json.loads((built() / "data.json").read_text())) == set()


def test_stacks__complete(stack):
    cfn = stack["client"]("cloudformation")
    for name in (f"baogong-{STAGE}-data", f"baogong-{STAGE}"):
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    created = {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName=f"baogong-{STAGE}")[
        "StackResources"]}
    assert created == set(stack["app"]["Resources"]) - {
        lid for lid, r in stack["app"]["Resources"].items() if "Condition" in r}  # none is conditional
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"baogong-{STAGE}-table-name"] == TABLE


def test_table__keys_gsi1_on_demand_deletion_protection(stack):
    table = stack["client"]("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"},
                                  {"AttributeName": "SK", "KeyType": "RANGE"}]
    [gsi] = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "GSI1" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["KeySchema"] == [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                                {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True


def test_buckets__three_encrypted_buckets_named_by_stage_and_account(stack):
    s3 = stack["client"]("s3")
    for kind in ("site", "exports", "uploads"):
        bucket = f"baogong-{STAGE}-{kind}-{ACCOUNT}"
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_functions__handlers_roles_environment_code_and_reserved_concurrency(stack):
    lam, region = stack["client"]("lambda"), stack["region"]
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    roles = set()
    for name, (handler, timeout, memory, reserved) in FUNCTIONS.items():
        function = lam.get_function(FunctionName=name)
        config = function["Configuration"]
        assert (config["Handler"], config["Runtime"], config["Timeout"], config["MemorySize"]) == (
            handler, "python3.11", timeout, memory)
        assert config["CodeSize"] == (built() / "deployment.zip").stat().st_size
        assert function["Concurrency"]["ReservedConcurrentExecutions"] == reserved
        env = config["Environment"]["Variables"]
        assert env["BAOGONG_TABLE"] == TABLE
        assert env["BAOGONG_EXPORTS_BUCKET"] == f"baogong-{STAGE}-exports-{ACCOUNT}"
        assert env["BAOGONG_UPLOADS_BUCKET"] == f"baogong-{STAGE}-uploads-{ACCOUNT}"
        assert env["BAOGONG_EXPORT_FUNCTION"] == f"baogong-{STAGE}-export_worker"
        assert env["BAOGONG_PUBLIC_URL"] == ("https://baogong.example.cn" if partition == "aws-cn"
                                             else "https://baogong.example")
        assert config["FunctionArn"].startswith(f"arn:{partition}:lambda:{region}:")
        roles.add(config["Role"])
    assert len(roles) == len(FUNCTIONS)  # one role each


def test_roles__inline_policies_name_the_imported_table_and_the_stack_s_buckets(stack):
    iam, region = stack["client"]("iam"), stack["region"]
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    [api_role] = [r["RoleName"] for r in iam.list_roles()["Roles"] if "-ApiRole-" in r["RoleName"]]
    document = iam.get_role_policy(RoleName=api_role, PolicyName="baogong-api")["PolicyDocument"]
    if isinstance(document, str):  # moto keeps a CloudFormation-made inline policy as the str() of a dict
        document = ast.literal_eval(document)
    # moto leaves AWS::NoValue in a list as null (CloudFormation drops it): the SMS statement, off here.
    statements = {s["Sid"]: s for s in document["Statement"] if s is not None}
    assert statements["Table"]["Resource"] == f"arn:{partition}:dynamodb:{region}:{ACCOUNT}:table/{TABLE}"
    assert statements["Index"]["Resource"] == f"arn:{partition}:dynamodb:{region}:{ACCOUNT}:table/{TABLE}/index/GSI1"
    assert sorted(statements["Uploads"]["Resource"]) == [
        f"arn:{partition}:s3:::baogong-{STAGE}-uploads-{ACCOUNT}/gate-docs/*",
        f"arn:{partition}:s3:::baogong-{STAGE}-uploads-{ACCOUNT}/payment-qr/*"]
    assert statements["StartExport"]["Resource"] == \
        f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:baogong-{STAGE}-export_worker"
    assert "Sms" not in statements


def test_schedules__rules_target_their_functions_which_allow_eventbridge(stack):
    events, lam = stack["client"]("events"), stack["client"]("lambda")
    schedules = {}
    for rule in events.list_rules()["Rules"]:
        [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        schedules[target["Arn"].rsplit(":", 1)[1]] = rule["ScheduleExpression"]
        policy = json.loads(lam.get_policy(FunctionName=target["Arn"])["Policy"])
        assert any(s["Principal"] == {"Service": "events.amazonaws.com"}
                   and s["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"] for s in policy["Statement"])
    assert schedules == {f"baogong-{STAGE}-expire_unpaid_orders": "rate(1 minute)",
                         f"baogong-{STAGE}-daily_market_report": "cron(0 1 * * ? *)"}


def test_log_groups_api_and_alarm_topic(stack):
    groups = {g["logGroupName"]: g for g in stack["client"]("logs").describe_log_groups()["logGroups"]}
    for name in FUNCTIONS:
        assert groups[f"/aws/lambda/{name}"]["retentionInDays"] == 90
    apis = [a["name"] for a in stack["client"]("apigateway").get_rest_apis()["items"]]
    assert apis == [f"baogong-{STAGE}"]
    topics = [t["TopicArn"] for t in stack["client"]("sns").list_topics()["Topics"]]
    assert any(t.endswith(f":baogong-{STAGE}-alarms") for t in topics)


def test_moto_gaps__are_still_what_infra_readme_says(stack):
    """moto's models ignore these properties; when one starts applying them, assert it above instead."""
    assert IGNORED_PROPERTIES == {
        "AWS::DynamoDB::Table": ["TimeToLiveSpecification", "PointInTimeRecoverySpecification"],
        "AWS::S3::Bucket": ["LifecycleConfiguration", "CorsConfiguration", "PublicAccessBlockConfiguration",
                            "OwnershipControls"],
    }
    dynamodb, s3 = stack["client"]("dynamodb"), stack["client"]("s3")
    assert dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    assert dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    exports = f"baogong-{STAGE}-exports-{ACCOUNT}"
    uploads = f"baogong-{STAGE}-uploads-{ACCOUNT}"
    for call, bucket in ((s3.get_bucket_lifecycle_configuration, exports), (s3.get_bucket_cors, uploads),
                         (s3.get_public_access_block, uploads), (s3.get_bucket_ownership_controls, uploads),
                         (s3.get_bucket_policy, uploads)):
        with pytest.raises(ClientError):
            call(Bucket=bucket)
