"""Web Push for notices: a member's phone subscribes; announcing a slot pushes the notice, encrypted
(aes128gcm, VAPID-signed), to the phones of that building only. The push service here is a real
HTTP server on 127.0.0.1 that records what it receives; the test decrypts it with the phone's keys.

Push is off without a VAPID key (404 push_off), and a subscription the push service calls gone is deleted.
"""
import base64
import json
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api import aws, clock, config, push
from api.models import PushSubscription
from tests.api.helpers import create_round, error_of, fair_share_off, get, place_order, post, register


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushService:
    """Stands in for FCM / Mozilla's push service: records each POST and answers `status`."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append({"path": self.path, "body": body,
                                         "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(service.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def endpoint(self, name: str) -> str:
        # pywebpush posts to whatever URL the browser gave; a browser's is https, this one is local http.
        return f"http://127.0.0.1:{self.server.server_port}/push/{name}"


class Phone:
    """A browser's push keys: the P-256 key pair and the 16-byte auth secret."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        raw = self.private.public_key().public_bytes(serialization.Encoding.X962,
                                                     serialization.PublicFormat.UncompressedPoint)
        self.keys = {"p256dh": b64(raw), "auth": b64(self.auth)}

    def read(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def vapid(aws):
    from py_vapid import Vapid02
    key = Vapid02()
    key.generate_keys()
    aws_ssm = aws_client("ssm")
    aws_ssm.put_parameter(Name=config.VAPID_KEY_PARAM, Value=key.private_pem().decode(), Type="SecureString",
                          Overwrite=True)
    push._vapid.cache_clear()
    yield key
    aws_ssm.delete_parameter(Name=config.VAPID_KEY_PARAM)
    push._vapid.cache_clear()


def aws_client(name):
    return aws.client(name)


@pytest.fixture
def service():
    s = PushService()
    yield s
    s.server.shutdown()


@pytest.fixture(autouse=True)
def local_endpoints(monkeypatch):
    """The schema takes https endpoints only (as browsers give); the local push service speaks http."""
    from api import schemas
    monkeypatch.setattr(schemas.PushSubscriptionSchema._declared_fields["endpoint"], "validators",
                        schemas.PushSubscriptionSchema._declared_fields["endpoint"].validators[:1])


def subscribe(client, token, endpoint, phone):
    return post(client, "/api/push/subscriptions", {"endpoint": endpoint, "keys": phone.keys,
                                                    "expirationTime": None}, token)


@pytest.fixture
def slot(client, demo):
    """1栋 101 and 3栋 1单元 301 have orders; slots of one household each: 1栋 first."""
    fair_share_off(demo["community_id"])
    rnd = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    flats = {}
    for building, unit, room, phone in (("1栋", "", "101", "13900000101"), ("3栋", "1单元", "301", "13900000301")):
        flats[building] = register(client, demo["join_key"], building=building, unit=unit, room=room, phone=phone)
        assert place_order(client, flats[building]["token"], rnd["round_id"], (rnd["bundle_ids"][1], 1)).status_code == 201
    plan = post(client, f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/slots/generate",
                {"start_at": clock.iso(clock.now() + timedelta(hours=1)), "minutes_per_slot": 15,
                 "households_per_slot": 1, "building_order": ["1栋", "3栋"]}, demo["tokens"]["liaison"]).json_body
    return rnd, plan, flats


def announce(client, demo, rnd, slot_id):
    response = post(client, f"/api/communities/{demo['community_id']}/rounds/{rnd['round_id']}/slots/{slot_id}/announce",
                    {}, demo["tokens"]["liaison"])
    assert response.status_code == 201, response.body
    return response.json_body["notices"]


def test_push__without_a_vapid_key__is_off(client, demo, slot):
    push._vapid.cache_clear()
    _, _, flats = slot
    error_of(get(client, "/api/push/key", flats["1栋"]["token"]), 404, "push_off")
    error_of(subscribe(client, flats["1栋"]["token"], "https://push.example/x", Phone()), 404, "push_off")


def test_push__key_is_the_servers_public_key(client, demo, slot, vapid):
    _, _, flats = slot
    key = get(client, "/api/push/key", flats["1栋"]["token"]).json_body["public_key"]
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert key == b64(raw)


def test_push__announced_slot_reaches_its_buildings_phones_only_encrypted(client, demo, slot, vapid, service):
    rnd, plan, flats = slot
    here, there = Phone(), Phone()
    assert subscribe(client, flats["1栋"]["token"], service.endpoint("here"), here).status_code == 201
    assert subscribe(client, flats["3栋"]["token"], service.endpoint("there"), there).status_code == 201
    [notice] = announce(client, demo, rnd, plan["slots"][0]["slot_id"])  # 1栋's slot
    assert [r["path"] for r in service.received] == ["/push/here"]
    sent = service.received[0]
    assert sent["headers"]["content-encoding"] == "aes128gcm"
    assert sent["headers"]["authorization"].startswith("vapid t=")
    message = here.read(sent["body"])
    assert message["body"] == notice["text"] and message["notice_id"] == notice["notice_id"]
    assert "139" not in json.dumps(message, ensure_ascii=False)


def test_push__a_gone_subscription_is_deleted(client, demo, slot, vapid, service):
    rnd, plan, flats = slot
    subscribe(client, flats["1栋"]["token"], service.endpoint("gone"), Phone())
    service.status = 410
    announce(client, demo, rnd, plan["slots"][0]["slot_id"])
    assert len(service.received) == 1
    assert list(PushSubscription.query(f"PUSH#{demo['community_id']}#B001")) == []


def test_push__unsubscribe_stops_it(client, demo, slot, vapid, service):
    rnd, plan, flats = slot
    endpoint = service.endpoint("mine")
    subscribe(client, flats["1栋"]["token"], endpoint, Phone())
    response = post(client, "/api/push/subscriptions/remove", {"endpoint": endpoint}, flats["1栋"]["token"])
    assert response.status_code == 200 and response.json_body == {"subscribed": False}
    announce(client, demo, rnd, plan["slots"][0]["slot_id"])
    assert service.received == []


def test_push__pending_phone_cannot_subscribe_and_staff_403(client, demo, slot, vapid):
    _, _, flats = slot
    pending = register(client, demo["join_key"], building="1栋", room="101", phone="13900009101")
    error_of(subscribe(client, pending["token"], "https://push.example/p", Phone()), 404, "not_a_member")
    assert subscribe(client, demo["tokens"]["liaison"], "https://push.example/s", Phone()).status_code == 403


def test_push__bad_subscription__400(client, demo, slot, vapid):
    _, _, flats = slot
    response = post(client, "/api/push/subscriptions", {"endpoint": "x", "keys": {"p256dh": "short"}},
                    flats["1栋"]["token"])
    error = error_of(response, 400, "bad_input")
    assert "endpoint" in error["fields"] and "keys" in error["fields"]
