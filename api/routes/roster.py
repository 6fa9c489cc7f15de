"""The liaison's console: the roster, a flat's phones, special households, check-ins, assisted orders."""
from chalice import Blueprint, Response

from api import auth, idempotency, roster, schemas, special
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)

_FLAT = "/communities/{community_id}/households/{flat_ref}"


def _staff():
    return auth.require(bp.current_request.headers, *roster.CONSOLE_ROLES)


@bp.route("/communities/{community_id}/roster", methods=["GET"])
@documented("住户名册 The roster", query=schemas.RosterQuerySchema, response="RosterOutSchema",
            errors=(400, 404))
def get_roster(community_id):
    principal = _staff()
    query = schemas.load(schemas.RosterQuerySchema(), dict(bp.current_request.query_params or {}))
    return roster.roster(principal, community_id, query)


@bp.route("/communities/{community_id}/households", methods=["POST"])
@documented("登记无手机住户 Register a flat for a resident without a smartphone", body=schemas.StaffHouseholdSchema,
            response="RosterEntrySchema", status=201, errors=(400, 404))
def register_flat(community_id):
    principal = _staff()
    data = schemas.load(schemas.StaffHouseholdSchema(), json_body(bp.current_request))
    flat, created = roster.register_flat(principal, community_id, data)
    return Response(flat, status_code=201 if created else 200)


@bp.route(_FLAT, methods=["GET"])
@documented("住户详情 One flat: phones, check-ins, orders", response="HouseholdDetailSchema", errors=(404,))
def get_flat(community_id, flat_ref):
    return roster.detail(_staff(), community_id, flat_ref)


@bp.route(_FLAT + "/members/{member_id}/approve", methods=["POST"])
@documented("批准手机 Approve a phone", response="RosterEntrySchema", errors=(404,))
def approve_phone(community_id, flat_ref, member_id):
    return roster.approve(_staff(), community_id, flat_ref, member_id)


@bp.route(_FLAT + "/members/{member_id}/remove", methods=["POST"])
@documented("移除手机 Remove a phone or refuse a request", response="RosterEntrySchema", errors=(404,))
def remove_phone(community_id, flat_ref, member_id):
    return roster.remove(_staff(), community_id, flat_ref, member_id)


@bp.route(_FLAT + "/handover", methods=["POST"])
@documented("把这户交给一部手机 Hand the flat to one phone (squatting)", body=schemas.HandoverSchema,
            response="RosterEntrySchema", errors=(400, 404))
def hand_over(community_id, flat_ref):
    principal = _staff()
    data = schemas.load(schemas.HandoverSchema(), json_body(bp.current_request))
    return roster.handover(principal, community_id, flat_ref, data["member_id"])


@bp.route(_FLAT + "/special", methods=["PUT"])
@documented("标记特殊人群 Flag a special household", body=schemas.SpecialSchema, response="RosterEntrySchema",
            errors=(400, 404))
def flag_special(community_id, flat_ref):
    principal = _staff()
    data = schemas.load(schemas.SpecialSchema(), json_body(bp.current_request))
    return special.flag(principal, community_id, flat_ref, data)


@bp.route(_FLAT + "/special/remove", methods=["POST"])
@documented("取消特殊人群标记 Unflag", response="RosterEntrySchema", errors=(404,))
def unflag_special(community_id, flat_ref):
    return special.unflag(_staff(), community_id, flat_ref)


@bp.route(_FLAT + "/check-ins", methods=["POST"])
@documented("记录回访 Record a check-in", body=schemas.CheckInSchema, response="CheckInOutSchema", status=201,
            errors=(400, 404, 409, 422))
def record_check_in(community_id, flat_ref):
    principal = _staff()
    data = schemas.load(schemas.CheckInSchema(), json_body(bp.current_request))
    return Response(special.check_in(principal, community_id, flat_ref, data), status_code=201)


@bp.route("/communities/{community_id}/special-households", methods=["GET"])
@documented("特殊人群回访名单 Special households, most overdue first (the call list)",
            query=schemas.SpecialQuerySchema, response="SpecialListSchema", errors=(400, 404))
def special_households(community_id):
    principal = _staff()
    query = schemas.load(schemas.SpecialQuerySchema(), dict(bp.current_request.query_params or {}))
    return special.call_list(principal, community_id, query["overdue"])


@bp.route(_FLAT + "/orders", methods=["POST"])
@documented("代下单 Place an order for a household", body=schemas.OrderSchema, response="OrderOutSchema",
            status=201, headers=("Idempotency-Key",), errors=(400, 404, 409, 422, 503))
def assisted_order(community_id, flat_ref):
    request = bp.current_request
    principal = _staff()
    key = idempotency.key_from_headers(request.headers)
    data = schemas.load(schemas.OrderSchema(), json_body(request))
    order, created = roster.place_assisted(principal, community_id, flat_ref, key, data)
    return Response(order, status_code=201 if created else 200)
