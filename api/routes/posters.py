"""The community's join-QR poster, as a PDF for its staff to print (GET /api/communities/{cid}/poster)."""
from chalice import Blueprint, Response

from api import auth, exports, posters
from api.openapi import documented

bp = Blueprint(__name__)


@bp.route("/communities/{community_id}/poster", methods=["GET"])
@documented("入户二维码海报 The community's join-QR poster (A4 PDF)", errors=(404,))
def community_poster(community_id):
    principal = auth.require(bp.current_request.headers, *posters.STAFF_ROLES)
    filename, body = posters.poster_for_staff(principal, community_id)
    return Response(body, status_code=200, headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": exports.attachment(filename, f"poster-{community_id}.pdf"),
        "Cache-Control": "no-store"})
