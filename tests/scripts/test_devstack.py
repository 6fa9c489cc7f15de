"""The dev stack's patch of moto's transaction rollback keeps all-or-nothing semantics."""
import boto3
import pytest
from botocore.exceptions import ClientError

from scripts import devstack


@pytest.fixture(scope="module")
def dynamodb():
    server, endpoint = devstack.start_moto()
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="cn-north-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                              {"AttributeName": "SK", "AttributeType": "S"}])
    yield client
    server.shutdown()


def _item(client, pk):
    return client.get_item(TableName="t", Key={"PK": {"S": pk}, "SK": {"S": "x"}}, ConsistentRead=True).get("Item")


def test_cancelled_transaction__restores_updated_items_and_removes_new_ones(dynamodb):
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "stock"}, "SK": {"S": "x"}, "n": {"N": "5"}})
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "gone"}, "SK": {"S": "x"}, "v": {"S": "keep me"}})
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "guard"}, "SK": {"S": "x"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "stock"}, "SK": {"S": "x"}},
                        "UpdateExpression": "SET n = n - :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "new"}, "SK": {"S": "x"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "gone"}, "SK": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "guard"}, "SK": {"S": "x"}},
                                "ConditionExpression": "n > :big", "ExpressionAttributeValues": {":big": {"N": "100"}}}},
        ])
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _item(dynamodb, "stock")["n"] == {"N": "5"}
    assert _item(dynamodb, "new") is None
    assert _item(dynamodb, "gone")["v"] == {"S": "keep me"}


def test_invalid_transaction__rolls_back_what_it_had_applied(dynamodb):
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "twice"}, "SK": {"S": "x"}, "n": {"N": "7"}})
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "twice"}, "SK": {"S": "x"}},
                        "UpdateExpression": "SET n = :zero", "ExpressionAttributeValues": {":zero": {"N": "0"}}}},
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "twice"}, "SK": {"S": "x"}, "n": {"N": "9"}}}},
        ])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _item(dynamodb, "twice")["n"] == {"N": "7"}


def test_successful_transaction__applies_every_item(dynamodb):
    dynamodb.put_item(TableName="t", Item={"PK": {"S": "ok"}, "SK": {"S": "x"}, "n": {"N": "1"}})
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": "t", "Key": {"PK": {"S": "ok"}, "SK": {"S": "x"}},
                    "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": "t", "Item": {"PK": {"S": "ok2"}, "SK": {"S": "x"}}}},
    ])
    assert _item(dynamodb, "ok")["n"] == {"N": "2"}
    assert _item(dynamodb, "ok2") is not None
