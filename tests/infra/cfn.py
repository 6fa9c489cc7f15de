"""Reading the final templates: conditions decided for a partition, IAM statements, Sub strings.

`concrete(template, region, **parameters)` is the template as CloudFormation would see it in that region
with those parameters: conditions evaluated, Fn::If branches taken, AWS::NoValue and resources whose
condition is false removed. Intrinsics other than Fn::If stay as they are.
"""
import copy
import json

from tests.packaging.package import built

_NO_VALUE = object()


def app_template() -> dict:
    return json.loads((built() / "app.json").read_text())


def data_template() -> dict:
    return json.loads((built() / "data.json").read_text())


def _value(node, env: dict, conditions: dict):
    if isinstance(node, dict) and len(node) == 1:
        (key, arg), = node.items()
        if key == "Ref":
            return env[arg]
        if key == "Condition":
            return conditions[arg]
        if key == "Fn::Equals":
            return _value(arg[0], env, conditions) == _value(arg[1], env, conditions)
        if key == "Fn::Not":
            return not _value(arg[0], env, conditions)
        if key == "Fn::And":
            return all(_value(a, env, conditions) for a in arg)
        if key == "Fn::Or":
            return any(_value(a, env, conditions) for a in arg)
    if isinstance(node, (str, int, float, bool)):
        return node
    raise ValueError(f"cannot evaluate {node!r} in a condition")


def conditions_for(template: dict, region: str, parameters: dict) -> dict:
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    env = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    env.update({k: str(v) for k, v in parameters.items()})
    env.update({"AWS::Region": region, "AWS::Partition": partition,
                "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"})
    decided: dict = {}

    class Lazy(dict):
        def __missing__(self, name):
            decided[name] = _value(template["Conditions"][name], env, self)
            return decided[name]

    lazy = Lazy()
    for name in template.get("Conditions", {}):
        lazy[name]  # noqa: B018 - evaluates and stores
    return decided


def _take_branches(node, conditions: dict):
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return _take_branches(yes if conditions[name] else no, conditions)
        if node == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        out = {}
        for key, value in node.items():
            taken = _take_branches(value, conditions)
            if taken is not _NO_VALUE:
                out[key] = taken
        return out
    if isinstance(node, list):
        return [t for t in (_take_branches(v, conditions) for v in node) if t is not _NO_VALUE]
    return node


def concrete(template: dict, region: str, **parameters) -> dict:
    template = copy.deepcopy(template)
    conditions = conditions_for(template, region, parameters)
    template["Resources"] = {lid: r for lid, r in template["Resources"].items()
                             if "Condition" not in r or conditions[r["Condition"]]}
    out = _take_branches(template, conditions)
    out["_conditions"] = conditions
    return out


def of_type(template: dict, kind: str) -> dict:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict, role: str) -> list[dict]:
    props = template["Resources"][role]["Properties"]
    return [s for policy in props.get("Policies", []) for s in as_list(policy["PolicyDocument"]["Statement"])]


def allowed_actions(statements: list[dict]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in as_list(s.get("Action", []))}


def sub_text(value) -> str:
    """The text of a Fn::Sub (either form) or a plain string."""
    if isinstance(value, str):
        return value
    sub = value["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]
