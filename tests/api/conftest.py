"""Every API test also checks the table's golden rule: no request path Scans; `dynamodb_calls` counts the rest."""
from collections import Counter

import pytest

from api import models


@pytest.fixture(autouse=True)
def no_scans(table):
    scans = []

    def refuse(model, **kwargs):
        scans.append(model.name)

    client = models.dynamodb_client()
    client.meta.events.register("before-call.dynamodb.Scan", refuse, unique_id="no-scans")
    yield
    client.meta.events.unregister("before-call.dynamodb.Scan", unique_id="no-scans")
    assert not scans, "a request path used Scan"


@pytest.fixture
def dynamodb_calls(table):
    """A Counter of the DynamoDB operations made while the test runs (clear() it to start counting)."""
    calls = Counter()

    def count(model, **kwargs):
        calls[model.name] += 1

    client = models.dynamodb_client()
    client.meta.events.register("before-call.dynamodb", count, unique_id="test-count")
    yield calls
    client.meta.events.unregister("before-call.dynamodb", unique_id="test-count")
