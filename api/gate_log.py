"""督查 the supervision log of a site: every gate event, append-only, and the deviations among them.

An event is written in the same transaction as the change it records (a registration, a review, a step
at the gate), put only if absent and never updated or deleted: the log is what the supervisor (督查组)
trusts. Deviations are marked when the event is written: an arrival outside the approved window, a
release tried before the rest had ended (refused, and logged), a plate turned away at the gate.
"""
import io
from datetime import date, timedelta, timezone

from api import clock, exports, ids
from api.auth import Principal
from api.errors import BadInput, storage_errors
from api.models import Delivery, GateEvent

DEVIATIONS = {"outside_window": ("未在批准的时段内到达", "Arrived outside the approved window"),
              "release_before_rest": ("静置未结束就要放行（已拒绝）", "Release tried before the rest ended (refused)"),
              "turned_away": ("未报备车辆，已劝返", "Unapproved plate turned away")}
EVENT_TEXT = {"registered": "报备 Registered", "approved": "审核通过 Approved", "rejected": "审核不通过 Rejected",
              "arrived": "到达 Arrived", "disinfected": "消杀 Disinfected", "routed": "指定卸货点 Point assigned",
              "released": "放行 Released", "release_refused": "放行被拒 Release refused",
              "unloaded": "卸货完毕 Unloaded", "departed": "驶离 Departed", "set_down": "卸至接驳区 Set down",
              "left": "车辆离开 Vehicle left", "turned_away": "劝返 Turned away"}
MAX_EXPORT_DAYS = 31


def event(site_id: str, event_type: str, principal: Principal, delivery: Delivery | None = None, *,
          plate: str = "", details: dict | None = None, deviation: str | None = None) -> GateEvent:
    now = clock.now()
    event_id = ids.new_id()
    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return GateEvent(f"SITE#{site_id}", f"EVENT#{stamp}#{event_id}", event_id=event_id, event_type=event_type,
                     delivery_id=delivery.delivery_id if delivery else None,
                     plate=delivery.plate if delivery else plate, by=principal.subject, by_role=principal.role,
                     at=now, details={k: str(v) for k, v in (details or {}).items()}, deviation=deviation)


def append(record: GateEvent) -> None:
    """An event on its own (a refusal, a turn-away): there is no other change to go with it."""
    with storage_errors():
        record.save(condition=GateEvent.pk.does_not_exist())


def view(record: GateEvent) -> dict:
    return {"event_id": record.event_id, "at": clock.iso(record.at), "type": record.event_type,
            "delivery_id": record.delivery_id, "plate": record.plate, "by": record.by, "by_role": record.by_role,
            "details": dict(record.details.as_dict() if hasattr(record.details, "as_dict") else record.details),
            "deviation": record.deviation}


def _bounds(first: date, last: date) -> tuple[str, str]:
    start, end = clock.day_start(first), clock.day_start(last + timedelta(days=1))
    return f"EVENT#{start:%Y-%m-%dT%H:%M:%S}", f"EVENT#{end:%Y-%m-%dT%H:%M:%S}"


def events(site_id: str, first: date, last: date):
    low, high = _bounds(first, last)
    return GateEvent.query(f"SITE#{site_id}", GateEvent.sk.between(low, high), consistent_read=True)


def day(site_id: str, text: str | None) -> dict:
    """The events of one Beijing day, oldest first, and the deviations among them: one Query."""
    when = clock.day_of(text)
    with storage_errors():
        found = [view(e) for e in events(site_id, when, when)]
    return {"day": when.isoformat(), "events": found, "deviations": [e for e in found if e["deviation"]]}


COLUMNS = (("时间 Time (Beijing)", 18), ("事件 Event", 22), ("车牌 Plate", 12), ("报备单 Delivery", 36),
           ("操作人 By", 30), ("详情 Details", 50), ("异常 Deviation", 36))


def _row(record: GateEvent) -> list:
    details = record.details.as_dict() if hasattr(record.details, "as_dict") else dict(record.details)
    deviation = DEVIATIONS.get(record.deviation)
    return [clock.shanghai(record.at), EVENT_TEXT.get(record.event_type, record.event_type), record.plate,
            record.delivery_id or "", f"{record.by_role} {record.by}",
            "；".join(f"{k}={v}" for k, v in sorted(details.items())),
            f"{deviation[0]} {deviation[1]}" if deviation else ""]


def export(site_id: str, site_name: str, query: dict) -> tuple[str, str, str | bytes]:
    """(filename, content type, bytes) of the log from `from` to `to` (Beijing days, at most 31)."""
    fmt = query.get("format") or "xlsx"
    if fmt not in ("csv", "xlsx"):
        raise BadInput("格式应为 csv 或 xlsx", "format must be csv or xlsx", fields={"format": ["csv | xlsx"]})
    first, last = clock.day_of(query.get("from_"), "from"), clock.day_of(query.get("to"), "to")
    if last < first or (last - first).days >= MAX_EXPORT_DAYS:
        raise BadInput(f"日期范围应为 1 到 {MAX_EXPORT_DAYS} 天，且结束不早于开始",
                       f"The range must run forwards and span 1 to {MAX_EXPORT_DAYS} days",
                       fields={"to": [f"1–{MAX_EXPORT_DAYS} 天 / days"]})
    out = io.BytesIO()
    with storage_errors():
        rows = (_row(e) for e in events(site_id, first, last))
        # Plates, reasons and names are typed by people: both writers defuse text a spreadsheet would run.
        if fmt == "csv":
            table = exports.CsvFile(out)
            table.header(COLUMNS)
            table.rows(rows)
            table.close()
        else:
            book = exports.Book(out)
            sheet = book.sheet("门岗日志 Gate log", COLUMNS)
            for row in rows:
                book.append(sheet, row)
            book.close()
    # CSV leaves as text (with its BOM), XLSX as bytes: API Gateway passes only binary types through as bytes.
    body = out.getvalue().decode("utf-8") if fmt == "csv" else out.getvalue()
    return f"gate-log-{site_name}-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}", exports.CONTENT_TYPES[fmt], body
