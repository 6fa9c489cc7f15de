"""A resident's own flat: its phones, and approving or removing them."""
from chalice import Blueprint

from api import auth, households
from api.openapi import documented

bp = Blueprint(__name__)


@bp.route("/households/mine", methods=["GET"])
@documented("我家 My household and its phones", response="HouseholdMineSchema", errors=())
def my_household():
    principal = auth.require(bp.current_request.headers, "resident")
    return households.mine(principal)


@bp.route("/households/mine/members/{member_id}/approve", methods=["POST"])
@documented("批准家人的手机 Approve a phone for my flat", response="HouseholdMineSchema", errors=(404,))
def approve_member(member_id):
    principal = auth.require(bp.current_request.headers, "resident")
    return households.approve_as_member(principal, member_id)


@bp.route("/households/mine/members/{member_id}/remove", methods=["POST"])
@documented("拒绝或移除手机 Refuse a request, or remove a phone (yourself: leave)",
            response="HouseholdMineSchema", errors=(404,))
def remove_member(member_id):
    principal = auth.require(bp.current_request.headers, "resident")
    return households.remove_as_member(principal, member_id)
