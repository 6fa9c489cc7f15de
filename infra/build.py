"""The final CloudFormation templates of `make package STAGE=<stage>` (see infra/README.md).

Two steps around `chalice package`:

    python -m infra.build merge --stage prod build/merge-prod.json   # before: the stage's merge template
    python -m infra.build combine --stage prod build/package         # after: app.json and data.json

`merge` writes what chalice merges into its SAM template: each function's name, role, environment and
reserved concurrency for this stage, and a regional API endpoint (edge-optimised endpoints do not
exist in China). `combine` turns chalice's SAM output into plain CloudFormation (so that one template
is what cfn-lint checks, moto deploys and CloudFormation runs, with no transform), adds it to
infra/template.yaml's resources with each function's log group and alarms, and writes

    build/package/app.json    the app stack: everything but the table
    build/package/data.json   the data stack: the table (infra/table.yaml)

A function chalice produces that FUNCTIONS does not declare stops the build: give it a role first.
"""
import argparse
import base64
import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
APP_TEMPLATE = INFRA / "template.yaml"
DATA_TEMPLATE = INFRA / "table.yaml"
INDEX_HTML = ROOT / "frontend" / "index.html"
API_STAGE = "api"  # .chalice/config.json api_gateway_stage; CloudFront's /api origin path


@dataclass(frozen=True)
class Function:
    name: str          # the Lambda function's name; {stage} is replaced
    role: str          # its role in infra/template.yaml
    concurrency: object  # reserved concurrency: a number or a {"Ref": parameter}


# Every function chalice makes from app.py, by chalice's logical id. Each has its own role.
FUNCTIONS = {
    "APIHandler": Function("baogong-{stage}", "ApiRole", {"Ref": "ApiConcurrency"}),
    "ExportWorker": Function("baogong-{stage}-export_worker", "ExportWorkerRole", {"Ref": "ExportConcurrency"}),
    # One sweep at a time: an overlapping run would only lose the conditional writes of the other.
    "ExpireUnpaidOrders": Function("baogong-{stage}-expire_unpaid_orders", "ExpireUnpaidOrdersRole", 1),
    "DailyMarketReport": Function("baogong-{stage}-daily_market_report", "DailyMarketReportRole", 1),
}


def function_name(logical_id: str, stage: str) -> str:
    return FUNCTIONS[logical_id].name.format(stage=stage)


def environment(stage: str) -> dict:
    """What api/config.py reads, for this stage, from the resources of the app stack."""
    return {
        "BAOGONG_STAGE": stage,
        "BAOGONG_TABLE": f"baogong-{stage}",
        "BAOGONG_TOKEN_SECRET_PARAM": f"/baogong/{stage}/token-secret",
        "BAOGONG_VAPID_KEY_PARAM": f"/baogong/{stage}/vapid-private-key",
        "BAOGONG_EXPORTS_BUCKET": {"Ref": "ExportsBucket"},
        "BAOGONG_UPLOADS_BUCKET": {"Ref": "UploadsBucket"},
        "BAOGONG_PUBLIC_URL": {"Fn::If": ["HasDomain", {"Fn::Sub": "https://${DomainName}"}, {"Ref": "PublicUrl"}]},
        "BAOGONG_EXPORT_FUNCTION": function_name("ExportWorker", stage),
        "BAOGONG_EXPORT_RUNNER": "lambda",
        "BAOGONG_SMS": {"Ref": "Sms"},
    }


def merge_template(stage: str) -> dict:
    resources = {
        logical_id: {"Properties": {
            "FunctionName": function_name(logical_id, stage),
            "Role": {"Fn::GetAtt": [spec.role, "Arn"]},
            "Environment": {"Variables": environment(stage)},
        }}
        for logical_id, spec in FUNCTIONS.items()
    }
    resources["RestAPI"] = {"Properties": {"EndpointConfiguration": "REGIONAL"}}
    return {"Resources": resources}


# ---------------------------------------------------------------- CloudFormation YAML

class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref, !Sub, !GetAtt a.b, !If …) as their JSON forms."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


# ---------------------------------------------------------------- the CSP's inline scripts

def inline_script_hashes(index_html: Path = INDEX_HTML) -> list[str]:
    """CSP sources for index.html's inline scripts (the staff screens' preload, the service worker's registration,
    the nomodule note)."""
    hashes = []
    for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", index_html.read_text(encoding="utf-8"),
                                  flags=re.S | re.I):
        if re.search(r"\bsrc\s*=", attrs):
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return hashes


# ---------------------------------------------------------------- SAM -> CloudFormation

class BuildError(Exception):
    pass


_FUNCTION_PROPS = {"Runtime", "Handler", "CodeUri", "Tags", "Tracing", "Timeout", "MemorySize", "Architectures",
                   "Environment", "Role", "FunctionName", "Events"}
_API_PROPS = {"EndpointConfiguration", "StageName", "DefinitionBody"}


def _function(logical_id: str, props: dict, stage: str) -> dict:
    """AWS::Serverless::Function -> the function, its schedule rules and their permissions, log group, alarms."""
    unknown = set(props) - _FUNCTION_PROPS
    if unknown:
        raise BuildError(f"{logical_id}: chalice wrote properties this build does not convert: {sorted(unknown)}")
    if props["FunctionName"] != function_name(logical_id, stage):
        raise BuildError(f"{logical_id}: the merge template was not applied (FunctionName {props['FunctionName']})")
    spec = FUNCTIONS[logical_id]
    log_group = f"{logical_id}LogGroup"
    out = {
        logical_id: {
            "Type": "AWS::Lambda::Function",
            "DependsOn": [log_group],  # it exists, with its retention, before the function can log
            "Properties": {
                "FunctionName": props["FunctionName"],
                "Runtime": props["Runtime"],
                "Handler": props["Handler"],
                "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                "Role": props["Role"],
                "Timeout": props["Timeout"],
                "MemorySize": props["MemorySize"],
                "Architectures": props["Architectures"],
                "Environment": props["Environment"],
                "TracingConfig": {"Mode": props.get("Tracing", "PassThrough")},
                "Tags": [{"Key": k, "Value": v} for k, v in sorted(props.get("Tags", {}).items())],
                "ReservedConcurrentExecutions": {"Fn::If": ["Reserve", spec.concurrency, {"Ref": "AWS::NoValue"}]},
            },
        },
        log_group: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": f"/aws/lambda/{props['FunctionName']}",
                           "RetentionInDays": {"Ref": "LogRetentionDays"}},
        },
    }
    for metric, description in (("Errors", "raised or timed out"), ("Throttles", "was throttled")):
        out[f"{logical_id}{metric}Alarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": f"{props['FunctionName']}-{metric.lower()}",
                "AlarmDescription": f"{props['FunctionName']} {description} in the last 5 minutes.",
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": logical_id}}],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
                "OKActions": [{"Ref": "AlarmTopic"}],
            },
        }
    for event_id, event in (props.get("Events") or {}).items():
        if event.get("Type") != "Schedule" or set(event["Properties"]) != {"Schedule"}:
            raise BuildError(f"{logical_id}.{event_id}: only plain Schedule events are converted, not {event}")
        out[event_id] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": f"{props['FunctionName']} on {event['Properties']['Schedule']}",
                "ScheduleExpression": event["Properties"]["Schedule"],
                "State": "ENABLED",
                "Targets": [{"Arn": {"Fn::GetAtt": [logical_id, "Arn"]}, "Id": logical_id}],
            },
        }
        out[f"{event_id}Permission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": logical_id},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [event_id, "Arn"]},
            },
        }
    return out


def _api(logical_id: str, props: dict, stage: str) -> dict:
    """AWS::Serverless::Api -> RestApi (the swagger as Body), a Deployment named by its content, the Stage."""
    unknown = set(props) - _API_PROPS
    if unknown:
        raise BuildError(f"{logical_id}: chalice wrote properties this build does not convert: {sorted(unknown)}")
    if props["EndpointConfiguration"] != "REGIONAL":
        raise BuildError(f"{logical_id}: the endpoint must be REGIONAL (China has no edge-optimised APIs)")
    if props["StageName"] != API_STAGE:
        raise BuildError(f"{logical_id}: stage {props['StageName']!r}; CloudFront's origin path expects {API_STAGE!r}")
    body = props["DefinitionBody"]
    # A new Deployment whenever the API changes (as SAM does); the Stage then points at it.
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
    deployment = f"{logical_id}Deployment{digest}"
    return {
        logical_id: {
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {"Name": f"baogong-{stage}", "Body": body, "EndpointConfiguration": {"Types": ["REGIONAL"]}},
        },
        deployment: {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {"RestApiId": {"Ref": logical_id}, "Description": f"baogong-{stage} {digest}"},
        },
        f"{logical_id}Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": {"Ref": logical_id},
                "DeploymentId": {"Ref": deployment},
                "StageName": props["StageName"],
                "MethodSettings": [{
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
                    "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
                    "MetricsEnabled": True,
                }],
            },
        },
    }


def convert(sam: dict, stage: str) -> tuple[dict, dict]:
    """chalice's SAM template -> (resources, outputs) in plain CloudFormation."""
    resources, seen = {}, set()
    for logical_id, resource in sam["Resources"].items():
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function":
            if logical_id not in FUNCTIONS:
                raise BuildError(f"chalice makes a function {logical_id} that infra/build.py FUNCTIONS does not "
                                 "declare: give it a role in infra/template.yaml and an entry in FUNCTIONS")
            seen.add(logical_id)
            converted = _function(logical_id, resource["Properties"], stage)
        elif kind == "AWS::Serverless::Api":
            converted = _api(logical_id, resource["Properties"], stage)
        elif kind == "AWS::Lambda::Permission":
            converted = {logical_id: copy.deepcopy(resource)}
        elif kind is None:
            raise BuildError(f"the merge template names {logical_id}, which chalice no longer makes")
        else:
            raise BuildError(f"{logical_id}: chalice wrote a {kind}, which this build does not know")
        clash = set(converted) & set(resources)
        if clash:
            raise BuildError(f"logical ids made twice: {sorted(clash)}")
        resources.update(converted)
    missing = set(FUNCTIONS) - seen
    if missing:
        raise BuildError(f"FUNCTIONS declares {sorted(missing)}, which chalice no longer makes")
    return resources, copy.deepcopy(sam.get("Outputs", {}))


def _pin_stage(template: dict, stage: str) -> None:
    """A template is built for one stage: names inside it (the table in the environment) say so."""
    template["Parameters"]["Stage"].update(Default=stage, AllowedValues=[stage])


def combine(stage: str, package_dir: Path) -> tuple[dict, dict]:
    sam = json.loads((package_dir / "sam.json").read_text())
    resources, outputs = convert(sam, stage)

    app = load_yaml(APP_TEMPLATE)
    _pin_stage(app, stage)
    clash = set(resources) & set(app["Resources"])
    if clash:
        raise BuildError(f"infra/template.yaml and chalice both define {sorted(clash)}")
    app["Resources"].update(resources)
    for key, output in outputs.items():
        app["Outputs"].setdefault(key, output)

    text = json.dumps(app, ensure_ascii=False)
    hashes = inline_script_hashes()
    if "__INLINE_SCRIPT_HASHES__" not in text:
        raise BuildError("infra/template.yaml's CSP lost its __INLINE_SCRIPT_HASHES__ place")
    app = json.loads(text.replace("__INLINE_SCRIPT_HASHES__", " ".join(hashes)))
    zipped = package_dir / "deployment.zip"
    app["Metadata"] = {"Baogong": {
        "stage": stage,
        "deployment_zip_sha256": hashlib.sha256(zipped.read_bytes()).hexdigest() if zipped.exists() else None,
        "functions": {logical_id: function_name(logical_id, stage) for logical_id in FUNCTIONS},
    }}

    data = load_yaml(DATA_TEMPLATE)
    _pin_stage(data, stage)
    return app, data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    merge = sub.add_parser("merge", help="write the stage's chalice merge template")
    merge.add_argument("--stage", required=True)
    merge.add_argument("out", type=Path)
    comb = sub.add_parser("combine", help="write app.json and data.json next to chalice's sam.json")
    comb.add_argument("--stage", required=True)
    comb.add_argument("package_dir", type=Path)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9]{1,15}", args.stage):
        parser.error("a stage is 2 to 16 lower-case letters and digits, starting with a letter")
    try:
        if args.command == "merge":
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(merge_template(args.stage), indent=2))
        else:
            app, data = combine(args.stage, args.package_dir)
            (args.package_dir / "app.json").write_text(json.dumps(app, indent=1, ensure_ascii=False))
            (args.package_dir / "data.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
            print(f"infra.build: {args.package_dir}/app.json ({len(app['Resources'])} resources) and data.json "
                  f"for stage {args.stage}")
    except BuildError as err:
        print(f"infra.build: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
