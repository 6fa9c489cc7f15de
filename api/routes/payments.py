"""Payments: the resident's claim, the supplier's board and confirmations, statements, chasing."""
from chalice import Blueprint

from api import auth, idempotency, payments, schemas
from api.errors import BadInput
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)

_BOARD_ROLES = ("supplier", "liaison", "info_officer", "volunteer")
_CHASERS = ("liaison", "info_officer")


def _supplier():
    return auth.require(bp.current_request.headers, "supplier")


@bp.route("/orders/{order_id}/payment-claim", methods=["POST"])
@documented("我已付款 Say the order is paid", body=schemas.PaymentClaimSchema, response="OrderOutSchema",
            headers=("Idempotency-Key",), errors=(400, 404, 409, 422))
def claim_payment(order_id):
    request = bp.current_request
    principal = auth.require(request.headers, "resident")
    key = idempotency.key_from_headers(request.headers)
    data = schemas.load(schemas.PaymentClaimSchema(), json_body(request))
    return payments.claim(principal, order_id, key, data)


@bp.route("/rounds/{round_id}/orders", methods=["GET"])
@documented("收款看板 A round's orders and money totals", query=schemas.BoardQuerySchema,
            response="BoardOutSchema", errors=(400, 404))
def round_orders(round_id):
    request = bp.current_request
    principal = auth.require(request.headers, *_BOARD_ROLES)
    query = schemas.load(schemas.BoardQuerySchema(), dict(request.query_params or {}))
    return payments.board(principal, round_id, query)


@bp.route("/suppliers/mine/rounds", methods=["GET"])
@documented("我的团购 The supplier's rounds with their totals", response="SupplierRoundsOutSchema", errors=())
def my_rounds():
    return payments.supplier_rounds(_supplier())


@bp.route("/rounds/{round_id}/payments/confirm", methods=["POST"])
@documented("确认收款 Confirm payments", body=schemas.ConfirmSchema, response="ConfirmOutSchema",
            errors=(400, 404))
def confirm_payments(round_id):
    principal = _supplier()
    data = schemas.load(schemas.ConfirmSchema(), json_body(bp.current_request))
    return payments.confirm(principal, round_id, data["order_ids"], data["transactions"])


@bp.route("/rounds/{round_id}/payments/undo", methods=["POST"])
@documented("撤销确认 Take a confirmation back", body=schemas.OrderReasonSchema, response="BoardOrderSchema",
            errors=(400, 404, 422))
def undo_payment(round_id):
    principal = _supplier()
    data = schemas.load(schemas.OrderReasonSchema(), json_body(bp.current_request))
    return payments.undo(principal, round_id, data["order_id"], data["reason"])


@bp.route("/rounds/{round_id}/payments/reject", methods=["POST"])
@documented("驳回付款申报 Reject a claim (no money arrived)", body=schemas.OrderReasonSchema,
            response="BoardOrderSchema", errors=(400, 404, 422))
def reject_payment(round_id):
    principal = _supplier()
    data = schemas.load(schemas.OrderReasonSchema(), json_body(bp.current_request))
    return payments.reject(principal, round_id, data["order_id"], data["reason"])


@bp.route("/rounds/{round_id}/orders/{order_id}/cancel", methods=["POST"])
@documented("供应商取消订单 The supplier cancels an order", body=schemas.ReasonSchema,
            response="BoardOrderSchema", errors=(400, 404, 422))
def supplier_cancel(round_id, order_id):
    principal = _supplier()
    data = schemas.load(schemas.ReasonSchema(), json_body(bp.current_request))
    return payments.cancel(principal, round_id, order_id, data["reason"])


@bp.route("/rounds/{round_id}/orders/{order_id}/refunded", methods=["POST"])
@documented("已退款 Mark a refund done", response="BoardOrderSchema", errors=(404, 422))
def mark_refunded(round_id, order_id):
    return payments.refunded(_supplier(), round_id, order_id)


@bp.route("/rounds/{round_id}/ledger", methods=["GET"])
@documented("资金流水账 The money ledger", response="LedgerOutSchema", errors=(404,))
def round_ledger(round_id):
    return payments.ledger(_supplier(), round_id)


# Binary types only: behind API Gateway a text type would arrive decoded as text, and a GBK
# Alipay export would be mangled before we read it (app.py lists these as binary).
@bp.route("/rounds/{round_id}/payments/statement", methods=["POST"],
          content_types=["application/octet-stream",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"])
@documented("上传账单核对 Match a wallet statement (nothing is confirmed)", response="StatementPreviewSchema",
            errors=(400, 404))
def statement(round_id):
    request = bp.current_request
    principal = _supplier()
    data = request.raw_body or b""
    if not data:
        raise BadInput("请上传账单文件", "Upload the statement file", fields={"file": ["必填 / Required"]})
    return payments.statement_preview(principal, round_id, data)


@bp.route("/communities/{community_id}/unpaid", methods=["GET"])
@documented("未付款名单 Unpaid orders and the reminder text", query=schemas.UnpaidQuerySchema,
            response="UnpaidOutSchema", errors=(400, 404))
def unpaid(community_id):
    request = bp.current_request
    principal = auth.require(request.headers, *_CHASERS)
    query = schemas.load(schemas.UnpaidQuerySchema(), dict(request.query_params or {}))
    return payments.unpaid(principal, community_id, query["round_id"])


@bp.route("/communities/{community_id}/households/{flat_ref}/exemptions", methods=["POST"])
@documented("本轮不受每户限单限制 Exempt a household from fair share for one round", body=schemas.ExemptionSchema,
            errors=(400, 404), response="ExemptionOutSchema")
def exempt(community_id, flat_ref):
    request = bp.current_request
    principal = auth.require(request.headers, *_CHASERS)
    data = schemas.load(schemas.ExemptionSchema(), json_body(request))
    return payments.exempt(principal, community_id, flat_ref, data["round_id"])
