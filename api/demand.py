"""需求上报 demand reports: what a community's households need, by category, totalled for the sub-district.

A community (its liaison or information officer) reports once a day; a second report replaces the
first only when it says so (`replace`), and the first stays in the history with `current` False. The
sub-district's staff see the current reports totalled by category and unit and by community, with the
communities that have not reported, and send the summary upward as XLSX (plan 3: 汇总上报).
"""
import io
from collections import defaultdict
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from api import clock, communities, exports, rounds
from api.auth import Principal
from api.errors import BadInput, Conflict, storage_errors
from api.models import Bundle, Community, DemandLine, DemandReport, Household, Order, transaction_connection

CONSOLE = ("liaison", "info_officer")
CATEGORY_TEXT = {"rice": "大米", "flour": "面粉", "oil": "食用油", "meat": "肉类", "eggs": "鸡蛋", "milk": "奶",
                 "vegetables": "蔬菜", "water": "饮用水", "protective": "防疫物资", "other": "其他"}
# A bundle item's name → its category, for the pre-fill (first match wins: 面粉 before 面).
_WORDS = (("大米", "rice"), ("米", "rice"), ("面粉", "flour"), ("挂面", "flour"), ("面", "flour"), ("油", "oil"),
          ("肉", "meat"), ("鸡蛋", "eggs"), ("蛋", "eggs"), ("奶", "milk"), ("水", "water"), ("口罩", "protective"),
          ("消毒", "protective"), ("菜", "vegetables"), ("瓜", "vegetables"), ("萝卜", "vegetables"),
          ("土豆", "vegetables"))


def category_of(name: str) -> str | None:
    return next((category for word, category in _WORDS if word in name), None)


def _day(text: str | None):
    day = clock.day_of(text)
    if day > clock.today():
        raise BadInput("不能上报将来的日期", "A report cannot be for a future day", fields={"day": ["将来的日期 / In the future"]})
    return day


def prefill(principal: Principal, community_id: str) -> dict:
    """Suggested lines: the community's live orders in open rounds, by the category of each bundle item,
    and one line per special household (they need checking on, and often door delivery)."""
    community = communities.for_staff(principal, community_id, roles=CONSOLE)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    with storage_errors():
        for rnd in rounds.open_for_community(community_id, clock.now()):
            bundles = {b.bundle_id: b for b in Bundle.query(rnd.pk, Bundle.sk.startswith("ROUND#BUNDLE#"))}
            for order in Order.query(rnd.pk, Order.sk.startswith(f"ORDER#{community_id}#")):
                if order.status in ("cancelled", "expired"):
                    continue
                for line in order.lines:
                    bundle = bundles.get(line.bundle_id)
                    for item in (bundle.items if bundle else []):
                        category = category_of(item.name)
                        if category and str(item.qty).isdigit():
                            totals[(category, item.unit or "件")] += int(item.qty) * int(line.qty)
        special = sum(1 for _ in Household.by_owner.query(f"SPECIAL#{community_id}",
                                                         Household.gsi1sk.startswith("CHECKIN#")))
    lines = [{"category": c, "quantity": q, "unit": u, "basis": "当前订单 Current orders"}
             for (c, u), q in sorted(totals.items())]
    if special:
        lines.append({"category": "other", "quantity": special, "unit": "户",
                      "basis": f"特殊人群 {special} 户 Special households"})
    return {"community_id": community.community_id, "lines": lines}


def view(report: DemandReport) -> dict:
    return {"community_id": report.community_id, "community_name": report.community_name, "day": report.day,
            "version": int(report.version), "current": bool(report.current), "replaced": not report.current,
            "lines": [{"category": line.category, "quantity": int(line.quantity), "unit": line.unit, "note": line.note}
                      for line in report.lines],
            "reported_by": report.reported_by, "reported_at": clock.iso(report.reported_at)}


def _versions(community_id: str, day: str) -> list[DemandReport]:
    with storage_errors():
        return list(DemandReport.query(f"COMMUNITY#{community_id}", DemandReport.sk.startswith(f"DEMAND#{day}#"),
                                       consistent_read=True, scan_index_forward=False))


def submit(principal: Principal, community_id: str, data: dict) -> dict:
    """The day's report; a second needs `replace`, and then the first is kept, marked not current."""
    community = communities.for_staff(principal, community_id, roles=CONSOLE)
    day = _day(data.get("day")).isoformat()
    earlier = _versions(community_id, day)
    current = next((r for r in earlier if r.current), None)
    if current is not None and not data.get("replace"):
        raise Conflict("今天已经上报过；要替换，请勾选「替换上一份」", "Already reported for this day; send replace: true to replace it",
                       code="already_reported")
    version = (int(earlier[0].version) if earlier else 0) + 1
    merged: dict[tuple[str, str], DemandLine] = {}
    for line in data["lines"]:
        key = (line["category"], line["unit"])
        if key in merged:
            merged[key].quantity = int(merged[key].quantity) + line["quantity"]
        else:
            merged[key] = DemandLine(category=line["category"], quantity=line["quantity"], unit=line["unit"],
                                     note=line.get("note", ""))
    report = DemandReport(
        f"COMMUNITY#{community_id}", f"DEMAND#{day}#v{version:02d}",
        gsi1pk=f"DEMAND#{community.sub_district_id}#{day}", gsi1sk=f"COMMUNITY#{community_id}#v{version:02d}",
        community_id=community_id, community_name=community.name, sub_district_id=community.sub_district_id,
        day=day, version=version, lines=list(merged.values()), current=True, reported_by=principal.subject,
        reported_at=clock.now())
    try:
        with storage_errors(), TransactWrite(connection=transaction_connection()) as transaction:
            transaction.save(report, condition=DemandReport.pk.does_not_exist())
            if current is not None:
                transaction.update(current, actions=[DemandReport.current.set(False)],
                                   condition=DemandReport.current == True)  # noqa: E712 - an attribute condition
    except TransactWriteError:
        raise Conflict("同时有另一份上报，请刷新后再试", "Another report was sent at the same time; reload and retry",
                       code="already_reported") from None
    return view(report)


def history(principal: Principal, community_id: str, day: str | None) -> dict:
    communities.for_staff(principal, community_id, roles=(*CONSOLE, "admin"))
    when = clock.day_of(day).isoformat()
    return {"day": when, "reports": [view(r) for r in _versions(community_id, when)]}


def summary(principal: Principal, day: str | None) -> dict:
    """The current reports of the admin's sub-district for a day, totalled: one Query, plus the listing."""
    when = clock.day_of(day).isoformat()
    sub_district_id = principal.scope_id
    with storage_errors():
        found = [r for r in DemandReport.by_owner.query(f"DEMAND#{sub_district_id}#{when}") if r.current]
    listed: list[Community] = communities.of_sub_district(sub_district_id)
    by_category: dict[tuple[str, str], int] = defaultdict(int)
    for report in found:
        for line in report.lines:
            by_category[(line.category, line.unit)] += int(line.quantity)
    reported = {r.community_id for r in found}
    return {
        "day": when,
        "by_category": [{"category": c, "category_text": CATEGORY_TEXT[c], "unit": u, "quantity": q}
                        for (c, u), q in sorted(by_category.items(), key=lambda kv: (list(CATEGORY_TEXT).index(kv[0][0]), kv[0][1]))],
        "by_community": sorted(({"community_id": r.community_id, "name": r.community_name,
                                 "lines": view(r)["lines"], "reported_at": clock.iso(r.reported_at)} for r in found),
                               key=lambda c: c["name"]),
        "missing": [{"community_id": c.community_id, "name": c.name} for c in listed if c.community_id not in reported],
    }


SUMMARY_COLUMNS = (("类别 Category", 16), ("单位 Unit", 8), ("数量 Quantity", 12))
COMMUNITY_COLUMNS = (("小区 Community", 20), ("类别 Category", 16), ("单位 Unit", 8), ("数量 Quantity", 12),
                     ("备注 Note", 30), ("上报时间 Reported (Beijing)", 18))


def export(principal: Principal, day: str | None) -> tuple[str, bytes]:
    """(filename, XLSX bytes): 汇总, 各小区, 未上报."""
    data = summary(principal, day)
    out = io.BytesIO()
    book = exports.Book(out)
    sheet = book.sheet("汇总 Summary", SUMMARY_COLUMNS)
    for row in data["by_category"]:
        book.append(sheet, [f"{row['category_text']} {row['category']}", row["unit"], row["quantity"]])
    sheet = book.sheet("各小区 By community", COMMUNITY_COLUMNS)
    for community in data["by_community"]:
        reported = clock.shanghai(datetime.fromisoformat(community["reported_at"].replace("Z", "+00:00")))
        for line in community["lines"]:
            book.append(sheet, [community["name"], f"{CATEGORY_TEXT[line['category']]} {line['category']}",
                                line["unit"], line["quantity"], line["note"], reported])
    sheet = book.sheet("未上报 Not reported", (("小区 Community", 24),))
    for community in data["missing"]:
        book.append(sheet, [community["name"]])
    book.close()
    return f"demand-{data['day']}.xlsx", out.getvalue()
