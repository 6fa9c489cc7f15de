"""Domain errors, and the one place storage errors become domain errors.

Every error carries a Chinese message for people and its English alongside.
The HTTP mapping lives in app.py; domain modules only raise these.
"""
import contextlib
import functools

import botocore.exceptions

from botocore.exceptions import ClientError
from chalice import ChaliceUnhandledError
from pynamodb.exceptions import PynamoDBException

_THROTTLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
}


class DomainError(ChaliceUnhandledError):
    """Base: a refusal a person can read, with a machine code and HTTP status.

    ChaliceUnhandledError is only a marker: Chalice lets it pass its view
    wrapper so that app.py's middleware can map it, instead of turning it
    into Chalice's own 500 body.
    """

    status = 500
    code = "internal_error"

    def __init__(self, message: str, message_en: str, *, code: str | None = None,
                 fields: dict | None = None, headers: dict | None = None):
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        self.code = code or self.code
        self.fields = fields or {}
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message,
                          "message_en": self.message_en, "fields": self.fields}}


class BadInput(DomainError):
    """400: the request is malformed; `fields` says what to fix."""
    status, code = 400, "bad_input"


class Unauthorized(DomainError):
    """401: no token, or a token that is forged, expired or malformed."""
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    """403: a valid token whose role or scope does not allow this."""
    status, code = 403, "forbidden"


class NotFound(DomainError):
    """404: absent, or not yours to see (we never confirm another household's data exists)."""
    status, code = 404, "not_found"


class Conflict(DomainError):
    """409: the request clashes with what is stored (a reused idempotency key, a used invite)."""
    status, code = 409, "conflict"


class Refused(DomainError):
    """422: well-formed, but a business rule says no (sold out, over the limit, round closed)."""
    status, code = 422, "refused"


class TooLarge(DomainError):
    """413: too large to answer in one request (an export past its limit): use the background path."""
    status, code = 413, "too_large"


class TooManyRequests(DomainError):
    """429: the caller must slow down."""
    status, code = 429, "too_many_requests"


class StorageBusy(DomainError):
    """503: DynamoDB throttled us; the client should retry after a pause."""
    status, code = 503, "storage_busy"


# Transient by nature: retrying the same request later may well succeed. DynamoDB's own 5xx codes
# are here as well as its throttles; a transaction cancelled only for throttled items is one too.
_TRANSIENT_CODES = _THROTTLE_CODES | {"InternalServerError", "ServiceUnavailable", "RequestTimeout",
                                      "RequestTimeoutException", "SlowDown"}
_THROTTLE_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
# Lost on the way: no answer, a timeout, a dropped connection. The write may or may not have landed;
# the client retries with its Idempotency-Key, which makes the retry safe.
_NETWORK_ERRORS = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)


def _chain(exc: BaseException | None):
    """`exc` and what caused it: PynamoDB keeps botocore's error in `.cause` (it raises without `from`).
    Not `__context__`: a bug raised while handling a throttle is still a bug."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or getattr(exc, "cause", None)


def _aws_code(exc: BaseException) -> str | None:
    for link in _chain(exc):
        if isinstance(link, ClientError):
            return link.response.get("Error", {}).get("Code")
    return None


def _cancellation_codes(exc: BaseException) -> set[str]:
    """The reasons DynamoDB gave for cancelling a transaction (TransactionCanceledException), if it did."""
    for link in _chain(exc):
        reasons = getattr(link, "cancellation_reasons", None)
        if reasons:
            return {r.code for r in reasons if r is not None}
        if isinstance(link, ClientError) and link.response.get("CancellationReasons"):
            return {r.get("Code") for r in link.response["CancellationReasons"]} - {"None", None}
    return set()


def condition_failed(exc: BaseException) -> bool:
    """A conditional write refused by its condition (ConditionalCheckFailedException).

    Use this, not PynamoDB's `exc.cause_response_code`: that property raises AttributeError when the
    cause is a timeout (botocore's ReadTimeoutError and ConnectTimeoutError carry `response = None`).
    """
    return _aws_code(exc) == "ConditionalCheckFailedException"


def is_throttle(exc: BaseException) -> bool:
    """DynamoDB throttled the request: the whole call, or a transaction's items (its cancellation reasons)."""
    if _aws_code(exc) in _THROTTLE_CODES:
        return True
    reasons = _cancellation_codes(exc)
    return bool(reasons) and reasons <= {"ThrottlingError", "ProvisionedThroughputExceeded"}


def is_transient(exc: BaseException) -> bool:
    """A throttle, a DynamoDB or S3 5xx, a timeout or a dropped connection: worth the same request again later."""
    if is_throttle(exc) or _aws_code(exc) in _TRANSIENT_CODES:
        return True
    return any(isinstance(link, _NETWORK_ERRORS) for link in _chain(exc))


def is_conflict(exc: BaseException) -> bool:
    """A transaction cancelled only because another one held its items: nothing was written."""
    reasons = _cancellation_codes(exc)
    return "TransactionConflict" in reasons and reasons <= _THROTTLE_REASONS


def _busy() -> "StorageBusy":
    return StorageBusy("系统繁忙，请稍后再试", "The system is busy; please retry shortly",
                       headers={"Retry-After": "2"})


def as_storage_busy(exc: BaseException) -> "StorageBusy | None":
    """The 503 a storage failure that escaped its module becomes, or None if it is not one (a bug: 500).

    Wider than storage_errors(): a TransactionConflict that reaches here was not retried by its
    module, and is as transient as a throttle.
    """
    if isinstance(exc, DomainError):
        return None
    if is_transient(exc) or is_conflict(exc):
        return _busy()
    return None


@contextlib.contextmanager
def storage_errors():
    """Turn a throttle, a timeout or a lost connection into a 503 with Retry-After; let everything else through.

    A TransactionConflict passes: the modules that write transactions retry it themselves
    (api/order_state.py); one that does not is caught by `guarded` around its view.
    """
    try:
        yield
    except (PynamoDBException, ClientError, botocore.exceptions.BotoCoreError) as exc:
        if is_transient(exc):
            raise _busy() from exc
        raise


def guarded(view):
    """A route's view, with every storage failure that escapes it turned into StorageBusy (503).

    Chalice turns any exception a view raises into its own 500 before middleware sees it;
    only a DomainError (a ChaliceUnhandledError) gets through to app.py's error middleware.
    So this runs inside Chalice's wrapper, around each view (api/openapi.py's `documented`).
    """
    @functools.wraps(view)
    def view_with_storage_errors(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except DomainError:
            raise
        except Exception as exc:
            busy = as_storage_busy(exc)
            if busy is None:
                raise
            raise busy from exc
    return view_with_storage_errors
