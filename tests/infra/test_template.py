"""infra/template.yaml must describe the same table the models use, with PITR and TTL on."""
from pathlib import Path

import yaml

from api import models

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads !Ref, !Sub, !GetAtt, !If … as plain values."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node) if isinstance(node, yaml.MappingNode) else loader.construct_scalar(node)))


def _resources():
    return yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)["Resources"]


def test_table__keys_and_index_match_the_models():
    table = _resources()["Table"]["Properties"]
    schema = models.Item._get_schema()
    assert sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]) == \
        sorted((k["AttributeName"], k["KeyType"]) for k in schema["key_schema"])
    [gsi] = table["GlobalSecondaryIndexes"]
    [model_gsi] = schema["global_secondary_indexes"]
    assert gsi["IndexName"] == model_gsi["index_name"]
    assert sorted((k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]) == \
        sorted((k["AttributeName"], k["KeyType"]) for k in model_gsi["key_schema"])
    assert gsi["Projection"]["ProjectionType"] == "ALL"


def test_table__has_point_in_time_recovery_and_ttl_on_expires_at():
    table = _resources()["Table"]["Properties"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert models.IdempotencyRecord.expires_at.attr_name == "expires_at"


def test_api_role__may_not_scan_or_touch_other_tables():
    statements = _resources()["ApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert "dynamodb:Scan" not in actions and "dynamodb:*" not in actions
    assert not any(s["Resource"] == "*" for s in statements)
