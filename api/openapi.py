"""The OpenAPI document, generated from the routes Chalice knows and the marshmallow schemas.

A route declares its payloads with `@documented(...)`; `spec(app)` walks every
registered route, so a route can't exist without appearing in the document.
"""
import functools

from api import schemas
from api.errors import guarded

_ERRORS = {400: "输入有误 Bad input", 401: "未登录 No or bad token", 403: "无权限 Wrong role or scope",
           404: "不存在 Not found", 409: "冲突 Conflict", 413: "太大 Too large: use a background job",
           422: "业务规则拒绝 Refused by a rule",
           503: "存储繁忙 Storage busy (Retry-After)"}


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


def _operation(view, path: str) -> dict:
    doc = view.__openapi__
    operation = {"summary": doc["summary"], "operationId": view.__name__,
                 "responses": {str(code): {"description": text, "content": {"application/json": {"schema": "ErrorSchema"}}}
                               for code, text in _ERRORS.items() if code in doc["errors"]}}
    operation["responses"][str(doc["status"])] = (
        {"description": "OK", "content": {"application/json": {"schema": doc["response"]}}}
        if doc["response"] else {"description": "OK"})
    parameters = [{"in": "path", "name": name.strip("{}"), "required": True, "schema": {"type": "string"}}
                  for name in path.split("/") if name.startswith("{")]
    if doc["query"]:
        parameters.append({"in": "query", "schema": doc["query"]})
    parameters += [{"in": "header", "name": h, "required": True, "schema": {"type": "string"}} for h in doc["headers"]]
    if parameters:
        operation["parameters"] = parameters
    if doc["body"]:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc["body"]}}}
    if doc["auth"]:
        operation["security"] = [{"bearer": []}]
    return operation


@functools.cache
def _build(app) -> dict:
    from apispec import APISpec  # only GET /api/openapi.json needs it
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(title="Baogong 保供 API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("ErrorSchema", schema=schemas.ErrorSchema)
    for path, methods in sorted(app.routes.items()):
        operations = {method.lower(): _operation(entry.view_function, path)
                      for method, entry in methods.items() if hasattr(entry.view_function, "__openapi__")}
        missing = [m for m, e in methods.items() if not hasattr(e.view_function, "__openapi__")]
        if missing:
            raise RuntimeError(f"route {path} {missing} has no @documented")
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def spec(app) -> dict:
    return _build(app)
