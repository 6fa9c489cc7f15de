"""收款码 payment QR: presign an image upload; serve a round's QR as an image."""
from chalice import Blueprint, Response

from api import auth, payment_qr, schemas
from api.openapi import documented

bp = Blueprint(__name__)


@bp.route("/payment-qr/uploads", methods=["POST"])
@documented("上传收款码图片 Presign a payment QR image upload (S3 POST: PNG or JPEG, at most 2 MB)",
            response="PaymentQrUploadOutSchema", status=201, errors=())
def presign_payment_qr_upload():
    principal = auth.require(bp.current_request.headers, "supplier", "liaison")
    return Response(payment_qr.presign_upload(principal), status_code=201)


@bp.route("/rounds/{round_id}/payment-qr", methods=["GET"])
@documented("团购收款码图片 A round's payment QR, as image/png or image/jpeg (a token, or the signed link "
            "`payment_qr_url` from an order or round: an <img> sends no token)",
            query=schemas.PaymentQrLinkSchema, errors=(400, 404))
def round_payment_qr(round_id):
    request = bp.current_request
    query = schemas.load(schemas.PaymentQrLinkSchema(), dict(request.query_params or {}))
    if query["sig"]:
        content_type, body = payment_qr.image_by_link(round_id, query["expires"], query["sig"])
    else:
        principal = auth.require(request.headers, "resident", *auth.STAFF_ROLES)
        content_type, body = payment_qr.image(principal, round_id)
    return Response(body, status_code=200, headers={
        "Content-Type": content_type,
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    })
