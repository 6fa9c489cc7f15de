"""Orders: a resident places one, and lists their household's."""
from chalice import Blueprint, Response

from api import auth, idempotency, orders, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)


@bp.route("/orders", methods=["POST"])
@documented("下单 Place an order", body=schemas.OrderSchema, response="OrderOutSchema", status=201,
            headers=("Idempotency-Key",), errors=(400, 404, 409, 422, 503))
def place_order():
    request = bp.current_request
    principal = auth.require(request.headers, "resident")
    key = idempotency.key_from_headers(request.headers)
    data = schemas.load(schemas.OrderSchema(), json_body(request))
    order, created = orders.place(orders.for_resident(principal), key, data)
    return Response(order, status_code=201 if created else 200)


@bp.route("/orders/mine", methods=["GET"])
@documented("我的订单 My household's orders", response="OrdersOutSchema", errors=())
def my_orders():
    principal = auth.require(bp.current_request.headers, "resident")
    return orders.mine(principal)


@bp.route("/orders/{order_id}", methods=["GET"])
@documented("查看订单 One of my household's orders", response="OrderOutSchema", errors=(404,))
def get_order(order_id):
    principal = auth.require(bp.current_request.headers, "resident")
    return orders.get(principal, order_id)


@bp.route("/orders/{order_id}/cancel", methods=["POST"])
@documented("取消订单 Cancel my order (while the round is open)", response="OrderOutSchema", errors=(404, 422))
def cancel_order(order_id):
    principal = auth.require(bp.current_request.headers, "resident")
    return orders.cancel(principal, order_id)
