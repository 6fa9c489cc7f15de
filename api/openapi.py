"""The OpenAPI document, generated from the routes Chalice knows and the marshmallow schemas.

A route declares its payloads with `@documented(...)`; `spec(app)` walks every
registered route, so a route can't exist without appearing in the document.

Every JSON answer has a schema: the route's `response=`, the NAME of a class in
api/responses.py (a string, resolved only when the document is built, so a cold
Lambda serving an order never builds the answer classes). A file download (CSV,
XLSX, PDF, an image) is listed in FILES with its content types instead.
tests/api/test_openapi.py fails on a route that is in none of them.
"""
import functools

from api.errors import guarded

_ERRORS = {400: "输入有误 Bad input", 401: "未登录 No or bad token", 403: "无权限 Wrong role or scope",
           404: "不存在 Not found", 409: "冲突 Conflict", 413: "太大 Too large: use a background job",
           415: "不支持的内容类型 Unsupported Content-Type (JSON, or the file types the route names)",
           422: "业务规则拒绝 Refused by a rule",
           503: "存储繁忙 Storage busy (Retry-After)"}

# As api/idempotency.key_from_headers checks it.
IDEMPOTENCY_KEY = {"type": "string", "minLength": 8, "maxLength": 100, "pattern": "^[A-Za-z0-9_.:-]{8,100}$",
                   "description": "8 到 100 位字母、数字或 -_.: 8-100 letters, digits or -_.: "
                                  "(a new one per action; a retry sends the same)"}

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# File downloads: bytes, not JSON (a download needs an Accept that names its type, e.g. */*).
FILES = {
    ("GET", "/api/communities/{community_id}/poster"): ("application/pdf",),
    ("GET", "/api/rounds/{round_id}/exports/{kind}"): ("text/csv", _XLSX, "application/pdf"),
    ("GET", "/api/rounds/{round_id}/payment-qr"): ("image/png", "image/jpeg"),
    ("GET", "/api/settlements/statement"): (_XLSX, "application/pdf"),
    ("GET", "/api/sites/{site_id}/log/export"): ("text/csv", _XLSX),
    ("GET", "/api/sub-districts/mine/demand/export"): (_XLSX,),
}

# Routes that take an Idempotency-Key when it is sent (api/routes: `... if "idempotency-key" in headers`).
OPTIONAL_IDEMPOTENCY_KEY = {("POST", "/api/rounds"), ("POST", "/api/sites/{site_id}/deliveries"),
                            ("POST", "/api/invites/{code}/accept"), ("POST", "/api/allocations"),
                            ("POST", "/api/communities/{community_id}/ledger/distribute"),
                            ("POST", "/api/communities/{community_id}/ledger/{line_id}/correct")}

# Error statuses whose body is not the ErrorSchema: GET /api/health/deep answers 503 with its own shape
# ({ok: false, checks, error}) when the table is down.
OVERRIDES = {("GET", "/api/health/deep"): {503: "DeepHealthSchema"}}

# 201 routes that answer 200 with the same body for something already there, other than a replay.
ALSO_200 = {("POST", "/api/communities/{community_id}/households"):
            "已登记 This flat was already registered: its entry as it is"}


def documented(summary: str, *, body=None, query=None, response=None, status: int = 200,
               auth: bool = True, headers: tuple[str, ...] = (), errors: tuple[int, ...] = (400,)):
    def mark(view):
        # Every route is documented, so every view is guarded here: a storage failure that escapes it
        # (throttle, timeout, lost connection, unretried TransactionConflict) is a 503, not Chalice's 500.
        view = guarded(view)
        view.__openapi__ = {"summary": summary, "body": body, "query": query, "response": response,
                            "status": status, "auth": auth, "headers": headers,
                            "errors": errors + ((401, 403) if auth else ())}
        return view
    return mark


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _schema(responses, name, where: str):
    """The class api/responses.py calls `name`; an unknown name (or a class passed instead) fails the build."""
    from marshmallow import Schema

    schema = getattr(responses, name, None) if isinstance(name, str) else None
    if not (isinstance(schema, type) and issubclass(schema, Schema)):
        raise RuntimeError(f"{where}: response={name!r} is not the name of a marshmallow Schema class in "
                           "api/responses.py")
    return schema


def _operation(view, method: str, path: str, responses) -> dict:
    doc = view.__openapi__
    key = (method.upper(), path)
    where = f"{method.upper()} {path} ({view.__name__})"
    response = _schema(responses, doc["response"], where) if doc["response"] is not None else None
    errors = set(doc["errors"])
    if method.upper() != "GET":
        errors.add(415)  # Chalice refuses any Content-Type but JSON before the view runs
    operation = {"summary": doc["summary"], "operationId": view.__name__,
                 "responses": {str(code): {"description": text, "content": _json("ErrorSchema")}
                               for code, text in _ERRORS.items() if code in errors}}
    if key in FILES:
        operation["responses"][str(doc["status"])] = {
            "description": "文件 A file", "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                    for t in FILES[key]}}
    else:
        operation["responses"][str(doc["status"])] = (
            {"description": "OK", "content": _json(response)} if response else {"description": "OK"})
    for code, name in OVERRIDES.get(key, {}).items():
        operation["responses"][str(code)]["content"] = _json(_schema(responses, name, f"OVERRIDES {where} {code}"))
    idempotent = "Idempotency-Key" in doc["headers"] or key in OPTIONAL_IDEMPOTENCY_KEY
    if doc["status"] == 201 and response and (idempotent or key in ALSO_200):
        operation["responses"]["200"] = {
            "description": ALSO_200.get(key, "重放 A replay: the same Idempotency-Key and body give the first "
                                             "answer again, with 200"), "content": _json(response)}
    parameters = [{"in": "path", "name": name.strip("{}"), "required": True, "schema": {"type": "string"}}
                  for name in path.split("/") if name.startswith("{")]
    if doc["query"]:
        parameters.append({"in": "query", "schema": doc["query"]})
    for header in doc["headers"]:
        parameters.append({"in": "header", "name": header, "required": True,
                           "schema": IDEMPOTENCY_KEY if header == "Idempotency-Key" else {"type": "string"}})
    if key in OPTIONAL_IDEMPOTENCY_KEY:
        parameters.append({"in": "header", "name": "Idempotency-Key", "required": False, "schema": IDEMPOTENCY_KEY})
    if parameters:
        operation["parameters"] = parameters
    if doc["body"]:
        operation["requestBody"] = {"required": True, "content": _json(doc["body"])}
    if doc["auth"]:
        operation["security"] = [{"bearer": []}]
    return operation


@functools.cache
def _build(app) -> dict:
    from apispec import APISpec  # only GET /api/openapi.json needs it
    from apispec.ext.marshmallow import MarshmallowPlugin

    from api import responses  # the answers' classes: built for the document only

    spec = APISpec(title="Baogong 保供 API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("ErrorSchema", schema=responses.ErrorSchema)
    for path, methods in sorted(app.routes.items()):
        missing = [m for m, e in methods.items() if not hasattr(e.view_function, "__openapi__")]
        if missing:
            raise RuntimeError(f"route {path} {missing} has no @documented")
        operations = {method.lower(): _operation(entry.view_function, method, path, responses)
                      for method, entry in methods.items()}
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def spec(app) -> dict:
    return _build(app)
