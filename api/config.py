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
# Seconds to wait for a DynamoDB answer. The local stack raises it: moto answers
# one request at a time, so a burst of 300 orders queues behind a lock.
DYNAMODB_READ_TIMEOUT = float(os.environ.get("BAOGONG_DYNAMODB_READ_TIMEOUT", "10"))
# Where background exports run (api/export_jobs.py): "lambda" (an asynchronous invocation of
# EXPORT_FUNCTION, in AWS), "thread" (a worker thread: `make dev`), "inline" (the tests).
EXPORT_RUNNER = os.environ.get("BAOGONG_EXPORT_RUNNER", "lambda")
EXPORT_FUNCTION = os.environ.get("BAOGONG_EXPORT_FUNCTION", f"baogong-{STAGE}-export_worker")
# SMS for notices (api/senders.py): "sns" sends through Amazon SNS; anything else, none (the default).
SMS = os.environ.get("BAOGONG_SMS", "off")
# Web Push (api/push.py): the VAPID private key (PEM) as an SSM SecureString; without it, push is off.
VAPID_KEY_PARAM = os.environ.get("BAOGONG_VAPID_KEY_PARAM", f"/baogong/{STAGE}/vapid-private-key")
VAPID_SUBJECT = os.environ.get("BAOGONG_VAPID_SUBJECT", "mailto:ops@baogong.example.cn")
