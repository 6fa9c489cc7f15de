"""A community as its staff see it: the distribution point, the information officer, settings."""
from chalice import Blueprint

from api import auth, communities, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)

_MANAGERS = ("liaison", "admin")


@bp.route("/communities/{community_id}", methods=["GET"])
@documented("小区信息 The community, for its staff", response="CommunityOutSchema", errors=(404,))
def get_community(community_id):
    principal = auth.require(bp.current_request.headers, "liaison", "info_officer", "volunteer", "admin")
    community = communities.for_staff(principal, community_id, roles=("liaison", "info_officer", "volunteer", "admin"))
    return communities.view(community)


@bp.route("/communities/{community_id}/settings", methods=["PATCH"])
@documented("小区设置 Community settings", body=schemas.SettingsSchema, response="CommunityOutSchema",
            errors=(400, 404))
def update_settings(community_id):
    request = bp.current_request
    principal = auth.require(request.headers, *_MANAGERS)
    data = schemas.load(schemas.SettingsSchema(), json_body(request))
    return communities.settings(communities.for_staff(principal, community_id, roles=_MANAGERS), data)


@bp.route("/communities/{community_id}/distribution-point", methods=["PUT"])
@documented("设立配送点 Set the distribution point (one at a time)", body=schemas.DistributionPointSchema,
            response="CommunityOutSchema", errors=(400, 404, 409))
def set_distribution_point(community_id):
    request = bp.current_request
    principal = auth.require(request.headers, *_MANAGERS)
    data = schemas.load(schemas.DistributionPointSchema(), json_body(request))
    community = communities.for_staff(principal, community_id, roles=_MANAGERS)
    return communities.set_distribution_point(community, data["name"], data["note"])


@bp.route("/communities/{community_id}/distribution-point/retire", methods=["POST"])
@documented("撤销配送点 Retire the distribution point", response="CommunityOutSchema", errors=(404,))
def retire_distribution_point(community_id):
    principal = auth.require(bp.current_request.headers, *_MANAGERS)
    return communities.retire_distribution_point(communities.for_staff(principal, community_id, roles=_MANAGERS))


@bp.route("/communities/{community_id}/info-officer/retire", methods=["POST"])
@documented("信息员卸任 Retire the information officer", response="CommunityOutSchema", errors=(404, 409))
def retire_info_officer(community_id):
    principal = auth.require(bp.current_request.headers, *_MANAGERS)
    return communities.retire_info_officer(communities.for_staff(principal, community_id, roles=_MANAGERS))


@bp.route("/sub-districts/mine/communities", methods=["GET"])
@documented("本街道的小区 The admin's communities", response="SupplierCommunitiesOutSchema", errors=())
def sub_district_communities():
    return communities.for_admin(auth.require(bp.current_request.headers, "admin"))


@bp.route("/sub-districts/mine/suppliers", methods=["GET"])
@documented("本街道的保供企业 The admin's suppliers", response="SuppliersOutSchema", errors=())
def sub_district_suppliers():
    return communities.suppliers_of(auth.require(bp.current_request.headers, "admin").scope_id)
