"""Domain errors, and the one place storage errors become domain errors.

Every error carries a Chinese message for people and its English alongside.
The HTTP mapping lives in app.py; domain modules only raise these.
"""
import contextlib

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


def _aws_code(exc: BaseException) -> str | None:
    while exc is not None:
        if isinstance(exc, ClientError):
            return exc.response.get("Error", {}).get("Code")
        exc = exc.__cause__
    return None


def is_throttle(exc: BaseException) -> bool:
    return _aws_code(exc) in _THROTTLE_CODES


def as_storage_busy(exc: BaseException) -> "StorageBusy | None":
    """The 503 a storage failure that escaped its module becomes, or None if it is not one (a bug: 500)."""
    if is_throttle(exc):
        return StorageBusy("系统繁忙，请稍后再试", "The system is busy; please retry shortly",
                           headers={"Retry-After": "2"})
    return None


@contextlib.contextmanager
def storage_errors():
    """Turn a DynamoDB throttle into a 503 with Retry-After; let everything else through."""
    try:
        yield
    except (PynamoDBException, ClientError) as exc:
        if is_throttle(exc):
            raise StorageBusy("系统繁忙，请稍后再试", "The system is busy; please retry shortly",
                              headers={"Retry-After": "2"}) from exc
        raise
