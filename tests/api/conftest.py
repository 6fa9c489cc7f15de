"""Every API test also checks the table's golden rule: no request path Scans."""
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
