"""团购轮次 rounds: list a community's rounds, create one, and run one from its console."""
from chalice import Blueprint, Response

from api import auth, communities, idempotency, packing, rounds, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)


@bp.route("/rounds", methods=["GET"])
@documented("小区的团购 A community's rounds", query=schemas.RoundsQuerySchema, response="RoundsOutSchema",
            errors=(400, 404))
def list_rounds():
    request = bp.current_request
    principal = auth.require(request.headers, "resident", *auth.STAFF_ROLES)
    query = schemas.load(schemas.RoundsQuerySchema(), dict(request.query_params or {}))
    return rounds.list_for_community(principal, query["community_id"])


@bp.route("/rounds", methods=["POST"])
@documented("创建团购 Create a round (an optional Idempotency-Key makes a repeated tap safe)", body=schemas.RoundSchema,
            response="RoundOutSchema", status=201, errors=(400, 409))
def create_round():
    request = bp.current_request
    principal = auth.require(request.headers, "supplier", "liaison", "admin")
    key = idempotency.key_from_headers(request.headers) if request.headers.get("idempotency-key") else None
    data = schemas.load(schemas.RoundSchema(), json_body(request))
    created, new = rounds.create_once(principal, data, key)
    return Response(created, status_code=201 if new else 200)


@bp.route("/rounds/{round_id}", methods=["GET"])
@documented("一期团购 One round, for its console", response="RoundDetailOutSchema", errors=(404,))
def round_detail(round_id):
    principal = auth.require(bp.current_request.headers, "supplier", "liaison", "info_officer", "volunteer")
    return rounds.detail(principal, round_id)


@bp.route("/rounds/{round_id}/bundles/{bundle_id}/stock", methods=["POST"])
@documented("加库存 Add stock to a bundle", body=schemas.StockSchema, response="RoundDetailOutSchema",
            errors=(400, 404, 422))
def add_stock(round_id, bundle_id):
    request = bp.current_request
    principal = auth.require(request.headers, "supplier")
    data = schemas.load(schemas.StockSchema(), json_body(request))
    return rounds.add_stock(principal, round_id, bundle_id, data["add"])


@bp.route("/rounds/{round_id}/close", methods=["POST"])
@documented("提前截单 Close the round now", body=schemas.EmptySchema, response="RoundDetailOutSchema",
            errors=(400, 404, 422))
def close_round(round_id):
    request = bp.current_request
    principal = auth.require(request.headers, "supplier")
    schemas.load(schemas.EmptySchema(), json_body(request))
    return rounds.close_early(principal, round_id)


@bp.route("/rounds/{round_id}/packed", methods=["POST"])
@documented("标记已打包 Mark a community's or building's paid bags packed", body=schemas.PackedSchema,
            response="PackedOutSchema", errors=(400, 404, 422))
def mark_packed(round_id):
    request = bp.current_request
    principal = auth.require(request.headers, "supplier")
    data = schemas.load(schemas.PackedSchema(), json_body(request))
    return packing.mark_packed(principal, round_id, data)


@bp.route("/rounds/{round_id}/announcement", methods=["GET"])
@documented("团购通知 The group-chat announcement", response="AnnouncementsOutSchema", errors=(404,))
def announcement(round_id):
    principal = auth.require(bp.current_request.headers, "supplier", "liaison", "info_officer")
    return rounds.announcement(principal, round_id)


@bp.route("/suppliers/mine/communities", methods=["GET"])
@documented("可供货的小区 Communities a round may serve", response="SupplierCommunitiesOutSchema", errors=())
def my_communities():
    return communities.for_supplier(auth.require(bp.current_request.headers, "supplier"))


@bp.route("/communities/{community_id}/suppliers", methods=["GET"])
@documented("本街道的供应商 Suppliers a liaison may open a round for", response="SuppliersOutSchema",
            errors=(404,))
def community_suppliers(community_id):
    principal = auth.require(bp.current_request.headers, "liaison", "admin")
    return communities.suppliers_for(principal, community_id)
