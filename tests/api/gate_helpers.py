"""What the gate's tests share (docs/api.md § The gate): a frozen clock, the uploads bucket, a site
for the demo community with its three kinds of staff (joined by invite), uploaded documents, a
delivery body that passes every rule, and the gate's steps.

Time is frozen at NOW (10:00 in Beijing); a delivery registered then arrives the next day, 26 hours
later, inside the default lead time of 24 h, with a test taken 2 hours before registering.
Fixtures are imported by name into the test modules that use them.
"""
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
import segno
import time_machine

from api import auth, aws, clock, config
from tests.api.helpers import create_community, get, post

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # 2026-12-01 10:00 in Beijing
ARRIVE_FROM = NOW + timedelta(hours=26)                    # 2026-12-02 12:00 in Beijing
ARRIVE_UNTIL = ARRIVE_FROM + timedelta(hours=4)            # 2026-12-02 16:00 in Beijing
TEST_AT = NOW - timedelta(hours=2)
DAY_BEFORE, ARRIVAL_DAY = "2026-12-01", "2026-12-02"        # Beijing days of NOW and ARRIVE_FROM

DOCUMENTS = ("health_code", "travel_record", "identity", "test_report", "commitment")
MB5 = 5 * 1024 * 1024

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """A resident ID number (GB 11643) with its check digit."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return first17 + "10X98765432"[total % 11]


DRIVER_ID = id_number("32010219800101123")      # 320102...: 南京市玄武区
PASSENGER_ID = id_number("32010619920315004")
OTHER_ID = id_number("11010519850720231")
ALL_IDS = (DRIVER_ID, PASSENGER_ID, OTHER_ID)
DRIVER_PHONE, PASSENGER_PHONE = "13912345678", "18688886666"
PLATE = "苏N12345"


def bad_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


# Small real files of each accepted kind, and a text file.
def _png() -> bytes:
    out = io.BytesIO()
    segno.make_qr("绿码 health code").save(out, kind="png", scale=3)
    return out.getvalue()


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Commitment / 48h negative test")
    page.save()
    return out.getvalue()


PNG = _png()
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + bytes(range(256)) * 8 + b"\xff\xd9")
PDF = _pdf()
TEXT = "这不是图片 / this is not an image\n".encode() * 20


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def frozen():
    """The clock stands at NOW for the whole test (tokens included); `frozen.move_to(...)` moves it on."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bucket(table):
    """The uploads bucket, empty, in the session's moto."""
    s3 = aws.client("s3")
    try:
        s3.create_bucket(Bucket=config.UPLOADS_BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": config.REGION})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    yield s3
    for item in s3.list_objects_v2(Bucket=config.UPLOADS_BUCKET).get("Contents", []):
        s3.delete_object(Bucket=config.UPLOADS_BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=config.UPLOADS_BUCKET)


@pytest.fixture
def gate(frozen, client, demo, bucket):
    """The demo community's site with two unloading points, and its staff."""
    return Gate.open(client, demo)


# --- staff ------------------------------------------------------------------------------------

def staff_id(token: str) -> str:
    return auth.from_headers({"authorization": f"Bearer {token}"}).subject


def invite(client, manager_token: str, role: str, scope_id: str) -> str:
    """A staff token through POST /api/invites and its accept."""
    made = post(client, "/api/invites", {"role": role, "scope_id": scope_id}, manager_token)
    assert made.status_code in (200, 201), made.body
    accepted = post(client, f"/api/invites/{made.json_body['code']}/accept", {})
    assert accepted.status_code in (200, 201), accepted.body
    assert (accepted.json_body["role"], accepted.json_body["scope_id"]) == (role, scope_id)
    return accepted.json_body["token"]


def site_staff(client, manager_token: str, site_id: str) -> dict:
    return {role: invite(client, manager_token, role, site_id) for role in ("reviewer", "gate_officer", "supervisor")}


def create_site(client, token: str, **body) -> dict:
    response = post(client, "/api/sites", body, token)
    assert response.status_code == 201, response.body
    return response.json_body


POINTS = [{"name": "1号卸货点", "route": "北门→主路→食堂后门"}, {"name": "2号卸货点", "route": "北门→东侧路"}]


class Gate:
    """One site and everything a test needs to act on it."""

    def __init__(self, client, demo: dict, site: dict, tokens: dict):
        self.client, self.demo, self.site, self.tokens = client, demo, site, tokens
        self.sid = site["site_id"]
        self.answers: list = []  # every response, for the scan of ID numbers

    @classmethod
    def open(cls, client, demo: dict) -> "Gate":
        site = create_site(client, demo["tokens"]["admin"], community_id=demo["community_id"],
                           unloading_points=POINTS)
        tokens = dict(demo["tokens"], **site_staff(client, demo["tokens"]["admin"], site["site_id"]))
        return cls(client, demo, site, tokens)

    # HTTP, remembering each answer
    def get(self, path: str, token: str):
        response = get(self.client, path, token)
        self.answers.append(response)
        return response

    def post(self, path: str, body, token: str, **headers):
        response = post(self.client, path, body, token, **headers)
        self.answers.append(response)
        return response

    @property
    def base(self) -> str:
        return f"/api/sites/{self.sid}"

    # documents
    def presign(self, token: str | None = None):
        return self.post(f"{self.base}/documents", {}, token or self.tokens["supplier"])

    def upload(self, body: bytes = PNG, content_type: str = "image/png", token: str | None = None) -> str:
        """Presign, then POST the file to S3 as the browser does (fields, Content-Type, file); the key."""
        response = self.presign(token)
        assert response.status_code == 201, response.body
        form = response.json_body
        sent = requests.post(form["url"], data={**form["fields"], "Content-Type": content_type},
                             files={"file": ("document", body, content_type)}, timeout=10)
        assert sent.status_code in (200, 201, 204), sent.text
        return form["key"]

    def documents(self, token: str | None = None) -> dict:
        kinds = {"health_code": (PNG, "image/png"), "travel_record": (JPEG, "image/jpeg"),
                 "identity": (JPEG, "image/jpeg"), "test_report": (PDF, "application/pdf"),
                 "commitment": (PDF, "application/pdf")}
        return {name: self.upload(*kinds[name], token=token) for name in DOCUMENTS}

    # registration
    def person(self, role: str = "driver", *, token: str | None = None, **overrides) -> dict:
        driver = role == "driver"
        body = {"role": role, "name": "张师傅" if driver else "李四",
                "id_number": DRIVER_ID if driver else PASSENGER_ID,
                "phone": DRIVER_PHONE if driver else PASSENGER_PHONE,
                "test_at": clock.iso(TEST_AT), "documents": None}
        body.update(overrides)
        if body["documents"] is None:
            body["documents"] = self.documents(token)
        return body

    def body(self, *, people: list | None = None, token: str | None = None, **overrides) -> dict:
        body = {"plate": PLATE, "vehicle_type": "van", "mode": "enter",
                "arrive_from": clock.iso(ARRIVE_FROM), "arrive_until": clock.iso(ARRIVE_UNTIL),
                "cargo": ["rice", "vegetables"], "round_ids": [], "note": "冷链车，司机不下车",
                "people": people if people is not None else [self.person(token=token)]}
        body.update(overrides)
        return body

    def register(self, body: dict, token: str | None = None, key: str | None = None):
        headers = {"idempotency_key": key} if key else {}
        return self.post(f"{self.base}/deliveries", body, token or self.tokens["supplier"], **headers)

    def registered(self, **overrides) -> dict:
        response = self.register(self.body(**overrides))
        assert response.status_code == 201, response.body
        return response.json_body

    def review(self, did: str, decision: str = "approve", token: str | None = None, **fields):
        return self.post(f"{self.base}/deliveries/{did}/review", {"decision": decision, **fields},
                         token or self.tokens["reviewer"])

    def approved(self, **overrides) -> dict:
        delivery = self.registered(**overrides)
        response = self.review(delivery["delivery_id"])
        assert response.status_code == 200, response.body
        assert response.json_body["status"] == "approved"
        return response.json_body

    def delivery(self, did: str, token: str | None = None) -> dict:
        response = self.get(f"{self.base}/deliveries/{did}", token or self.tokens["reviewer"])
        assert response.status_code == 200, response.body
        return response.json_body

    # the gate
    def step(self, did: str, action: str, token: str | None = None, **fields):
        return self.post(f"{self.base}/deliveries/{did}/gate", {"action": action, **fields},
                         token or self.tokens["gate_officer"])

    def done(self, did: str, action: str, **fields) -> dict:
        response = self.step(did, action, **fields)
        assert response.status_code == 200, response.body
        return response.json_body

    def log(self, day: str, token: str | None = None) -> dict:
        response = self.get(f"{self.base}/log?day={day}", token or self.tokens["supervisor"])
        assert response.status_code == 200, response.body
        return response.json_body


def another_site(client, demo: dict, name: str = "和平里小区") -> Gate:
    """A second community of the demo sub-district, its own site (one unloading point) and staff."""
    community = create_community(demo["sub_district_id"], name)
    site = create_site(client, demo["tokens"]["admin"], community_id=community["community_id"],
                       unloading_points=[{"name": "B区卸货点", "route": ""}])
    tokens = dict(demo["tokens"], **site_staff(client, demo["tokens"]["admin"], site["site_id"]))
    other = Gate(client, demo, site, tokens)
    other.community = community
    return other


def without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


def stable(delivery: dict) -> dict:
    """A delivery without `server_now`, which moves with the clock."""
    return without(delivery, "server_now")


def body_text(response) -> str:
    body = response.body
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


def full_ids_in(response) -> list[str]:
    """Which of the full ID numbers a response carries (JSON escapes none of these characters)."""
    text = body_text(response)
    try:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        pass
    return [number for number in ALL_IDS if number in text]


def names(fields: dict, path: str) -> bool:
    """Whether an error's `fields` name `path` (people.0.documents.health_code), flat or nested."""
    if any(key == path or key.startswith(path + ".") for key in map(str, fields)):
        return True
    node = fields
    for part in path.split("."):
        if not isinstance(node, dict):
            return False
        if part in node:
            node = node[part]
        elif part.isdigit() and int(part) in node:
            node = node[int(part)]
        else:
            return False
    return True


def gone(response) -> dict:
    """A 404 (the contract names no code for it), with both messages; its `error`."""
    assert response.status_code == 404, response.body
    error = response.json_body["error"]
    assert error["message"].strip() and error["message_en"].strip() and error["message"] != error["message_en"]
    return error


