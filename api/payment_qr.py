"""收款码 payment QR: the code residents scan with WeChat Pay or Alipay to pay a round's supplier.

A round carries its QR one of two ways:

- `payment_qr`: the QR's text (`wxp://…`, `https://qr.alipay.com/…`), drawn here as a PNG with
  segno when a resident asks for it;
- `payment_qr_key`: a picture of the code the supplier (or liaison) uploaded. The browser sends
  it straight to S3 with a presigned POST (`presign_upload`); creating the round checks the
  object really is a PNG or JPEG of at most 2 MB (`check_upload`).

S3 only enforces the size and a Content-Type starting with `image/`; what counts is the file's
first bytes, checked when the round is created and again whenever the image is served, so the
Content-Type we answer with always comes from the bytes, never from what the uploader claimed.
"""
import io
import re

from botocore.exceptions import ClientError

from api import auth, aws, clock, communities, config, households, ids
from api.auth import Principal
from api.errors import BadInput, Forbidden, NotFound, storage_errors
from api.models import Round

MAX_BYTES = 2 * 1024 * 1024
UPLOAD_SECONDS = 15 * 60
CONTENT_TYPES = ("image/png", "image/jpeg")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
_SNIFF_BYTES = 16
_PREFIX = "payment-qr/"
_KEY = re.compile(r"^payment-qr/([0-9A-Za-z]{1,40})/[0-9A-HJKMNP-TV-Z]{26}\Z")
_MISSING = ("404", "NoSuchKey", "403", "AccessDenied")
LINK_DAYS = 7
_DAY = 86_400
# Big enough to scan from a phone screen: 8 px a module, the standard 4-module quiet zone.
SCALE, BORDER = 8, 4


def _owner(principal: Principal) -> str:
    """Whose folder an upload goes in: a supplier's (any of its staff), else the staff member's."""
    return principal.scope_id if principal.role == "supplier" else principal.subject


def presign_upload(principal: Principal) -> dict:
    """A presigned S3 POST for one payment QR image: PNG or JPEG, 1 byte to 2 MB, for 15 minutes."""
    key = f"{_PREFIX}{_owner(principal)}/{ids.new_id()}"
    post = aws.client("s3").generate_presigned_post(
        Bucket=config.UPLOADS_BUCKET, Key=key, ExpiresIn=UPLOAD_SECONDS,
        Conditions=[["content-length-range", 1, MAX_BYTES], ["starts-with", "$Content-Type", "image/"]])
    return {"url": post["url"], "fields": post["fields"], "key": key, "max_bytes": MAX_BYTES,
            "content_types": list(CONTENT_TYPES)}


def _bad_key(message: str, message_en: str) -> BadInput:
    return BadInput(message, message_en, fields={"payment_qr_key": [f"{message} / {message_en}"]})


def _sniff(head: bytes) -> str | None:
    return next((content_type for magic, content_type in _MAGIC if head.startswith(magic)), None)


def _s3_missing(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in _MISSING


def check_upload(principal: Principal, key: str, supplier_id: str) -> str:
    """The uploaded image's content type, after checking it is there, small enough and really a PNG
    or JPEG; otherwise a 400 on `payment_qr_key` saying what to fix.

    The key must be in the caller's own upload folder or the round's supplier's.
    """
    match = _KEY.match(key)
    if match is None or match.group(1) not in (_owner(principal), supplier_id):
        raise _bad_key("收款码图片无效，请重新上传", "This is not one of your uploads; upload the QR image again")
    s3 = aws.client("s3")
    try:
        head = s3.head_object(Bucket=config.UPLOADS_BUCKET, Key=key)
        size = head["ContentLength"]
        if size > MAX_BYTES:
            raise _bad_key("收款码图片不能超过 2 MB，请压缩或截图后重新上传",
                           "The QR image is over 2 MB; shrink it or take a screenshot, then upload again")
        first = s3.get_object(Bucket=config.UPLOADS_BUCKET, Key=key,
                              Range=f"bytes=0-{_SNIFF_BYTES - 1}")["Body"].read() if size else b""
    except ClientError as err:
        if not _s3_missing(err):
            raise
        raise _bad_key("找不到上传的收款码图片，请重新上传",
                       "The uploaded QR image was not found; upload it again") from None
    content_type = _sniff(first)
    if content_type is None:
        raise _bad_key("收款码图片应为 PNG 或 JPEG 格式，请上传截图或照片",
                       "The QR image must be a PNG or JPEG; upload a screenshot or photo of it")
    return content_type


def check_text(text: str) -> None:
    """A 400 on `payment_qr` if the text is too long to fit in a QR code."""
    import segno  # lazily: only creating a round or drawing its QR needs it

    try:
        segno.make_qr(text)
    except segno.DataOverflowError:
        raise BadInput("收款码内容太长，无法生成二维码", "The payment QR text is too long for a QR code",
                       fields={"payment_qr": ["内容太长 / Too long for a QR code"]}) from None


def render(text: str) -> bytes:
    """The QR code of `text`, as a PNG. Always a full QR code: phones' wallets can't read Micro QR."""
    import segno

    out = io.BytesIO()
    segno.make_qr(text).save(out, kind="png", scale=SCALE, border=BORDER)
    return out.getvalue()


def _not_found() -> NotFound:
    return NotFound("团购轮次不存在", "No such round")


def _ensure_may_see(principal: Principal, rnd: Round) -> None:
    """A resident (member or pending phone) of a community the round serves, the round's supplier,
    or staff who look after one of its communities; anyone else gets 404, as for no round at all."""
    if principal.role == "resident":
        if principal.community_id not in rnd.community_ids:
            raise _not_found()
        return
    if principal.role == "supplier":
        if principal.scope_id != rnd.supplier_id:
            raise _not_found()
        return
    if principal.role == "admin":
        # Every community of a round is in its supplier's sub-district (see rounds.create).
        community_id = rnd.community_ids[0]
    elif principal.scope_id in rnd.community_ids:
        community_id = principal.scope_id
    else:
        raise _not_found()
    try:
        communities.ensure_visible(principal, communities.get(community_id))
    except (Forbidden, NotFound):
        raise _not_found() from None


def _link_message(round_id: str, expires: int) -> str:
    return f"payment-qr:{round_id}:{expires}"


def signed_url(round_id: str) -> str:
    """The QR's URL for an `<img>`, which cannot send a token: signed, valid for a week.

    Handed out only inside answers that already checked who may see the round
    (their orders, the round list). The expiry is rounded up to a day so the URL,
    and so the image's cache entry, stays the same all day.
    """
    expires = (int(clock.now().timestamp()) // _DAY + 1) * _DAY + LINK_DAYS * _DAY
    signature = auth.sign(_link_message(round_id, expires))
    return f"/api/rounds/{round_id}/payment-qr?expires={expires}&sig={signature}"


def image_by_link(round_id: str, expires: str, signature: str) -> tuple[str, bytes]:
    """The image for a signed link; a bad or stale signature is a 404, like no round at all."""
    if not expires.isdigit() or int(expires) < clock.now().timestamp() \
            or not auth.signed(_link_message(round_id, int(expires)), signature):
        raise _not_found()
    return _image_of(_load(round_id))


def _load(round_id: str) -> Round:
    with storage_errors():
        try:
            return Round.get(f"ROUND#{round_id}", "ROUND")
        except Round.DoesNotExist:
            raise _not_found() from None


def image(principal: Principal, round_id: str) -> tuple[str, bytes]:
    """(content type, bytes) of the round's payment QR, for someone who may see the round."""
    if principal.role == "resident":
        households.of_caller(principal)  # a removed phone's token stops here (401)
    rnd = _load(round_id)
    _ensure_may_see(principal, rnd)
    return _image_of(rnd)


def _image_of(rnd: Round) -> tuple[str, bytes]:
    if rnd.payment_qr_key:
        return _stored(rnd.payment_qr_key)
    if rnd.payment_qr:
        return "image/png", render(rnd.payment_qr)
    raise NotFound("该团购没有收款码", "This round has no payment QR")


def _stored(key: str) -> tuple[str, bytes]:
    try:
        body = aws.client("s3").get_object(Bucket=config.UPLOADS_BUCKET, Key=key)["Body"].read()
    except ClientError as err:
        if not _s3_missing(err):
            raise
        body = b""
    content_type = _sniff(body[:_SNIFF_BYTES])
    if content_type is None or len(body) > MAX_BYTES:
        raise NotFound("收款码图片已失效，请联系供应商", "The payment QR image is gone; ask the supplier")
    return content_type, body
