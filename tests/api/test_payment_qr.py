"""收款码 payment QR: POST /api/payment-qr/uploads (a presigned S3 POST), rounds created with the QR's
text or an uploaded image's key, and GET /api/rounds/{round_id}/payment-qr (the image itself).

The uploads go through moto's S3 the way a browser sends them: a multipart POST of the presigned
form (moto answers `requests` too). moto does not enforce a POST policy, so the policy's
conditions are read back from the form; objects a policy would have refused are written with
put_object, as a stand-in for anything that reaches the bucket some other way.
"""
import base64
import io
import json
import re
import struct
import zlib
from datetime import datetime, timedelta, timezone

import pytest
import requests
import segno
import time_machine

from api import auth, aws, bootstrap, clock, config
from api.models import Round
from app import app
from tests.api.helpers import (
    create_community, create_round, create_sub_district, create_supplier, error_of, get, post, register,
    round_body, writes,
)

MB2 = 2 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ULID = r"[0-9A-HJKMNP-TV-Z]{26}"


def _png_of(text: str) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text).save(out, kind="png", scale=5)
    return out.getvalue()


# A real PNG (a screenshot of a code, say) and a JPEG header with a body: what a phone would upload.
UPLOADED_PNG = _png_of("wxp://f2f0-uploaded-code")
UPLOADED_JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                 + bytes(range(256)) * 8 + b"\xff\xd9")


@pytest.fixture(autouse=True)
def bucket(table):
    """The uploads bucket, empty, in the session's moto."""
    s3 = aws_s3()
    s3.create_bucket(Bucket=config.UPLOADS_BUCKET, CreateBucketConfiguration={"LocationConstraint": config.REGION})
    yield s3
    for item in s3.list_objects_v2(Bucket=config.UPLOADS_BUCKET).get("Contents", []):
        s3.delete_object(Bucket=config.UPLOADS_BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=config.UPLOADS_BUCKET)


def aws_s3():
    return aws.client("s3")


@pytest.fixture
def resident(client, demo):
    return register(client, demo["join_key"], building="1栋", room="101", phone="13812341234")


def staff_id(token: str) -> str:
    return auth.from_headers({"authorization": f"Bearer {token}"}).subject


def presign(client, token):
    return post(client, "/api/payment-qr/uploads", {}, token)


def upload(client, token, body: bytes, content_type: str = "image/png") -> str:
    """Presign, then POST the file to S3 as a browser form would; returns the key."""
    response = presign(client, token)
    assert response.status_code == 201, response.body
    form = response.json_body
    sent = requests.post(form["url"], data={**form["fields"], "Content-Type": content_type},
                         files={"file": ("qr", body, content_type)}, timeout=5)
    assert sent.status_code == 204, sent.text
    return form["key"]


def stray_object(key: str, body: bytes, content_type: str = "image/png") -> str:
    aws_s3().put_object(Bucket=config.UPLOADS_BUCKET, Key=key, Body=body, ContentType=content_type)
    return key


def create(client, body, token):
    with writes() as written:
        response = post(client, "/api/rounds", body, token)
    return response, written


def qr_of(client, round_id, token, accept="image/png,image/jpeg;q=0.9,*/*;q=0.8"):
    return get(client, f"/api/rounds/{round_id}/payment-qr", token, accept=accept)


def policy_of(form: dict) -> dict:
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def png_pixels(data: bytes) -> list[list[bool]]:
    """A greyscale or palette PNG's pixels as rows of `dark` flags (enough for segno's output)."""
    assert data.startswith(PNG_MAGIC)
    pos, chunks = 8, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.setdefault(kind, []).append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert colour in (0, 3) and depth <= 8 and interlace == 0
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = (width * depth + 7) // 8
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, up_left = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        previous = line
        bits = "".join(f"{byte:08b}" for byte in line)
        samples = [int(bits[x * depth:(x + 1) * depth], 2) for x in range(width)]
        if colour == 3:
            palette = chunks[b"PLTE"][0]
            rows.append([sum(palette[3 * s:3 * s + 3]) < 3 * 128 for s in samples])
        else:
            rows.append([s < (1 << depth) // 2 for s in samples])
    return rows


# --- the upload form ---------------------------------------------------------------------

def test_upload__supplier__is_201_with_a_15_minute_presigned_post_for_png_or_jpeg_up_to_2mb(client, demo):
    before = clock.now()
    response = presign(client, demo["tokens"]["supplier"])

    assert response.status_code == 201, response.body
    form = response.json_body
    assert re.fullmatch(rf"payment-qr/{demo['supplier_id']}/{ULID}", form["key"])
    assert form["fields"]["key"] == form["key"]
    assert form["max_bytes"] == MB2
    assert form["content_types"] == ["image/png", "image/jpeg"]
    assert config.UPLOADS_BUCKET in form["url"]
    policy = policy_of(form)
    assert ["content-length-range", 1, MB2] in policy["conditions"]
    assert ["starts-with", "$Content-Type", "image/"] in policy["conditions"]
    assert {"bucket": config.UPLOADS_BUCKET} in policy["conditions"]
    assert {"key": form["key"]} in policy["conditions"]
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert timedelta(minutes=14) <= expires - before <= timedelta(minutes=16)


def test_upload__liaison__gets_a_key_in_their_own_folder_and_each_form_a_new_key(client, demo):
    token = demo["tokens"]["liaison"]

    first, second = presign(client, token), presign(client, token)

    assert first.status_code == second.status_code == 201
    assert re.fullmatch(rf"payment-qr/{staff_id(token)}/{ULID}", first.json_body["key"])
    assert first.json_body["key"] != second.json_body["key"]


@pytest.mark.parametrize("role", ["volunteer", "info_officer", "admin"])
def test_upload__other_staff__is_403(client, demo, role):
    error_of(presign(client, demo["tokens"][role]), 403, "wrong_role")


def test_upload__resident__is_403(client, demo, resident):
    error_of(presign(client, resident["token"]), 403, "wrong_role")


def test_upload__without_token__is_401(client, demo):
    error_of(presign(client, None), 401, "unauthorized")


# --- a round with an uploaded image --------------------------------------------------------

def test_round_with_uploaded_png__stores_the_key_and_residents_get_the_same_bytes(client, demo, resident):
    key = upload(client, demo["tokens"]["supplier"], UPLOADED_PNG)
    body = round_body(demo["community_id"], payment_qr_key=key)
    del body["payment_qr"]

    response, written = create(client, body, demo["tokens"]["supplier"])

    assert response.status_code == 201, response.body
    created = response.json_body
    assert created["payment_qr_url"].startswith(f"/api/rounds/{created['round_id']}/payment-qr?expires=")
    assert created["payment_qr"] == ""
    assert sorted(written) == ["COMMUNITY", "DEADLINE", "ROUND", "ROUND"]
    assert Round.get(f"ROUND#{created['round_id']}", "ROUND").payment_qr_key == key
    image = qr_of(client, created["round_id"], resident["token"])
    assert image.status_code == 200, image.body
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Cache-Control"] == "private, max-age=3600"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.body == UPLOADED_PNG


def test_round_with_uploaded_jpeg__is_served_as_image_jpeg(client, demo, resident):
    key = upload(client, demo["tokens"]["supplier"], UPLOADED_JPEG, "image/jpeg")
    body = round_body(demo["community_id"], payment_qr_key=key, payment_qr=None)

    response, _ = create(client, body, demo["tokens"]["supplier"])

    assert response.status_code == 201, response.body
    image = qr_of(client, response.json_body["round_id"], resident["token"], accept="image/jpeg")
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.body == UPLOADED_JPEG


def test_round_with_image__content_type_comes_from_the_bytes_not_the_upload(client, demo, resident):
    """A PNG uploaded as image/jpeg is served as what it is."""
    key = upload(client, demo["tokens"]["supplier"], UPLOADED_PNG, "image/jpeg")
    body = round_body(demo["community_id"], payment_qr_key=key, payment_qr=None)

    response, _ = create(client, body, demo["tokens"]["supplier"])

    assert response.status_code == 201, response.body
    assert qr_of(client, response.json_body["round_id"], resident["token"]).headers["Content-Type"] == "image/png"


def test_liaison__may_use_their_own_upload_or_the_named_suppliers(client, demo):
    own = upload(client, demo["tokens"]["liaison"], UPLOADED_PNG)
    suppliers = upload(client, demo["tokens"]["supplier"], UPLOADED_PNG)

    for key in (own, suppliers):
        body = round_body(demo["community_id"], payment_qr_key=key, payment_qr=None, supplier_id=demo["supplier_id"])
        response, _ = create(client, body, demo["tokens"]["liaison"])
        assert response.status_code == 201, response.body


def test_image_replaced_by_something_else_after_the_round_was_made__is_not_served(client, demo, resident):
    key = upload(client, demo["tokens"]["supplier"], UPLOADED_PNG)
    response, _ = create(client, round_body(demo["community_id"], payment_qr_key=key, payment_qr=None),
                         demo["tokens"]["supplier"])
    assert response.status_code == 201, response.body
    stray_object(key, b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml")

    error_of(qr_of(client, response.json_body["round_id"], resident["token"]), 404, "not_found")


# --- a round with the QR's text ------------------------------------------------------------

def test_text_round__is_drawn_by_segno_as_a_png_big_enough_to_scan(client, demo, resident):
    text = "wxp://f2f0-demo-supplier-payment-code"  # the demo round's

    image = qr_of(client, demo["round_id"], resident["token"])

    assert image.status_code == 200, image.body
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Cache-Control"] == "private, max-age=3600"
    assert image.body.startswith(PNG_MAGIC)
    pixels = png_pixels(image.body)
    expected = segno.make_qr(text)  # a full QR code: phones' wallets do not read Micro QR
    modules = len(expected.matrix)
    assert len(pixels) == len(pixels[0]) == (modules + 2 * 4) * 8  # 8 px a module, 4 modules of quiet zone
    drawn = [[pixels[(4 + y) * 8 + 4][(4 + x) * 8 + 4] for x in range(modules)] for y in range(modules)]
    assert drawn == [[bool(m) for m in row] for row in expected.matrix]
    assert not any(pixels[2]) and not any(row[2] for row in pixels)  # the quiet zone is light


def test_text_round__view_and_listing_carry_the_payment_qr_url(client, demo, resident):
    response = get(client, f"/api/rounds?community_id={demo['community_id']}", resident["token"])

    [rnd] = response.json_body["rounds"]
    assert rnd["payment_qr_url"].startswith(f"/api/rounds/{demo['round_id']}/payment-qr?expires=")
    assert rnd["payment_qr"] == "wxp://f2f0-demo-supplier-payment-code"


# --- the signed link an <img> uses (it cannot send a token) -----------------------

def _image_link(client, demo, resident) -> str:
    listed = get(client, f"/api/rounds?community_id={demo['community_id']}", resident["token"]).json_body["rounds"]
    return next(r for r in listed if r["round_id"] == demo["round_id"])["payment_qr_url"]


def test_signed_link__serves_the_image_without_a_token(client, demo, resident):
    link = _image_link(client, demo, resident)

    response = client.http.get(link, headers={"accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.body.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("tamper", [
    lambda link: link[:-4] + "0000",                                   # a forged signature
    lambda link: re.sub(r"expires=(\d+)", lambda m: f"expires={int(m.group(1)) + 86400}", link),  # a longer life
    lambda link: link.replace("/payment-qr?", "/payment-qr?x=1&"),     # an unknown parameter
])
def test_signed_link__altered__is_refused_and_serves_nothing(client, demo, resident, tamper):
    response = client.http.get(tamper(_image_link(client, demo, resident)), headers={"accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"})

    assert response.status_code in (400, 404)
    assert not response.body.startswith(b"\x89PNG")


def test_signed_link__for_another_round__is_404(client, demo, resident):
    other = create_round(demo["tokens"]["supplier"], [demo["community_id"]])
    link = _image_link(client, demo, resident).replace(demo["round_id"], other["round_id"])

    assert client.http.get(link, headers={"accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"}).status_code == 404


def test_signed_link__after_it_expires__is_404(client, demo, resident):
    link = _image_link(client, demo, resident)
    expires = int(re.search(r"expires=(\d+)", link).group(1))

    with time_machine.travel(datetime.fromtimestamp(expires + 1, tz=timezone.utc), tick=False):
        assert client.http.get(link, headers={"accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"}).status_code == 404


def test_text_too_long_for_a_qr_code__is_400_naming_payment_qr(client, demo):
    response, written = create(client, round_body(demo["community_id"], payment_qr="€" * 1000),
                               demo["tokens"]["supplier"])

    assert set(error_of(response, 400, "bad_input")["fields"]) == {"payment_qr"}
    assert written == []


# --- bad input: 400, nothing written ----------------------------------------------------------

def _missing(client, demo):
    return f"payment-qr/{demo['supplier_id']}/01JB0000000000000000000000"


def _text_as_png(client, demo):
    return upload(client, demo["tokens"]["supplier"], "这不是图片 not an image\n".encode(), "image/png")


def _over_2mb(client, demo):
    # S3 refuses this under the real policy; put straight in, the round must still refuse it.
    return stray_object(f"payment-qr/{demo['supplier_id']}/01JB0000000000000000000001", UPLOADED_PNG + bytes(MB2))


def _empty(client, demo):
    return stray_object(f"payment-qr/{demo['supplier_id']}/01JB0000000000000000000002", b"")


def _gif(client, demo):
    return upload(client, demo["tokens"]["supplier"], b"GIF89a" + bytes(64), "image/gif")


def _another_suppliers(client, demo):
    other = create_supplier(demo["sub_district_id"])
    return upload(client, other["token"], UPLOADED_PNG)


def _not_an_upload_key(client, demo):
    return stray_object("exports/someone-elses-file.png", UPLOADED_PNG)


@pytest.mark.parametrize("make_key", [_missing, _text_as_png, _over_2mb, _empty, _gif, _another_suppliers,
                                      _not_an_upload_key], ids=lambda f: f.__name__.strip("_"))
def test_create__bad_payment_qr_key__is_400_naming_it_and_writes_nothing(client, demo, make_key):
    key = make_key(client, demo)
    body = round_body(demo["community_id"], payment_qr_key=key, payment_qr=None)

    response, written = create(client, body, demo["tokens"]["supplier"])

    error = error_of(response, 400, "bad_input")
    assert set(error["fields"]) == {"payment_qr_key"}
    [message] = error["fields"]["payment_qr_key"]
    assert " / " in message  # 中文 / English
    assert written == []


def test_create__over_2mb__says_so(client, demo):
    body = round_body(demo["community_id"], payment_qr_key=_over_2mb(client, demo), payment_qr=None)

    response, _ = create(client, body, demo["tokens"]["supplier"])

    assert "2 MB" in error_of(response, 400, "bad_input")["message_en"]


def test_create__text_file_saved_as_png__says_it_must_be_png_or_jpeg(client, demo):
    body = round_body(demo["community_id"], payment_qr_key=_text_as_png(client, demo), payment_qr=None)

    response, _ = create(client, body, demo["tokens"]["supplier"])

    assert "PNG or JPEG" in error_of(response, 400, "bad_input")["message_en"]


def test_create__both_payment_qr_and_key__is_400_naming_both(client, demo):
    key = upload(client, demo["tokens"]["supplier"], UPLOADED_PNG)

    response, written = create(client, round_body(demo["community_id"], payment_qr_key=key),
                               demo["tokens"]["supplier"])

    fields = error_of(response, 400, "bad_input")["fields"]
    assert set(fields) == {"payment_qr", "payment_qr_key"}
    assert fields["payment_qr"] == ["收款码文字和收款码图片只能填一个 / Give payment_qr or payment_qr_key, not both"]
    assert written == []


def test_create__neither_payment_qr_nor_key__is_400_naming_both(client, demo):
    body = round_body(demo["community_id"])
    del body["payment_qr"]

    response, written = create(client, body, demo["tokens"]["supplier"])

    fields = error_of(response, 400, "bad_input")["fields"]
    assert set(fields) == {"payment_qr", "payment_qr_key"}
    assert all(" / " in m for m in fields["payment_qr_key"])
    assert written == []


# --- who may see the image ----------------------------------------------------------------

@pytest.mark.parametrize("role", ["supplier", "liaison", "volunteer", "info_officer", "admin"])
def test_get__the_rounds_supplier_and_the_communitys_staff__see_it(client, demo, role):
    response = qr_of(client, demo["round_id"], demo["tokens"][role])

    assert response.status_code == 200, response.body
    assert response.body.startswith(PNG_MAGIC)


def test_get__pending_phone_of_the_community__sees_it(client, demo, resident):
    pending = register(client, demo["join_key"], building="1栋", room="101", phone="13712341112")
    assert pending["membership"] == "pending"

    assert qr_of(client, demo["round_id"], pending["token"]).status_code == 200


def test_get__resident_of_a_community_the_round_serves_among_several__sees_it(client, demo):
    second = create_community(demo["sub_district_id"])
    shared = create_round(demo["tokens"]["supplier"], [demo["community_id"], second["community_id"]])
    neighbour = register(client, second["join_key"])

    assert qr_of(client, shared["round_id"], neighbour["token"]).status_code == 200


def test_get__resident_of_another_community__is_404(client, demo):
    elsewhere = create_community(demo["sub_district_id"])
    stranger = register(client, elsewhere["join_key"], building="2栋", room="202", phone="13700002222")

    error_of(qr_of(client, demo["round_id"], stranger["token"]), 404, "not_found")


def test_get__staff_of_another_community_or_supplier__is_404(client, demo):
    elsewhere = create_community(demo["sub_district_id"])
    liaison = bootstrap.create_staff("liaison", elsewhere["community_id"])
    supplier = create_supplier(demo["sub_district_id"])
    admin = create_sub_district()

    for token in (liaison, supplier["token"], admin["token"]):
        error_of(qr_of(client, demo["round_id"], token), 404, "not_found")


def test_get__unknown_round__is_404(client, demo, resident):
    error_of(qr_of(client, "01JB0000000000000000000000", resident["token"]), 404, "not_found")


def test_get__removed_phone__is_401(client, demo, resident):
    other = register(client, demo["join_key"], building="1栋", room="101", phone="13712341112")
    post(client, f"/api/households/mine/members/{other['member_id']}/remove", {}, resident["token"])

    error_of(qr_of(client, demo["round_id"], other["token"]), 401, "membership_ended")


def test_get__without_token__is_401(client, demo):
    error_of(qr_of(client, demo["round_id"], None), 401, "unauthorized")


# --- wiring ---------------------------------------------------------------------------------

def test_app__answers_png_and_jpeg_as_binary():
    """Chalice's default binary types include both; API Gateway must pass them through as bytes."""
    assert {"image/png", "image/jpeg"} <= set(app.api.binary_types)


def test_openapi__documents_both_routes(client):
    paths = client.http.get("/api/openapi.json").json_body["paths"]

    upload_doc = paths["/api/payment-qr/uploads"]["post"]
    assert {"201", "401", "403"} <= set(upload_doc["responses"])
    assert paths["/api/rounds/{round_id}/payment-qr"]["get"]["security"] == [{"bearer": []}]
