"""The community QR code: public info and household registration."""
from chalice import Blueprint, Response

from api import communities, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)


@bp.route("/join/{join_key}", methods=["GET"])
@documented("小区公开信息 Community public info", response="CommunityPublicSchema", auth=False, errors=(404,))
def community_info(join_key):
    return communities.public_info(join_key)


@bp.route("/join/{join_key}/households", methods=["POST"])
@documented("登记住户 Register a household", body=schemas.HouseholdSchema, response="HouseholdCreatedSchema",
            status=201, auth=False, errors=(400, 404))
def register_household(join_key):
    data = schemas.load(schemas.HouseholdSchema(), json_body(bp.current_request))
    return Response(communities.register_household(join_key, data), status_code=201)
