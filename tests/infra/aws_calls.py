"""A pytest plugin that records which AWS actions the code calls, and from which function.

    BAOGONG_AWS_CALLS=calls.json .venv/bin/python -m pytest -p tests.infra.aws_calls tests/api tests/unit

writes {function: [[action, resource], ...]} where function is the Lambda function that would make the
call in AWS: `export_worker` (api/export_jobs.run), `expire_unpaid_orders` (api/payments.expire_due),
`daily_market_report` (api/monitoring.run_daily), `api` (any other code under api/), or `setup` (the
tests' own fixtures, the table's creation, bootstrap data). Actions are IAM actions: a TransactWriteItems
counts as the actions of its parts, HeadObject as s3:GetObject, a presigned URL or POST as the action it
lets its holder take (signing needs that right). Resources are named by kind: `table`, `index/GSI1`,
`uploads/payment-qr/`, `exports/exports/`, `parameter/token-secret`, `function/export_worker`, `sms`.

tests/infra/test_iam_inventory.py runs it over API tests and compares with each function's role; run it over
the whole of tests/api and tests/unit to take the inventory again (infra/README.md).
"""
import atexit
import json
import os
import sys
from collections import defaultdict

import botocore.client
import botocore.signers

CALLS: dict[str, set] = defaultdict(set)
_TX = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
# The innermost of these on the stack names the function; none, and code under api/ is the API's.
_MARKERS = (("run_daily", "/api/monitoring.py", "daily_market_report"),
            ("expire_due", "/api/payments.py", "expire_unpaid_orders"),
            ("run", "/api/export_jobs.py", "export_worker"),
            ("create_table", "/api/models.py", "setup"),  # tests and make dev; the stack makes the table in AWS
            (None, "/api/bootstrap.py", "setup"))  # demo data and the first admin, run from a desk, not Lambda


def _function() -> str:
    frame, in_api = sys._getframe(2), False
    while frame:
        name, filename = frame.f_code.co_name, frame.f_code.co_filename
        for marker, path, function in _MARKERS:
            if filename.endswith(path) and marker in (None, name):
                return function
        in_api = in_api or ("/api/" in filename and "/tests/" not in filename)
        frame = frame.f_back
    return "api" if in_api else "setup"


def _bucket(name: str, key: str) -> str:
    kind = "uploads" if name.endswith("-uploads") else "exports" if name.endswith("-exports") else name
    return f"{kind}/{key.split('/', 1)[0]}/"


def _record(function: str, service: str, operation: str, params: dict) -> None:
    calls = CALLS[function]
    if service == "dynamodb":
        if operation == "TransactWriteItems":
            for item in params.get("TransactItems", []):
                calls.add((f"dynamodb:{_TX[next(iter(item))]}", "table"))
        elif operation == "Query" and params.get("IndexName"):
            calls.add(("dynamodb:Query", f"index/{params['IndexName']}"))
        else:
            calls.add((f"dynamodb:{operation}", "table"))
    elif service == "s3" and "Key" in params:
        action = "GetObject" if operation in ("HeadObject", "GetObject") else operation
        calls.add((f"s3:{action}", _bucket(params["Bucket"], params["Key"])))
    elif service == "s3":
        calls.add((f"s3:{operation}", params.get("Bucket", "*")))
    elif service == "ssm":
        calls.add((f"ssm:{operation}", f"parameter/{params.get('Name', '').rsplit('/', 1)[-1]}"))
    elif service == "lambda" and operation == "Invoke":
        calls.add(("lambda:InvokeFunction", f"function/{params['FunctionName'].rsplit('-', 1)[-1]}"))
    elif service == "sns" and operation == "Publish":
        calls.add(("sns:Publish", "sms" if "PhoneNumber" in params else params.get("TopicArn", "?")))
    else:
        calls.add((f"{service}:{operation}", "?"))


_make_api_call = botocore.client.BaseClient._make_api_call


def _recording_call(self, operation, params):
    _record(_function(), self.meta.service_model.service_name, operation, params)
    return _make_api_call(self, operation, params)


_presign_url = botocore.signers.generate_presigned_url
_presign_post = botocore.signers.generate_presigned_post


def _recording_presign_url(self, ClientMethod, Params=None, *args, **kwargs):  # noqa: N803 - botocore's names
    operation = {"get_object": "GetObject", "put_object": "PutObject"}.get(ClientMethod, ClientMethod)
    _record(_function(), "s3", operation, Params or {})
    return _presign_url(self, ClientMethod, Params, *args, **kwargs)


def _recording_presign_post(self, Bucket, Key, *args, **kwargs):  # noqa: N803 - botocore's names
    _record(_function(), "s3", "PutObject", {"Bucket": Bucket, "Key": Key})
    return _presign_post(self, Bucket, Key, *args, **kwargs)


botocore.client.BaseClient._make_api_call = _recording_call
botocore.signers.generate_presigned_url = _recording_presign_url
botocore.signers.generate_presigned_post = _recording_presign_post


@atexit.register
def _write() -> None:
    out = os.environ.get("BAOGONG_AWS_CALLS")
    if out:
        with open(out, "w") as f:
            json.dump({function: sorted(calls) for function, calls in sorted(CALLS.items())}, f, indent=1)


def pytest_runtest_call(item):
    """Forget the token secret (api/auth.py caches it per process, as a warm Lambda does) once the test's
    fixtures have made their tokens, so the test's own requests read it as a cold API function would."""
    auth = sys.modules.get("api.auth")
    if auth is not None:
        auth._secret.cache_clear()
