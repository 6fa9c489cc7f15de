"""Shared fixtures: moto for AWS (no hand-written fakes), the demo data, a Chalice test client."""
import os
import secrets

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "cn-north-1", "BAOGONG_STAGE": "test", "BAOGONG_TABLE": "baogong-test",
    "BAOGONG_PUBLIC_URL": "http://baogong.test", "BAOGONG_EXPORT_RUNNER": "inline",
    # Off in process: many tests count DynamoDB calls per request. tests/api/test_rate_limits.py turns them on.
    "BAOGONG_RATE_LIMITS": "off",
})
os.environ.pop("BAOGONG_AWS_ENDPOINT", None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from api import config  # noqa: E402


@pytest.fixture(scope="session")
def aws():
    """One moto mock for the session; each test gets a fresh table (see `table`)."""
    with mock_aws():
        import boto3
        boto3.client("ssm", region_name=config.REGION).put_parameter(
            Name=config.TOKEN_SECRET_PARAM, Value=secrets.token_hex(32), Type="SecureString")
        yield


@pytest.fixture
def table(aws):
    from api import models
    models.create_table()
    yield
    models.Item.delete_table()


@pytest.fixture
def demo(table):
    """A sub-district, community, supplier, open round with 3 bundles, and staff tokens."""
    from api import bootstrap
    return bootstrap.demo()


@pytest.fixture
def client(table):
    from chalice.test import Client

    from app import app
    with Client(app) as test_client:
        yield test_client


# The shared stack keeps its rate limits on (the counters are written as in prod) but far out of reach: the
# fuzz, the concurrency and the browser tests send thousands of requests from 127.0.0.1, a few tokens and
# wrong join keys. tests/stack/test_rate_limits.py starts a stack of its own with the real numbers.
SHARED_STACK_LIMITS = {
    "BAOGONG_LIMIT_IP_WRITES": "1000000/60", "BAOGONG_LIMIT_HOUSEHOLD_WRITES": "1000000/60",
    "BAOGONG_LIMIT_STAFF_WRITES": "1000000/60", "BAOGONG_LIMIT_JOIN": "1000000/60",
    "BAOGONG_LIMIT_JOIN_MISSES": "1000000",
}


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory):
    """The real local stack, started with `make dev`; yields its dev.json."""
    from tests.stackrunner import DevStack
    stack = DevStack(tmp_path_factory.mktemp("devstack"), env=SHARED_STACK_LIMITS).start()
    try:
        yield stack
    finally:
        stack.stop()
