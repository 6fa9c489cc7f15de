"""Faults injected into the app's own DynamoDB client through botocore's event hooks (no fake of AWS).

    with injected() as faults:
        faults.inject("TransactWriteItems", "read_timeout")          # every attempt of the 1st call
        faults.inject("BatchGetItem", "throttle", call=1, attempts=2)  # its first two attempts only
        response = post(...)

Where each kind strikes, and what botocore does with it:

- "throttle", "throttling", "server_error", "read_timeout", "connect_timeout", "endpoint", "closed" strike
  one *attempt* (botocore's `before-send`, before moto sees the request). PynamoDB's client runs botocore's
  "standard" retry mode with 1 + max_retry_attempts (3) = 4 attempts, so a fault on up to 3 attempts of a
  call is absorbed by botocore, and one on all 4 reaches the app.
- "conflict" and "txn_throttle" are TransactionCanceledException answers to a whole TransactWriteItems
  call (`before-call`): botocore never retries those, so one is what the app sees.
- "lost" lets the attempt reach moto (the write lands), then loses the answer (ReadTimeoutError).
  botocore retries the same request: real DynamoDB answers a retry carrying the same ClientRequestToken
  (botocore adds one) as a success; moto ignores the token and runs it again, so the conditions refuse.
- "lost_after" loses the answer after botocore's retries are over (`after-call`): the write landed
  once, and the app gets ReadTimeoutError.

`call` counts the calls of `op` made since the injector was installed (1 = the first; op "*" counts
every operation, so call=3 is the request's third DynamoDB call); `attempts` how many attempts of
that call fail (None: all of them). `sequence` lists the operations called, in order.
"""
import contextlib
import json
import types
from dataclasses import dataclass, field

import botocore.awsrequest
import botocore.exceptions
import botocore.retries.standard
from moto.core.models import botocore_stubber

from api import models, order_state

ATTEMPTS_PER_CALL = 4  # PynamoDB's default max_retry_attempts (3) + 1: botocore's total_max_attempts

_ERROR_BODIES = {
    "throttle": (400, "ProvisionedThroughputExceededException",
                 "The level of configured provisioned throughput for the table was exceeded."),
    "throttling": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "server_error": (500, "InternalServerError", "Internal server error"),
}
_RAISED = {
    "read_timeout": lambda url: botocore.exceptions.ReadTimeoutError(endpoint_url=url),
    "connect_timeout": lambda url: botocore.exceptions.ConnectTimeoutError(endpoint_url=url),
    "endpoint": lambda url: botocore.exceptions.EndpointConnectionError(endpoint_url=url),
    "closed": lambda url: botocore.exceptions.ConnectionClosedError(endpoint_url=url),
}
_CANCELLED = {"conflict": "TransactionConflict", "txn_throttle": "ThrottlingError"}

PER_ATTEMPT = (*_ERROR_BODIES, *_RAISED)
WHOLE_CALL = tuple(_CANCELLED)
KINDS = (*PER_ATTEMPT, *WHOLE_CALL)


@dataclass
class Fault:
    op: str
    kind: str
    call: int = 1
    attempts: int | None = None
    struck: int = 0  # attempts (or calls) it has failed so far


@dataclass
class Injector:
    faults: list[Fault] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)  # op → the number of the call in flight
    sequence: list[str] = field(default_factory=list)  # the operations called, in order

    def inject(self, op: str, kind: str, *, call: int = 1, attempts: int | None = None) -> Fault:
        assert kind in KINDS or kind in ("lost", "lost_after"), kind
        fault = Fault(op, kind, call, attempts)
        self.faults.append(fault)
        return fault

    def _due(self, op: str, kinds) -> Fault | None:
        for fault in self.faults:
            if (fault.kind in kinds and fault.op in (op, "*") and self.current.get(fault.op) == fault.call
                    and (fault.attempts is None or fault.struck < fault.attempts)):
                return fault
        return None

    # before-call: once per call, before botocore's retry loop
    def before_call(self, model, params, **kwargs):
        op = model.name
        self.sequence.append(op)
        for counted in (op, "*"):
            self.calls[counted] = self.calls.get(counted, 0) + 1
            self.current[counted] = self.calls[counted]
        fault = self._due(op, WHOLE_CALL)
        if fault is None:
            return None
        fault.struck += 1
        items = len(json.loads(params["body"])["TransactItems"])
        reasons = [{"Code": _CANCELLED[fault.kind], "Message": "injected"}] + [{"Code": "None"}] * (items - 1)
        return (types.SimpleNamespace(status_code=400, headers={}),
                {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled (injected)"},
                 "CancellationReasons": reasons, "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}})

    # before-send: once per attempt
    def before_send(self, request, event_name, **kwargs):
        op = event_name.rsplit(".", 1)[-1]
        fault = self._due(op, (*PER_ATTEMPT, "lost"))
        if fault is None:
            return None
        fault.struck += 1
        if fault.kind in _RAISED:
            raise _RAISED[fault.kind](request.url)
        if fault.kind == "lost":
            botocore_stubber(event_name, request)  # moto does the work...
            raise botocore.exceptions.ReadTimeoutError(endpoint_url=request.url)  # ...and the answer is lost
        status, code, message = _ERROR_BODIES[fault.kind]
        # Our answer stands for DynamoDB's. moto's own before-send handler runs after ours (botocore calls
        # every handler); a URL it does not serve keeps it from doing the work the throttle refused.
        request.url = "http://fault-injected.invalid/"
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
        return botocore.awsrequest.AWSResponse(request.url, status, {"x-amzn-requestid": "injected"},
                                               _Raw(body))

    # after-call: once per call, after botocore's retries
    def after_call(self, model, **kwargs):
        fault = self._due(model.name, ("lost_after",))
        if fault is not None:
            fault.struck += 1
            raise botocore.exceptions.ReadTimeoutError(endpoint_url="https://dynamodb (after-call)")

    def clear(self) -> None:
        self.faults.clear()
        self.calls.clear()
        self.current.clear()
        self.sequence.clear()


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **kwargs):
        yield self._body


def _retry_quota(client):
    """botocore's retry quota of the client (standard mode): each retry spends from it, each success refills it.
    A shared client would carry one test's spending into the next; tests start it full."""
    entry = client.meta.events._emitter._unique_id_handlers["retry-config-dynamodb"]
    return entry["handler"].__self__._retry_quota._quota


@contextlib.contextmanager
def injected(monkeypatch=None):
    """An Injector hooked into the app's DynamoDB client for the block; botocore's and the app's
    backoff pauses are zero inside it (pauses are not what these tests check)."""
    client = models.dynamodb_client()
    injector = Injector()
    quota = _retry_quota(client)
    quota._available_capacity = quota._max_capacity
    with contextlib.ExitStack() as stack:
        if monkeypatch is not None:
            monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
            monkeypatch.setattr(order_state, "_BACKOFF_SECONDS", 0)
        events = client.meta.events
        events.register("before-call.dynamodb", injector.before_call, unique_id="faults-call")
        events.register_first("before-send.dynamodb", injector.before_send, unique_id="faults-send")
        events.register("after-call.dynamodb", injector.after_call, unique_id="faults-after")
        stack.callback(events.unregister, "before-call.dynamodb", unique_id="faults-call")
        stack.callback(events.unregister, "before-send.dynamodb", unique_id="faults-send")
        stack.callback(events.unregister, "after-call.dynamodb", unique_id="faults-after")
        yield injector
