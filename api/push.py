"""Web Push (VAPID, pywebpush) for notices, where the browser supports it and the resident allowed it.

Push services (FCM, Mozilla's, Apple's) are often unreachable from mainland China, so push is an
extra, never the only channel: the notice a phone polls (api/notices.py) always comes first. A
subscription belongs to one member's phone and sits in its building's partition, so a notice finds
its building's subscriptions with one Query. Sending is bounded: at most SEND_SECONDS of the request
that announced (a push service that does not answer must not hold up the liaison); sends still
running then are left to finish or lapse. A subscription the push service says is gone (404, 410)
is deleted. The VAPID private key is an SSM SecureString; without it push is off (404 `push_off`).
"""
import base64
import functools
import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta

from botocore.exceptions import ClientError

from api import aws, clock, config, households
from api.auth import Principal
from api.errors import NotFound, storage_errors
from api.models import Notice, PushSubscription

KEEP = timedelta(days=90)
SEND_SECONDS = 5.0
WORKERS = 16
_log = logging.getLogger(__name__)
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="push")


@functools.cache
def _vapid():
    """The VAPID key (py_vapid), or None when push is off (no key in SSM)."""
    try:
        pem = aws.client("ssm").get_parameter(Name=config.VAPID_KEY_PARAM, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise
    from py_vapid import Vapid02  # only push needs it

    return Vapid02.from_pem(pem.encode())


def _off() -> NotFound:
    return NotFound("此服务器未开启推送通知", "Push notifications are not set up on this server", code="push_off")


def public_key(principal: Principal) -> dict:
    """The application server key a browser subscribes with (base64url of the uncompressed P-256 point)."""
    households.require_member(principal)
    vapid = _vapid()
    if vapid is None:
        raise _off()
    from cryptography.hazmat.primitives import serialization

    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"public_key": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


def _key(principal: Principal, endpoint: str) -> tuple[str, str]:
    building = principal.flat_key.split("#", 1)[0]
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:32]
    return f"PUSH#{principal.community_id}#{building}", f"MEMBER#{principal.subject}#{digest}"


def subscribe(principal: Principal, data: dict) -> dict:
    """Keep this phone's subscription (a member only); subscribing again refreshes it."""
    households.require_member(principal)
    if _vapid() is None:
        raise _off()
    now = clock.now()
    item = PushSubscription(*_key(principal, data["endpoint"]), endpoint=data["endpoint"],
                            p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"], created_at=now,
                            expires_at=now + KEEP)
    with storage_errors():
        item.save()
    return {"subscribed": True}


def unsubscribe(principal: Principal, endpoint: str) -> dict:
    households.of_caller(principal)
    with storage_errors():
        PushSubscription(*_key(principal, endpoint)).delete()
    return {"subscribed": False}


def notify(notices: list[Notice]) -> int:
    """Push each notice to its building's subscribed phones; returns how many the push services accepted
    within SEND_SECONDS."""
    vapid = _vapid() if notices else None
    if vapid is None:
        return 0
    jobs = []
    with storage_errors():
        for notice in notices:
            for sub in PushSubscription.query(notice.pk.replace("NOTICE#", "PUSH#", 1)):
                jobs.append(_pool.submit(_send, vapid, sub, notice))
    done, _ = wait(jobs, timeout=SEND_SECONDS)
    return sum(1 for job in done if job.exception() is None and job.result())


def _send(vapid, sub: PushSubscription, notice: Notice) -> bool:
    from pywebpush import WebPushException, webpush

    payload = json.dumps({"title": "保供 取货通知" if notice.notice_kind == "slot" else "保供 货已到",
                          "body": notice.text, "notice_id": notice.notice_id, "url": "/#/orders"},
                         ensure_ascii=False)
    try:
        webpush({"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}, data=payload,
                vapid_private_key=vapid, vapid_claims={"sub": config.VAPID_SUBJECT}, timeout=SEND_SECONDS, ttl=3600)
        return True
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            sub.delete()  # the browser unsubscribed or the subscription expired
        else:
            _log.warning("push not sent: %s", status)  # never the endpoint: it identifies a phone
        return False
    except Exception as exc:  # noqa: BLE001 - an unreachable push service is normal here
        _log.warning("push not sent: %s", type(exc).__name__)
        return False
