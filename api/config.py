"""Settings read from the environment; a deployed stage gets them from its merge template (infra/build.py)."""
import os

STAGE = os.environ.get("BAOGONG_STAGE", "local")
TABLE_NAME = os.environ.get("BAOGONG_TABLE", f"baogong-{STAGE}")
REGION = os.environ.get("AWS_DEFAULT_REGION", "cn-north-1")
# Local stack only: where the embedded moto server listens. Unset in prod.
AWS_ENDPOINT = os.environ.get("BAOGONG_AWS_ENDPOINT") or None
TOKEN_SECRET_PARAM = os.environ.get("BAOGONG_TOKEN_SECRET_PARAM", f"/baogong/{STAGE}/token-secret")
EXPORTS_BUCKET = os.environ.get("BAOGONG_EXPORTS_BUCKET", f"baogong-{STAGE}-exports")
# Images people upload (payment QR codes). Kept apart from exports, which expire after 7 days.
UPLOADS_BUCKET = os.environ.get("BAOGONG_UPLOADS_BUCKET", f"baogong-{STAGE}-uploads")
# The address residents and staff open; join and invite links are built on it.
PUBLIC_URL = os.environ.get("BAOGONG_PUBLIC_URL", "").rstrip("/")
# Seconds to wait for a DynamoDB answer, and to connect. A call gets 4 attempts (PynamoDB's 3 retries) with
# botocore's backoff, so one hung call costs at most about 4 × (3 + 1) s + 7 s of backoff = 23 s: our 503 with
# Retry-After, not API Gateway's 504 at 29 s. The local stack raises the read timeout: moto answers one
# request at a time, so a burst of 300 orders queues behind a lock.
DYNAMODB_READ_TIMEOUT = float(os.environ.get("BAOGONG_DYNAMODB_READ_TIMEOUT", "3"))
DYNAMODB_CONNECT_TIMEOUT = float(os.environ.get("BAOGONG_DYNAMODB_CONNECT_TIMEOUT", "1"))
# Where background exports run (api/export_jobs.py): "lambda" (an asynchronous invocation of
# EXPORT_FUNCTION, in AWS), "thread" (a worker thread: `make dev`), "inline" (the tests).
EXPORT_RUNNER = os.environ.get("BAOGONG_EXPORT_RUNNER", "lambda")
EXPORT_FUNCTION = os.environ.get("BAOGONG_EXPORT_FUNCTION", f"baogong-{STAGE}-export_worker")
# SMS for notices (api/senders.py): "sns" sends through Amazon SNS; anything else, none (the default).
SMS = os.environ.get("BAOGONG_SMS", "off")
# Web Push (api/push.py): the VAPID private key (PEM) as an SSM SecureString; without it, push is off.
VAPID_KEY_PARAM = os.environ.get("BAOGONG_VAPID_KEY_PARAM", f"/baogong/{STAGE}/vapid-private-key")
VAPID_SUBJECT = os.environ.get("BAOGONG_VAPID_SUBJECT", "mailto:ops@baogong.example.cn")


# Rate limits (api/limits.py): on unless BAOGONG_RATE_LIMITS=off. The in-process tests turn them off
# (tests/conftest.py) and on again where they test them; `make dev` and every deployed stage run them.
RATE_LIMITS = os.environ.get("BAOGONG_RATE_LIMITS", "on").strip().lower() not in ("off", "0", "false", "no")


def _limit(name: str, default: str) -> tuple[int, int]:
    """BAOGONG_LIMIT_<NAME>=<requests>/<window seconds>, e.g. 1200/60; a malformed value stops the start."""
    text = os.environ.get(f"BAOGONG_LIMIT_{name}", default)
    count, _, seconds = text.partition("/")
    try:
        limit = (int(count), int(seconds))
    except ValueError:
        raise ValueError(f"BAOGONG_LIMIT_{name} must be <requests>/<seconds>, e.g. {default}; got {text!r}") from None
    if limit[0] < 1 or limit[1] < 1:
        raise ValueError(f"BAOGONG_LIMIT_{name} must be two positive whole numbers, e.g. {default}; got {text!r}")
    return limit


# (requests, window seconds) per caller; docs/api.md "Rate limits" says why these numbers.
LIMITS = {
    "ip_writes": _limit("IP_WRITES", "1200/60"),            # writes from one IP (many phones share one)
    "household_writes": _limit("HOUSEHOLD_WRITES", "30/600"),  # writes by one household's members
    "staff_writes": _limit("STAFF_WRITES", "600/600"),        # writes by one staff member
    "join": _limit("JOIN", "300/600"),                        # join-key look-ups and registrations from one IP
}
# Unknown join keys from one IP within the join window, before its join attempts are refused.
JOIN_MISSES = int(os.environ.get("BAOGONG_LIMIT_JOIN_MISSES", "20"))
