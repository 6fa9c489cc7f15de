"""GET /api/health (public, cheap), GET /api/health/deep (staff: is the table reachable?) and GET /api/openapi.json."""
import logging
import time

from chalice import Blueprint, Response

from api import auth, openapi
from api.openapi import documented

bp = Blueprint(__name__)
_log = logging.getLogger(__name__)


@bp.route("/health", methods=["GET"])
@documented("存活检查 Liveness", response="HealthSchema", auth=False, errors=())
def health():
    return {"ok": True}


def table_check() -> dict:
    """One GetItem of a key that never exists: proves the table answers, with no extra IAM action
    (DescribeTable) and no Scan. {"ok", "ms"} or {"ok": False, "error": <AWS error code or exception name>}."""
    from api.models import Item

    started = time.perf_counter()
    try:
        Item.get("HEALTH#CHECK", "HEALTH")
    except Item.DoesNotExist:
        pass
    except Exception as exc:  # noqa: BLE001 - any failure to read is the answer
        code = getattr(exc, "cause_response_code", None) or type(getattr(exc, "cause", None) or exc).__name__
        return {"ok": False, "error": code}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@bp.route("/health/deep", methods=["GET"])
@documented("深度检查 Readiness: the table is reachable (staff; 503 if not)", response="DeepHealthSchema",
            errors=(503,))
def deep_health():
    auth.require(bp.current_request.headers, *sorted(auth.STAFF_ROLES))
    table = table_check()
    if table["ok"]:
        return {"ok": True, "checks": {"table": table}}
    _log.warning("deep health: table unreachable: %s", table["error"])
    return Response({"ok": False, "checks": {"table": table},
                     "error": {"code": "table_unreachable", "message": "数据库暂时无法访问",
                               "message_en": "The table is not reachable", "fields": {}}},
                    status_code=503, headers={"Retry-After": "30", "Cache-Control": "no-store"})


@bp.route("/openapi.json", methods=["GET"])
@documented("本文档 This OpenAPI document", auth=False, errors=(), response="OpenApiOutSchema")
def openapi_document():
    return openapi.spec(bp.current_app)
