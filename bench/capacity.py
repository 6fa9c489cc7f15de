"""DynamoDB's billing rules, applied to what a request sent and what the table held (for `bench.calls`).

moto does not return ConsumedCapacity for every operation, so the units are computed here from the
items themselves, read back through a client of our own (no app hooks on it):

- an item's size: the UTF-8 length of every attribute name plus its value: S as UTF-8 bytes, B as
  bytes, N as 1 byte per two significant digits plus 1, BOOL and NULL 1 byte, L and M 3 bytes plus
  their elements (each counted with 1 byte of its own), sets the sum of their elements
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html);
- a write: 1 WCU per started KB of the larger of the item before and after; 2 per KB inside a
  transaction (prepare and commit), a ConditionCheck as well; a delete counts the item it removes;
- the GSI (GSI1, projection ALL): an item that has GSI1PK and GSI1SK before or after the write is
  written to the index too, 1 WCU per started KB (2 writes if the write moves it to another index key);
- a read: per started 4 KB, 1 RCU strongly consistent, 0.5 eventually; a GetItem and each key of a
  BatchGetItem counts on its own, found or not (at least one unit); a Query sums the sizes of the
  items it reads before any filter or projection and rounds once; TransactGetItems costs 2 per 4 KB.

These are the published rules; DynamoDB's own figure can differ by a byte here and there (its exact
per-element overhead is not documented), never by a unit unless an item sits on a KB boundary.
"""
import json
import math
import re
from collections import Counter
from decimal import Decimal

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
READS = ("GetItem", "BatchGetItem", "Query", "TransactGetItems", "Scan")


def _number_size(text: str) -> int:
    digits = format(abs(Decimal(text)), "f").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return _number_size(v)
    if kind == "B":
        return len(v) if isinstance(v, (bytes, bytearray)) else len(v.encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(_number_size(s) for s in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(e) + 1 for k, e in v.items())
    raise ValueError(kind)


def item_size(item: dict | None) -> int:
    """Bytes of a low-level item ({name: {type: value}}), by DynamoDB's rules; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def wcu(size: int, factor: int = 1) -> int:
    return factor * max(1, math.ceil(size / 1024))


def rcu(size: int, consistent: bool, factor: int = 1) -> float:
    return factor * max(1, math.ceil(size / 4096)) * (1 if consistent else 0.5)


_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def pattern(text: str) -> str:
    """A key with its ids taken out: ROUND#01J...#X → ROUND#<id>#X."""
    return re.sub(r"\d{6,}", "<n>", _ULID.sub("<id>", text))


def describe(name: str, body: dict) -> str:
    """One call, as `Get(SK pattern)`, `Q(PK pattern)`, `TWI[n]`..., for the call sequence of a request."""
    if name in ("GetItem", "UpdateItem", "DeleteItem"):
        return f"{name[:-4] or name}({pattern(body['Key']['SK']['S'])})"
    if name == "PutItem":
        return f"Put({pattern(body['Item']['SK']['S'])})"
    if name == "Query":
        values = body.get("ExpressionAttributeValues", {})
        first = next((v.get("S", "") for v in values.values() if "S" in v), "")
        return f"Q{'[GSI1]' if 'IndexName' in body else ''}({pattern(first)})"
    if name == "BatchGetItem":
        return f"BGI[{sum(len(s['Keys']) for s in body['RequestItems'].values())}]"
    if name == "TransactWriteItems":
        return f"TWI[{len(body['TransactItems'])}]"
    if name == "BatchWriteItem":
        return f"BWI[{sum(len(r) for r in body['RequestItems'].values())}]"
    return name


def _key(item: dict) -> tuple[str, str]:
    return item["PK"]["S"], item["SK"]["S"]


def _index_key(item: dict | None):
    if item and "GSI1PK" in item and "GSI1SK" in item:
        return item["GSI1PK"]["S"], item["GSI1SK"]["S"]
    return None


class Meter:
    """Counts the calls made on `client` (the app's botocore DynamoDB client) and their capacity units.

    `raw` is a client of our own on the same table, used to read items before and after each write.
    Between start() and stop(): `calls` (Counter of operation names), `wcu`, `rcu`, `gsi_wcu`, and
    `written`: [(kind, sort-key pattern, bytes after)] for each item a write put or changed.
    """

    def __init__(self, client, raw, table: str):
        self.client, self.raw, self.table = client, raw, table
        self.on = False
        self.reset()
        client.meta.events.register("before-call.dynamodb", self._before, unique_id="bench-meter-before")
        client.meta.events.register("after-call.dynamodb", self._after, unique_id="bench-meter-after")

    def close(self):
        self.client.meta.events.unregister("before-call.dynamodb", unique_id="bench-meter-before")
        self.client.meta.events.unregister("after-call.dynamodb", unique_id="bench-meter-after")

    def reset(self):
        self.calls = Counter()
        self.wcu = self.rcu = self.gsi_wcu = 0
        self.written: list[tuple[str, str, int]] = []
        self.sequence: list[str] = []
        self.items: list[tuple[str, str, int, int]] = []  # (action, SK pattern, bytes, WCU) of each write target
        self._pending = []

    def start(self):
        self.reset()
        self.on = True

    def stop(self):
        self.on = False

    # --- reading the table from the side ---------------------------------------------------------

    def _get(self, key: tuple[str, str]) -> dict | None:
        got = self.raw.get_item(TableName=self.table, Key={"PK": {"S": key[0]}, "SK": {"S": key[1]}},
                                ConsistentRead=True)
        return got.get("Item")

    def _query_size(self, params: dict) -> int:
        """The bytes a Query reads: replayed without filter, projection or Select (they do not lower it)."""
        replay = {k: v for k, v in params.items()
                  if k in ("TableName", "IndexName", "KeyConditionExpression", "ExpressionAttributeNames",
                           "ExpressionAttributeValues", "Limit", "ExclusiveStartKey", "ScanIndexForward",
                           "ConsistentRead")}
        used = replay.get("KeyConditionExpression", "")
        if "ExpressionAttributeNames" in replay:
            replay["ExpressionAttributeNames"] = {k: v for k, v in replay["ExpressionAttributeNames"].items()
                                                  if re.search(re.escape(k) + r"\b", used)}
            if not replay["ExpressionAttributeNames"]:
                del replay["ExpressionAttributeNames"]
        if "ExpressionAttributeValues" in replay:
            replay["ExpressionAttributeValues"] = {k: v for k, v in replay["ExpressionAttributeValues"].items()
                                                   if re.search(re.escape(k) + r"\b", used)}
            if not replay["ExpressionAttributeValues"]:
                del replay["ExpressionAttributeValues"]
        replay["ConsistentRead"] = False if "IndexName" in replay else replay.get("ConsistentRead", False)
        page = self.raw.query(**replay)
        return sum(item_size(i) for i in page["Items"])

    # --- hooks -------------------------------------------------------------------------------------------

    def _targets(self, name: str, body: dict) -> list[tuple[str, tuple[str, str], int]]:
        """(action, key, factor) for each item a write names."""
        if name == "PutItem":
            return [("Put", _key(body["Item"]), 1)]
        if name in ("UpdateItem", "DeleteItem"):
            return [(name[:-4], _key(body["Key"]), 1)]
        if name == "TransactWriteItems":
            out = []
            for entry in body["TransactItems"]:
                (action, spec), = entry.items()
                out.append((action, _key(spec.get("Item") or spec["Key"]), 2))
            return out
        if name == "BatchWriteItem":
            out = []
            for requests in body["RequestItems"].values():
                for request in requests:
                    if "PutRequest" in request:
                        out.append(("Put", _key(request["PutRequest"]["Item"]), 1))
                    else:
                        out.append(("Delete", _key(request["DeleteRequest"]["Key"]), 1))
            return out
        return []

    def _before(self, params, model, **kwargs):
        if not self.on:
            return
        name = model.name
        self.calls[name] += 1
        body = json.loads(params.get("body") or b"{}")
        targets = self._targets(name, body)
        self.sequence.append(describe(name, body))
        befores = {key: self._get(key) for _, key, _ in targets}
        self._pending.append((name, body, targets, befores))

    def _after(self, http_response, parsed, model, **kwargs):
        if not self.on or not self._pending:
            return
        name, body, targets, befores = self._pending.pop()
        if http_response.status_code >= 300:
            if name == "TransactWriteItems":
                # A cancelled transaction still costs its write units (DynamoDB bills the attempt).
                for action, key, factor in targets:
                    self.wcu += wcu(item_size(befores[key]), factor)
            return
        if name in WRITES:
            for action, key, factor in targets:
                before = befores[key]
                after = None if action == "Delete" else (self._get(key) if action != "ConditionCheck" else before)
                size = max(item_size(before), item_size(after))
                self.wcu += wcu(size, factor)
                self.items.append((action, pattern(key[1]), size, wcu(size, factor)))
                if action != "ConditionCheck":
                    old, new = _index_key(before), _index_key(after)
                    if old and new and old != new:
                        self.gsi_wcu += wcu(item_size(before)) + wcu(item_size(after))
                    elif old or new:
                        self.gsi_wcu += wcu(size)
                    if after is not None:
                        self.written.append((action, key[1], item_size(after)))
        elif name == "GetItem":
            self.rcu += rcu(item_size(self._get(_key(body["Key"]))), body.get("ConsistentRead", False))
        elif name == "BatchGetItem":
            for spec in body["RequestItems"].values():
                for key in spec["Keys"]:
                    self.rcu += rcu(item_size(self._get(_key(key))), spec.get("ConsistentRead", False))
        elif name == "TransactGetItems":
            for entry in body["TransactItems"]:
                self.rcu += rcu(item_size(self._get(_key(entry["Get"]["Key"]))), True, 2)
        elif name == "Query":
            self.rcu += rcu(self._query_size(body), body.get("ConsistentRead", False) and "IndexName" not in body)
