"""团购轮次 rounds: list a community's rounds, create a round."""
from chalice import Blueprint, Response

from api import auth, rounds, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)


@bp.route("/rounds", methods=["GET"])
@documented("小区的团购 A community's rounds", query=schemas.RoundsQuerySchema, response=schemas.RoundsOutSchema,
            errors=(400, 404))
def list_rounds():
    request = bp.current_request
    principal = auth.require(request.headers, "resident", *auth.STAFF_ROLES)
    query = schemas.load(schemas.RoundsQuerySchema(), dict(request.query_params or {}))
    return rounds.list_for_community(principal, query["community_id"])


@bp.route("/rounds", methods=["POST"])
@documented("创建团购 Create a round", body=schemas.RoundSchema, response=schemas.RoundOutSchema, status=201)
def create_round():
    request = bp.current_request
    principal = auth.require(request.headers, "supplier", "liaison", "admin")
    data = schemas.load(schemas.RoundSchema(), json_body(request))
    return Response(rounds.create(principal, data), status_code=201)
