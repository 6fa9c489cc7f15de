"""Thin Chalice blueprints: read the request, load it through a schema, make one domain call."""
import json

from api.errors import BadInput


def json_body(request) -> dict:
    """The request's JSON object, or a 400 that says so."""
    try:
        body = json.loads(request.raw_body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadInput("请求内容不是有效的 JSON", "The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadInput("请求内容应为 JSON 对象", "The body must be a JSON object")
    return body
