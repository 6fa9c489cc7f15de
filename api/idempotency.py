"""Idempotency-Key handling, after AWS Lambda Powertools' idempotency utility.

A write done under a key leaves a record (conditional put: absent or expired,
with a TTL) in the same transaction as the write itself. The record keeps a
hash of the payload, so the same key with another body is refused rather than
answered with somebody else's result.
"""
import hashlib
import json
import re
from datetime import timedelta

from pynamodb.expressions.condition import Condition

from api import clock
from api.errors import BadInput, Conflict
from api.models import IdempotencyRecord

# Long enough for a phone that lost its signal to replay its outbox days later.
TTL = timedelta(days=7)
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


def key_from_headers(headers) -> str:
    key = headers.get("idempotency-key")
    if not key:
        raise BadInput("缺少 Idempotency-Key 请求头", "The Idempotency-Key header is required",
                       fields={"Idempotency-Key": ["必填 / Required"]})
    if not _KEY_PATTERN.match(key):
        raise BadInput("Idempotency-Key 格式不对", "Idempotency-Key is malformed",
                       fields={"Idempotency-Key": ["8 到 100 位字母、数字或 -_.: / 8-100 letters, digits or -_.:"]})
    return key


def payload_hash(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(caller: str, key: str, digest: str, result_pk: str, result_sk: str) -> IdempotencyRecord:
    return IdempotencyRecord(f"IDEMPOTENCY#{caller}#{key}", "IDEMPOTENCY", payload_hash=digest,
                             result_pk=result_pk, result_sk=result_sk, expires_at=clock.now() + TTL)


def put_condition() -> Condition:
    """Absent, or present but expired (TTL deletion lags by up to days)."""
    return IdempotencyRecord.pk.does_not_exist() | (IdempotencyRecord.expires_at < clock.now())


def find(caller: str, key: str, digest: str) -> IdempotencyRecord | None:
    """The live record under this key, or None; 409 if it was made for another payload."""
    try:
        found = IdempotencyRecord.get(f"IDEMPOTENCY#{caller}#{key}", "IDEMPOTENCY", consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
    if found.expires_at < clock.now():
        return None
    if found.payload_hash != digest:
        raise Conflict("这个 Idempotency-Key 已用于另一笔请求，请换一个新的",
                       "This Idempotency-Key was used for a different request; use a new key",
                       code="idempotency_key_reused")
    return found
