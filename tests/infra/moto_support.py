"""What of the final templates moto 5.2.5's CloudFormation can deploy, and what it cannot.

moto skips resource types it has no CloudFormation model for, and then fails on an Output that reads
an attribute of one. So the moto tests deploy the final template minus:

* the types moto has no model for (MOTO_LACKS, checked against moto's own model map), and
* AWS::ApiGateway::Deployment: moto's RestApi model ignores `Body` (the swagger), so the API has no
  methods and a Deployment is refused ("The REST API doesn't contain any methods"),

and minus the Outputs that name a left-out resource. Nothing that stays may refer to a left-out resource
(the helper fails if one does), so what moto creates is exactly the rest of the template.

Of the resources it does create, moto's models apply only some properties; IGNORED_PROPERTIES lists the
ones the tests found ignored (they assert that moto still ignores them, so an upgrade that starts
applying them shows up, and assert the template's values statically instead).
"""
import copy
import re

from moto.cloudformation.parsing import get_model_map

MOTO_LACKS = {
    "AWS::CloudFront::Distribution", "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::CloudFrontOriginAccessIdentity", "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy", "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::S3::BucketPolicy", "AWS::ApiGateway::Stage", "AWS::CloudWatch::Alarm", "AWS::SNS::Subscription",
}
MOTO_BREAKS = {"AWS::ApiGateway::Deployment"}
IGNORED_PROPERTIES = {
    "AWS::DynamoDB::Table": ["TimeToLiveSpecification", "PointInTimeRecoverySpecification"],
    "AWS::S3::Bucket": ["LifecycleConfiguration", "CorsConfiguration", "PublicAccessBlockConfiguration",
                        "OwnershipControls"],
}


def references(node):
    """Logical ids a piece of template refers to (Ref, GetAtt, ${…} in Sub, DependsOn)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0] if isinstance(value, list) else value.split(".")[0]
            elif key == "Fn::Sub":
                text, names = (value, {}) if isinstance(value, str) else value
                for name in re.findall(r"\$\{([^}!]+)\}", text):
                    if name.split(".")[0] not in names:
                        yield name.split(".")[0]
                yield from references(names)
            elif key == "DependsOn":
                yield from ([value] if isinstance(value, str) else value)
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def unsupported_types(template: dict) -> set[str]:
    return {r["Type"] for r in template["Resources"].values()} - set(get_model_map())


def for_moto(template: dict) -> tuple[dict, dict]:
    """(the template moto can deploy, {left-out logical id: its type})."""
    template = copy.deepcopy(template)
    supported = set(get_model_map())
    left_out = {lid: r["Type"] for lid, r in template["Resources"].items()
                if r["Type"] not in supported or r["Type"] in MOTO_BREAKS}
    template["Resources"] = {lid: r for lid, r in template["Resources"].items() if lid not in left_out}
    template["Outputs"] = {k: o for k, o in template.get("Outputs", {}).items()
                           if not set(references(o)) & set(left_out)}
    dangling = {lid: sorted(set(references(r)) & set(left_out)) for lid, r in template["Resources"].items()
                if set(references(r)) & set(left_out)}
    assert not dangling, f"resources moto would create refer to left-out ones: {dangling}"
    return template, left_out
