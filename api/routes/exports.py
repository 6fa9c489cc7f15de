"""A round's pick list, packing list and labels, as files."""
from chalice import Blueprint, Response

from api import auth, exports, schemas
from api.openapi import documented

bp = Blueprint(__name__)


@bp.route("/rounds/{round_id}/exports/{kind}", methods=["GET"])
@documented("导出 Export picklist / packing / labels", query=schemas.ExportQuerySchema, errors=(400, 404))
def export_round(round_id, kind):
    request = bp.current_request
    principal = auth.require(request.headers, "supplier", "liaison")
    query = schemas.load(schemas.ExportQuerySchema(), dict(request.query_params or {}))
    content_type, filename, body = exports.export(principal, round_id, kind, query["format"], query["layout"])
    return Response(body, status_code=200, headers={
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
    })
