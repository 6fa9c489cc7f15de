"""价格与库存监测 market monitoring: supply points report price, cost, stock and sales every day (plan 4).

A report is checked against the point's report of the day before, and alerts are written with it:
- `stock_low`: 库销比 (stock ÷ sales, in days of sales) below STOCK_SALES_MIN; `stock_falling`: the ratio
  fell by more than STOCK_FALL_PCT since the day before;
- `price_jump`: the price moved more than PRICE_JUMP_PCT day on day, either way;
- `gouging`: the markup (price − cost) ÷ cost is more than GOUGING_MARGIN_PCT points above the point's
  usual markup (plan 4: 保持正常加价率).
Each fires strictly beyond its threshold, never at it. A second report for a day replaces the first
only when it says so; the first stays, not current. At 09:00 Beijing a scheduled function stores each
sub-district's daily report (yesterday's figures, the alerts, the points that have not reported) and, on
the 10th, 20th and 30th (the month's last day when it has no 30th), the periodic report since the last one.
"""
import calendar
from datetime import date, datetime, timedelta
from fractions import Fraction

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, ids
from api.auth import Principal
from api.errors import BadInput, Conflict, NotFound, storage_errors
from api.models import (
    Commodity, MarketAlert, MarketRegistry, MarketSummary, PointReport, PriceLine, SubDistrictListing, SupplyPoint,
    transaction_connection,
)

STOCK_SALES_MIN = 3          # days of sales in stock
STOCK_FALL_PCT = 30          # % fall of the ratio day on day
PRICE_JUMP_PCT = 10          # % price move day on day
GOUGING_MARGIN_PCT = 5       # markup points above the usual
PERIODIC_DAYS = (10, 20, 30)
_TRANSACTION_ITEMS = 100


def _no_such() -> NotFound:
    return NotFound("没有这个保供网点", "No such supply point", code="no_such_point")


def get_point(point_id: str) -> SupplyPoint:
    with storage_errors():
        try:
            return SupplyPoint.get(f"POINT#{point_id}", "POINT", consistent_read=True)
        except SupplyPoint.DoesNotExist:
            raise _no_such() from None


def point_for(principal: Principal, point_id: str, *, reporter: bool = True) -> SupplyPoint:
    """The point, for the admin of its sub-district or (with `reporter`) its own reporter; else 404."""
    point = get_point(point_id)
    if (principal.role == "admin" and principal.scope_id == point.sub_district_id) or (
            reporter and principal.role == "supply_point" and principal.scope_id == point_id):
        return point
    raise _no_such()


def point_view(point: SupplyPoint) -> dict:
    return {"point_id": point.point_id, "name": point.name, "kind": point.point_kind, "address": point.address,
            "usual_markup_pct": int(point.usual_markup_pct), "sub_district_id": point.sub_district_id,
            "commodities": [{"commodity_id": c.commodity_id, "name": c.name, "category": c.category, "unit": c.unit}
                            for c in point.commodities]}


def _commodities(sent: list[dict], kept: list[Commodity]) -> list[Commodity]:
    known = {c.commodity_id for c in kept}
    out = []
    for i, c in enumerate(sent):
        if c.get("commodity_id") and c["commodity_id"] not in known:
            raise BadInput("商品不存在，请刷新后再改", "No such commodity; reload and edit again",
                           fields={"commodities": {i: {"commodity_id": ["不存在 / No such commodity"]}}})
        out.append(Commodity(commodity_id=c.get("commodity_id") or ids.new_id(), name=c["name"],
                             category=c["category"], unit=c["unit"]))
    if len({c.name for c in out}) != len(out):
        raise BadInput("商品名称重复", "Two commodities have the same name", fields={"commodities": ["名称重复 / Names repeat"]})
    return out


def create_point(principal: Principal, data: dict) -> dict:
    point_id = ids.new_id()
    point = SupplyPoint(f"POINT#{point_id}", "POINT", point_id=point_id, sub_district_id=principal.scope_id,
                        name=data["name"], point_kind=data["kind"], address=data.get("address", ""),
                        usual_markup_pct=data["usual_markup_pct"], commodities=_commodities(data["commodities"], []),
                        created_at=clock.now())
    with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
        transaction.save(point, condition=SupplyPoint.pk.does_not_exist())
        transaction.save(SubDistrictListing(f"SUBDISTRICT#{principal.scope_id}", f"POINT#{point_id}",
                                            listed_id=point_id, name=data["name"]))
        transaction.save(MarketRegistry("MARKETS", f"SUBDISTRICT#{principal.scope_id}",
                                        sub_district_id=principal.scope_id))
    return point_view(point)


def update_point(principal: Principal, point_id: str, data: dict) -> dict:
    point = point_for(principal, point_id, reporter=False)
    with storage_errors():
        point.update(actions=[SupplyPoint.name.set(data["name"]), SupplyPoint.point_kind.set(data["kind"]),
                              SupplyPoint.address.set(data.get("address", "")),
                              SupplyPoint.usual_markup_pct.set(data["usual_markup_pct"]),
                              SupplyPoint.commodities.set(_commodities(data["commodities"], point.commodities))])
    return point_view(point)


def points_of(sub_district_id: str) -> list[SupplyPoint]:
    with storage_errors():
        listed = list(SubDistrictListing.query(f"SUBDISTRICT#{sub_district_id}",
                                               SubDistrictListing.sk.startswith("POINT#")))
        keys = [(f"POINT#{item.listed_id}", "POINT") for item in listed]
        return sorted(SupplyPoint.batch_get(keys), key=lambda p: p.name) if keys else []


def listed(principal: Principal) -> dict:
    return {"points": [point_view(p) for p in points_of(principal.scope_id)]}


# --- reports ------------------------------------------------------------------------------------------

def _reports_of_day(point_id: str, day: str) -> list[PointReport]:
    with storage_errors():
        return list(PointReport.query(f"POINT#{point_id}", PointReport.sk.startswith(f"REPORT#{day}#"),
                                      consistent_read=True, scan_index_forward=False))


def _current(point_id: str, day: str) -> PointReport | None:
    return next((r for r in _reports_of_day(point_id, day) if r.current), None)


def _last_before(point_id: str, day: str) -> PointReport | None:
    with storage_errors():
        for report in PointReport.query(f"POINT#{point_id}", PointReport.sk < f"REPORT#{day}#",
                                        consistent_read=True, scan_index_forward=False, limit=20):
            if report.current and report.sk.startswith("REPORT#"):
                return report
    return None


def line_view(line: PriceLine) -> dict:
    return {"commodity_id": line.commodity_id, "name": line.name, "category": line.category, "unit": line.unit,
            "price_fen": int(line.price_fen), "cost_fen": int(line.cost_fen), "stock": int(line.stock),
            "sales": int(line.sales)}


def form(principal: Principal, point_id: str, day: str | None) -> dict:
    """The day's form, pre-filled from the last report before it (the phone form: change what changed)."""
    point = point_for(principal, point_id)
    when = clock.day_of(day).isoformat()
    last = _last_before(point_id, when)
    previous = {line.commodity_id: line for line in (last.lines if last else [])}
    lines = []
    for c in point.commodities:
        p = previous.get(c.commodity_id)
        lines.append({"commodity_id": c.commodity_id, "name": c.name, "category": c.category, "unit": c.unit,
                      "price_fen": int(p.price_fen) if p else None, "cost_fen": int(p.cost_fen) if p else None,
                      "stock": int(p.stock) if p else None, "sales": int(p.sales) if p else None})
    today = _current(point_id, when)
    return {"day": when, "point": point_view(point), "lines": lines, "prefilled_from": last.day if last else None,
            "reported": today is not None}


def _pct(numerator: Fraction) -> float:
    return round(float(numerator * 100), 1)


def alerts_for(point: SupplyPoint, line: PriceLine, before: PriceLine | None) -> list[tuple[str, Fraction, int, str]]:
    """(kind, value, threshold, text) for each alert this line raises. Exact fractions: a threshold is never
    crossed by rounding."""
    found = []
    name = f"{point.name} {line.name}"
    ratio = Fraction(int(line.stock), int(line.sales)) if int(line.sales) else None
    if ratio is not None and ratio < STOCK_SALES_MIN:
        found.append(("stock_low", ratio, STOCK_SALES_MIN,
                      f"{name} 库销比 {float(ratio):.1f} 天，低于 {STOCK_SALES_MIN} 天 / stock covers {float(ratio):.1f} days of sales"))
    if before is not None:
        before_ratio = Fraction(int(before.stock), int(before.sales)) if int(before.sales) else None
        if ratio is not None and before_ratio:
            fall = (before_ratio - ratio) / before_ratio
            if fall * 100 > STOCK_FALL_PCT:
                found.append(("stock_falling", fall * 100, STOCK_FALL_PCT,
                              f"{name} 库销比一天下降 {_pct(fall)}% / stock-to-sales ratio fell {_pct(fall)}% in a day"))
        if int(before.price_fen):
            move = Fraction(int(line.price_fen) - int(before.price_fen), int(before.price_fen))
            if abs(move) * 100 > PRICE_JUMP_PCT:
                found.append(("price_jump", move * 100, PRICE_JUMP_PCT,
                              f"{name} 价格一天{'上涨' if move > 0 else '下跌'} {_pct(abs(move))}% / price moved {_pct(move)}% in a day"))
    if int(line.cost_fen):
        markup = Fraction(int(line.price_fen) - int(line.cost_fen), int(line.cost_fen)) * 100
        allowed = int(point.usual_markup_pct) + GOUGING_MARGIN_PCT
        if markup > allowed:
            found.append(("gouging", markup, allowed,
                          f"{name} 加价率 {float(markup):.1f}%，高于正常 {int(point.usual_markup_pct)}% / markup above the usual rate"))
    return found


def submit(principal: Principal, point_id: str, data: dict) -> dict:
    """The day's report and its alerts, in one transaction (a replaced report stays, not current)."""
    point = point_for(principal, point_id)
    day = clock.day_of(data.get("day"))
    if day > clock.today():
        raise BadInput("不能报送将来的日期", "A report cannot be for a future day", fields={"day": ["将来的日期 / In the future"]})
    when = day.isoformat()
    commodities = {c.commodity_id: c for c in point.commodities}
    problems = {f"lines.{i}.commodity_id": ["不是本网点的商品 / Not a commodity of this point"]
                for i, line in enumerate(data["lines"]) if line["commodity_id"] not in commodities}
    seen = [line["commodity_id"] for line in data["lines"]]
    if len(set(seen)) != len(seen):
        problems["lines"] = ["同一商品报了两次 / A commodity appears twice"]
    if problems:
        raise BadInput("输入有误，请按提示修改", "Invalid input; fix the fields listed", fields=problems)
    earlier = _reports_of_day(point_id, when)
    current = next((r for r in earlier if r.current), None)
    if current is not None and not data.get("replace"):
        raise Conflict("这一天已经报送过；要替换，请选择「替换」", "Already reported for this day; send replace: true to replace it",
                       code="already_reported")
    version = (int(earlier[0].version) if earlier else 0) + 1
    lines = [PriceLine(commodity_id=c.commodity_id, name=c.name, category=c.category, unit=c.unit,
                       price_fen=line["price"], cost_fen=line["cost"], stock=line["stock"], sales=line["sales"])
             for line in data["lines"] for c in [commodities[line["commodity_id"]]]]
    now = clock.now()
    report = PointReport(f"POINT#{point_id}", f"REPORT#{when}#v{version:02d}",
                         gsi1pk=f"MARKET#{point.sub_district_id}#{when}", gsi1sk=f"POINT#{point_id}#v{version:02d}",
                         point_id=point_id, point_name=point.name, sub_district_id=point.sub_district_id, day=when,
                         version=version, lines=lines, current=True, reported_by=principal.subject, reported_at=now)
    before = _current(point_id, (day - timedelta(days=1)).isoformat())
    previous = {line.commodity_id: line for line in (before.lines if before else [])}
    alerts = [MarketAlert(f"MARKET#{point.sub_district_id}", f"ALERT#{when}#{ids.new_id()}", alert_id=ids.new_id(),
                          alert_kind=kind, point_id=point_id, point_name=point.name, commodity=line.name, day=when,
                          value=float(value), threshold=threshold, text=text, created_at=now)
              for line in lines for kind, value, threshold, text in alerts_for(point, line, previous.get(line.commodity_id))]
    # A replaced report's alerts go with it: they warned about figures the point has since corrected.
    stale = _alerts_of(point, when) if current is not None else []
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(report, condition=PointReport.pk.does_not_exist())
            if current is not None:
                transaction.update(current, actions=[PointReport.current.set(False)],
                                   condition=PointReport.current == True)  # noqa: E712 - an attribute condition
            for alert in stale[:_TRANSACTION_ITEMS // 2 - 1]:
                transaction.delete(alert)
            for alert in alerts[:_TRANSACTION_ITEMS // 2 - 1]:
                transaction.save(alert)
    except TransactWriteError:
        raise Conflict("同时有另一份报送，请刷新后再试", "Another report was sent at the same time; reload and retry",
                       code="already_reported") from None
    return {"point_id": point_id, "day": when, "version": version, "current": True,
            "lines": [line_view(line) for line in lines], "alerts": [alert_view(a) for a in alerts]}


def _alerts_of(point: SupplyPoint, day: str) -> list[MarketAlert]:
    with storage_errors():
        return [a for a in MarketAlert.query(f"MARKET#{point.sub_district_id}", MarketAlert.sk.startswith(f"ALERT#{day}#"),
                                             consistent_read=True) if a.point_id == point.point_id]


def history(principal: Principal, point_id: str, day: str | None) -> dict:
    point_for(principal, point_id)
    when = clock.day_of(day).isoformat()
    return {"day": when, "reports": [{"version": int(r.version), "current": bool(r.current),
                                      "reported_at": clock.iso(r.reported_at),
                                      "lines": [line_view(line) for line in r.lines]}
                                     for r in _reports_of_day(point_id, when)]}


def alert_view(alert: MarketAlert) -> dict:
    return {"alert_id": alert.alert_id, "kind": alert.alert_kind, "point_id": alert.point_id,
            "point_name": alert.point_name, "commodity": alert.commodity, "day": alert.day,
            "value": round(float(alert.value), 2), "threshold": float(alert.threshold), "text": alert.text}


def alerts(principal: Principal, day: str | None) -> dict:
    when = clock.day_of(day).isoformat()
    with storage_errors():
        found = list(MarketAlert.query(f"MARKET#{principal.scope_id}", MarketAlert.sk.startswith(f"ALERT#{when}#")))
    return {"day": when, "alerts": [alert_view(a) for a in found]}


def current_reports(sub_district_id: str, day: str) -> list[PointReport]:
    """The sub-district's current reports of a day: one Query of GSI1."""
    with storage_errors():
        return [r for r in PointReport.by_owner.query(f"MARKET#{sub_district_id}#{day}") if r.current]


def market_price(sub_district_id: str, category: str, unit: str, day: str) -> int | None:
    """The average price (fen, rounded half up) of a category and unit across the day's reports, or None."""
    prices = [int(line.price_fen) for report in current_reports(sub_district_id, day) for line in report.lines
              if line.category == category and line.unit == unit]
    if not prices:
        return None
    return int((Fraction(sum(prices), len(prices)) + Fraction(1, 2)) // 1)


def series(principal: Principal, commodity: str, point_id: str | None, days: int) -> dict:
    """Price, stock and sales per day for the charts: one Query per point that sells the commodity."""
    last = clock.today()
    first = last - timedelta(days=days - 1)
    axis = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    points = [p for p in points_of(principal.scope_id) if point_id in (None, p.point_id)
              and any(c.name == commodity for c in p.commodities)]
    out = []
    for point in points:
        by_day = {}
        with storage_errors():
            for report in PointReport.query(f"POINT#{point.point_id}",
                                            PointReport.sk.between(f"REPORT#{axis[0]}#", f"REPORT#{axis[-1]}#~"),
                                            consistent_read=True):
                if report.current:
                    by_day[report.day] = next((line for line in report.lines if line.name == commodity), None)
        out.append({"point_id": point.point_id, "name": point.name,
                    "price_fen": [int(by_day[d].price_fen) if by_day.get(d) else None for d in axis],
                    "stock": [int(by_day[d].stock) if by_day.get(d) else None for d in axis],
                    "sales": [int(by_day[d].sales) if by_day.get(d) else None for d in axis]})
    return {"commodity": commodity, "days": axis, "series": out}


# --- the scheduled reports --------------------------------------------------------------------------------

def periodic_day(day: date) -> bool:
    """The 10th, 20th and 30th; in a month without a 30th, its last day."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day in (10, 20) or day.day == min(30, last)


def _previous_periodic(day: date) -> date:
    current = day - timedelta(days=1)
    while not periodic_day(current):
        current -= timedelta(days=1)
    return current


def _summary(sub_district_id: str, first: date, last: date) -> tuple[list, list, int]:
    """(per-commodity figures, points that have not reported `last`, alerts over the period)."""
    figures: dict[tuple[str, str, str], dict] = {}
    reported_last = set()
    alert_count = 0
    current = first
    while current <= last:
        day = current.isoformat()
        for report in current_reports(sub_district_id, day):
            if current == last:
                reported_last.add(report.point_id)
            for line in report.lines:
                f = figures.setdefault((line.name, line.category, line.unit), {"prices": [], "stock": 0, "sales": 0})
                f["prices"].append(int(line.price_fen))
                if current == last:
                    f["stock"] += int(line.stock)
                f["sales"] += int(line.sales)
        with storage_errors():
            alert_count += sum(1 for _ in MarketAlert.query(f"MARKET#{sub_district_id}",
                                                            MarketAlert.sk.startswith(f"ALERT#{day}#")))
        current += timedelta(days=1)
    commodities = [{"name": n, "category": c, "unit": u, "avg_fen": round(sum(f["prices"]) / len(f["prices"])),
                    "min_fen": min(f["prices"]), "max_fen": max(f["prices"]), "stock": f["stock"], "sales": f["sales"]}
                   for (n, c, u), f in sorted(figures.items())]
    missing = [{"point_id": p.point_id, "name": p.name} for p in points_of(sub_district_id)
               if p.point_id not in reported_last]
    return commodities, missing, alert_count


def run_daily(now: datetime) -> dict:
    """At 09:00 Beijing: each sub-district's daily report of yesterday, and on a periodic day the periodic one."""
    today = now.astimezone(clock.SHANGHAI).date()
    yesterday = today - timedelta(days=1)
    made = {"daily": 0, "periodic": 0}
    with storage_errors():
        registered = [r.sub_district_id for r in MarketRegistry.query("MARKETS", MarketRegistry.sk.startswith("SUBDISTRICT#"))]
    for sub_district_id in registered:
        kinds = [("daily", yesterday)] + ([("periodic", _previous_periodic(today))] if periodic_day(today) else [])
        for kind, first in kinds:
            commodities, missing, alert_count = _summary(sub_district_id, first, yesterday)
            with storage_errors():
                MarketSummary(f"MARKET#{sub_district_id}", f"SUMMARY#{kind}#{today.isoformat()}", report_kind=kind,
                              day=today.isoformat(), period_from=first.isoformat(), period_to=yesterday.isoformat(),
                              commodities=commodities, missing=missing, alerts=alert_count, created_at=now).save()
            made[kind] += 1
    return made


def summaries(principal: Principal, kind: str) -> dict:
    with storage_errors():
        found = list(MarketSummary.query(f"MARKET#{principal.scope_id}", MarketSummary.sk.startswith(f"SUMMARY#{kind}#"),
                                         scan_index_forward=False, limit=60))
    return {"reports": [{"kind": s.report_kind, "day": s.day, "period_from": s.period_from, "period_to": s.period_to,
                         "commodities": list(s.commodities), "missing": list(s.missing), "alerts": int(s.alerts),
                         "created_at": clock.iso(s.created_at)} for s in found]}
