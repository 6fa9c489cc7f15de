"""A round's pick list, packing list, boxes and labels, as files: at once, or as a background job."""
from chalice import Blueprint, Response

from api import auth, export_jobs, exports, schemas
from api.openapi import documented
from api.routes import json_body

bp = Blueprint(__name__)
_ROLES = ("supplier", "liaison")


@bp.route("/rounds/{round_id}/exports/{kind}", methods=["GET"])
@documented("导出 Export picklist / packing / boxes / labels", query=schemas.ExportQuerySchema,
            errors=(400, 404, 413))
def export_round(round_id, kind):
    request = bp.current_request
    principal = auth.require(request.headers, *_ROLES)
    query = schemas.load(schemas.ExportQuerySchema(), dict(request.query_params or {}))
    content_type, disposition, body = exports.build(principal, round_id, kind, query)
    return Response(body, status_code=200, headers={"Content-Type": content_type,
                                                    "Content-Disposition": disposition})


@bp.route("/rounds/{round_id}/exports/{kind}/jobs", methods=["POST"])
@documented("后台导出 Start a background export", body=schemas.ExportQuerySchema,
            response="ExportJobOutSchema", status=202, errors=(400, 404))
def start_export(round_id, kind):
    request = bp.current_request
    principal = auth.require(request.headers, *_ROLES)
    data = schemas.load(schemas.ExportQuerySchema(), json_body(request))
    return Response(export_jobs.create(principal, round_id, kind, data), status_code=202)


@bp.route("/export-jobs/{job_id}", methods=["GET"])
@documented("导出进度 A background export's progress and link", response="ExportJobOutSchema", errors=(404,))
def export_job(job_id):
    principal = auth.require(bp.current_request.headers, *_ROLES)
    return export_jobs.view(principal, job_id)


@bp.lambda_function(name="export_worker")
def export_worker(event, context):
    """The asynchronous Lambda that builds one job's file (api/export_jobs.py)."""
    return {"state": export_jobs.run(event["job_id"])}
