"""Page cursors: DynamoDB's LastEvaluatedKey, handed to the client as opaque text and checked on return.

A cursor must name the same partition and stay under the same sort-key prefix it was issued
for, so a cursor cannot be bent into reading another round or community.
"""
import base64
import json

from api.errors import BadInput


def encode(key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode(cursor: str | None, pk: str, prefix: str) -> dict | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        ok = key["PK"]["S"] == pk and key["SK"]["S"].startswith(prefix) and set(key) == {"PK", "SK"}
    except (ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise BadInput("翻页参数无效，请从第一页重新加载", "The cursor is not valid; reload from the first page",
                       fields={"cursor": ["无效 / Invalid"]})
    return key
