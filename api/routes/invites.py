"""Staff invites: create one, accept one."""
from chalice import Blueprint, Response

from api import auth, idempotency, invites, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)


@bp.route("/invites", methods=["POST"])
@documented("邀请工作人员 Invite staff", body=schemas.InviteSchema, response="InviteOutSchema", status=201,
            errors=(400, 409))
def create_invite():
    request = bp.current_request
    principal = auth.require(request.headers, "liaison", "admin")
    data = schemas.load(schemas.InviteSchema(), json_body(request))
    return Response(invites.create(principal, data["role"], data["scope_id"], data["name"]), status_code=201)


@bp.route("/invites/{code}/accept", methods=["POST"])
@documented("接受邀请 Accept an invite (Idempotency-Key optional: the same device may retry)",
            response="TokenOutSchema", auth=False, errors=(400, 404, 409, 422))
def accept_invite(code):
    request = bp.current_request
    key = idempotency.key_from_headers(request.headers) if "idempotency-key" in request.headers else None
    return invites.accept(code, key)
