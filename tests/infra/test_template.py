"""infra/table.yaml must describe the same table the models use: on demand, PITR, TTL, deletion protection.

These read the source templates (no build); tests/infra/test_final_template.py reads what `make package` makes.
"""
from api import models
from infra import build


def _table():
    return build.load_yaml(build.DATA_TEMPLATE)["Resources"]["Table"]


def test_table__keys_and_index_match_the_models():
    table = _table()["Properties"]
    schema = models.Item._get_schema()
    assert sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]) == \
        sorted((k["AttributeName"], k["KeyType"]) for k in schema["key_schema"])
    [gsi] = table["GlobalSecondaryIndexes"]
    [model_gsi] = schema["global_secondary_indexes"]
    assert gsi["IndexName"] == model_gsi["index_name"]
    assert sorted((k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]) == \
        sorted((k["AttributeName"], k["KeyType"]) for k in model_gsi["key_schema"])
    assert gsi["Projection"]["ProjectionType"] == "ALL"
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]) == \
        sorted((a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"])


def test_table__on_demand_with_point_in_time_recovery_ttl_and_deletion_protection():
    table = _table()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert models.IdempotencyRecord.expires_at.attr_name == "expires_at"
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert props["TableName"] == {"Fn::Sub": "baogong-${Stage}"}


def test_data_stack__holds_only_the_table_and_exports_what_the_app_stack_imports():
    data = build.load_yaml(build.DATA_TEMPLATE)
    assert list(data["Resources"]) == ["Table"]
    exports = {o["Export"]["Name"]["Fn::Sub"] for o in data["Outputs"].values()}
    assert exports == {"baogong-${Stage}-table-name", "baogong-${Stage}-table-arn"}
    app_text = (build.APP_TEMPLATE).read_text()
    for name in exports:
        assert name in app_text


def test_yaml_loader__reads_short_forms_as_cloudformation_json(tmp_path):
    source = tmp_path / "t.yaml"
    source.write_text("A: !Ref X\nB: !GetAtt T.Arn\nC: !Sub ['${a}', {a: !Ref Y}]\nD: !If [C, 1, !Ref AWS::NoValue]\n"
                      "E: !Not [!Condition C]\n")
    assert build.load_yaml(source) == {
        "A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["T", "Arn"]}, "C": {"Fn::Sub": ["${a}", {"a": {"Ref": "Y"}}]},
        "D": {"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}, "E": {"Fn::Not": [{"Condition": "C"}]},
    }
