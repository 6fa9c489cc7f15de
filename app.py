"""Baogong (保供) API: the Chalice app, its blueprints, and the one error handler."""
from chalice import Chalice, Response

from api import limits, logs
from api.errors import DomainError, as_storage_busy
from api.routes import (
    communities, exports, gate, health, households, invites, join, monitoring, orders, payment_qr, payments, pickup,
    posters, roster, rounds, schedules, supply,
)

app = Chalice(app_name="baogong")
# JSON logs with the request id, phones and ID numbers masked, one access line per request (api/logs.py).
# Installed first, so its middleware wraps everything below and sees the final status.
logs.install(app)
# Body size caps (413) and rate limits (429 with Retry-After) before any route code runs (api/limits.py).
limits.install(app)
app.api.binary_types.append("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
app.api.binary_types.append("application/pdf")

# Statements arrive as raw files; API Gateway must pass them through as bytes.
app.api.binary_types.append("application/octet-stream")

for blueprint in (health, join, households, rounds, orders, invites, exports, communities, roster, payment_qr,
                  payments, pickup, schedules, gate, supply, monitoring, posters):
    app.register_blueprint(blueprint.bp, url_prefix="/api")


@app.middleware("http")
def domain_errors_to_http(event, get_response):
    """Every refusal leaves as {"error": {code, message, message_en, fields}} with its status."""
    try:
        response = get_response(event)
    except DomainError as err:
        return Response(err.body(), status_code=err.status, headers=err.headers)
    except Exception as exc:
        # A view's exceptions never get here: Chalice turns them into its own 500 first, so every view is
        # wrapped in errors.guarded (by api/openapi.documented), which raises StorageBusy in their place.
        # This is the same net for code outside a view: a throttle, a lost connection or a timeout is
        # a 503 the client retries, never a 500. Anything else is a bug and stays one.
        busy = as_storage_busy(exc)
        if busy is None:
            raise
        return Response(busy.body(), status_code=busy.status, headers=busy.headers)
    if response.status_code == 415:
        # Chalice refuses a content type a route does not take before our code runs (on any route).
        return Response(DomainError("不支持这种内容类型：请以 Content-Type: application/json 发送；上传对账单请用 CSV 或 XLSX 文件",
                                    "This content type is not accepted: send JSON with Content-Type: application/json "
                                    "(a statement upload takes a CSV or XLSX file)",
                                    code="unsupported_media_type",
                                    fields={"Content-Type": ["application/json"]}).body(), status_code=415)
    if response.status_code == 400 and isinstance(response.body, dict) and response.body.get("Code") == "BadRequest":
        # Chalice refuses a file (XLSX, PDF) to a request whose Accept does not name its type, as API
        # Gateway would (it would send the bytes as base64 text): say what to send, in our format.
        return Response(DomainError("下载文件时请求须带 Accept 请求头，如 Accept: */*",
                                    "A file download needs an Accept header that names its type, e.g. Accept: */*",
                                    code="accept_header_needed",
                                    fields={"Accept": ["例如 */* / For example */*"]}).body(), status_code=400)
    if response.status_code == 500:
        # Chalice already logged the traceback (no request data: it may hold phone numbers).
        return Response(DomainError("服务器出错了，请稍后再试", "Something went wrong on our side; please retry").body(),
                        status_code=500)
    return response
