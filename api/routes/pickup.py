"""Pickup day: slot plans, notices (and Web Push for them), collecting bags (the volunteer's phone), door delivery, progress."""
from chalice import Blueprint, Response

from api import auth, idempotency, notices, pickup, push, schemas, slots
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)

_CONSOLE = ("liaison", "info_officer")
_PLAN = "/communities/{community_id}/rounds/{round_id}"


def _staff(*roles):
    return auth.require(bp.current_request.headers, *roles)


@bp.route(_PLAN + "/slots/generate", methods=["POST"])
@documented("生成取货时段 Generate pickup slots", body=schemas.SlotGenerateSchema, response="PlanOutSchema",
            status=201, errors=(400, 404, 409))
def generate_slots(community_id, round_id):
    principal = _staff(*_CONSOLE)
    data = schemas.load(schemas.SlotGenerateSchema(), json_body(bp.current_request))
    return Response(slots.generate(principal, community_id, round_id, data), status_code=201)


@bp.route(_PLAN + "/slots", methods=["GET"])
@documented("取货时段 The pickup slots", response="PlanOutSchema", errors=(404,))
def read_slots(community_id, round_id):
    return slots.read(_staff(*_CONSOLE, "volunteer"), community_id, round_id)


@bp.route(_PLAN + "/slots", methods=["PUT"])
@documented("修改取货时段 Edit, move or swap slots", body=schemas.SlotEditSchema, response="PlanOutSchema",
            errors=(400, 404, 409))
def edit_slots(community_id, round_id):
    principal = _staff(*_CONSOLE)
    data = schemas.load(schemas.SlotEditSchema(), json_body(bp.current_request))
    return slots.edit(principal, community_id, round_id, data)


@bp.route(_PLAN + "/slots/{slot_id}/announce", methods=["POST"])
@documented("发取货通知 Announce a slot to its buildings", response="NoticesOutSchema", status=201,
            errors=(404, 409))
def announce_slot(community_id, round_id, slot_id):
    return Response(notices.announce(_staff(*_CONSOLE), community_id, round_id, slot_id), status_code=201)


@bp.route(_PLAN + "/arrival", methods=["POST"])
@documented("货已到 The goods have arrived", body=schemas.ArrivalSchema, response="ArrivalOutSchema",
            status=201, errors=(400, 404))
def goods_arrived(community_id, round_id):
    principal = _staff(*_CONSOLE)
    data = schemas.load(schemas.ArrivalSchema(), json_body(bp.current_request))
    return Response(notices.arrival(principal, community_id, round_id, data["note"]), status_code=201)


@bp.route("/notices/mine", methods=["GET"])
@documented("我的通知 My building's notices", query=schemas.NoticesQuerySchema, response="NoticesOutSchema",
            errors=(400, 404))
def my_notices():
    request = bp.current_request
    principal = auth.require(request.headers, "resident")
    query = schemas.load(schemas.NoticesQuerySchema(), dict(request.query_params or {}))
    return notices.mine(principal, query["since"])


@bp.route("/rounds/{round_id}/pickup-list", methods=["GET"])
@documented("楼栋取货名单 A building's bags", query=schemas.PickupListQuerySchema,
            response="PickupListOutSchema", errors=(400, 404))
def pickup_list(round_id):
    request = bp.current_request
    principal = auth.require(request.headers, *pickup.STAFF)
    query = schemas.load(schemas.PickupListQuerySchema(), dict(request.query_params or {}))
    return pickup.building_list(principal, round_id, query["building"])


@bp.route("/rounds/{round_id}/pickup/{code}", methods=["GET"])
@documented("按取货码查 The bag behind a pickup code", response="PickupEntryOutSchema", errors=(404,))
def pickup_by_code(round_id, code):
    return pickup.by_code(_staff(*pickup.STAFF), round_id, code)


@bp.route("/orders/{order_id}/pickup", methods=["GET"])
@documented("按订单查 The bag of an order (a label's QR)", response="PickupEntryOutSchema", errors=(404,))
def pickup_by_order(order_id):
    return pickup.by_order(_staff(*pickup.STAFF), order_id)


@bp.route("/orders/{order_id}/pickup", methods=["POST"])
@documented("取货登记 Mark a bag collected", body=schemas.PickupSchema, response="PickupEntryOutSchema",
            headers=("Idempotency-Key",), errors=(400, 404, 409, 422))
def mark_picked_up(order_id):
    request = bp.current_request
    principal = auth.require(request.headers, *pickup.STAFF)
    key = idempotency.key_from_headers(request.headers)  # required: a queued mark is replayed with the same key
    data = schemas.load(schemas.PickupSchema(), json_body(request))
    return pickup.mark(principal, order_id, data["method"], key)


@bp.route("/orders/{order_id}/pickup/undo", methods=["POST"])
@documented("撤销取货 Undo a pickup (10 minutes)", response="PickupEntryOutSchema", errors=(404, 422))
def undo_pickup(order_id):
    return pickup.undo(_staff(*pickup.STAFF), order_id)


@bp.route(_PLAN + "/door", methods=["GET"])
@documented("送货上门 Special households for door delivery", response="DoorOutSchema", errors=(404,))
def door_list(community_id, round_id):
    return pickup.door(_staff(*pickup.STAFF), community_id, round_id)


@bp.route(_PLAN + "/progress", methods=["GET"])
@documented("取货进度 Pickup progress per building", response="ProgressOutSchema", errors=(404,))
def pickup_progress(community_id, round_id):
    return pickup.progress(_staff(*pickup.STAFF), community_id, round_id)


@bp.route("/push/key", methods=["GET"])
@documented("推送公钥 The Web Push application server key", response="PushKeyOutSchema", errors=(404,))
def push_key():
    return push.public_key(auth.require(bp.current_request.headers, "resident"))


@bp.route("/push/subscriptions", methods=["POST"])
@documented("开启推送 Subscribe this phone to Web Push", body=schemas.PushSubscriptionSchema,
            response="PushStateOutSchema", status=201, errors=(400, 404))
def push_subscribe():
    request = bp.current_request
    principal = auth.require(request.headers, "resident")
    data = schemas.load(schemas.PushSubscriptionSchema(), json_body(request))
    return Response(push.subscribe(principal, data), status_code=201)


@bp.route("/push/subscriptions/remove", methods=["POST"])
@documented("关闭推送 Unsubscribe this phone", body=schemas.PushEndpointSchema, response="PushStateOutSchema",
            errors=(400, 404))
def push_unsubscribe():
    request = bp.current_request
    principal = auth.require(request.headers, "resident")
    data = schemas.load(schemas.PushEndpointSchema(), json_body(request))
    return push.unsubscribe(principal, data["endpoint"])
