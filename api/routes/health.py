"""GET /api/health and GET /api/openapi.json."""
from chalice import Blueprint

from api import openapi, schemas
from api.openapi import documented

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@documented("存活检查 Liveness", response=schemas.HealthSchema, auth=False, errors=())
def health():
    return {"ok": True}


@bp.route("/openapi.json", methods=["GET"])
@documented("本文档 This OpenAPI document", auth=False, errors=())
def openapi_document():
    return openapi.spec(bp.current_app)
