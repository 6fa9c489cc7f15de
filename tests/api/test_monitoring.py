"""价格与库存监测: supply points (保供网点) report price, cost, stock and sales every day; alerts fire when
the stock-to-sales ratio (库销比) is low or falls fast, when a price jumps, and when the markup is
gouging; a scheduled function stores the daily report every day at 09:00 Beijing and the periodic
report on the 10th, 20th and 30th (the last day of a month without a 30th).

Each alert is shown to fire just past its threshold and not at it, on synthetic reports for
consecutive days sent through the POST with `day`. The clock stands at Friday 2026-11-20 10:00
in Beijing, or where a test freezes it.
"""
from datetime import date, timedelta

import pytest

from api.models import PointReport
from tests.api.helpers import error_of, get, post, put, writes
from tests.api.supply_helpers import (  # noqa: F401 (fixtures)
    TODAY, TOMORROW, YESTERDAY, beijing, create_supply_point, daily_report, frozen, invited, not_found,
    other_sub_district, price_line, supply_point_body, supply_point_with_reporter,
)

SIX = [{"name": "东北大米", "category": "rice", "unit": "kg"}, {"name": "猪肉", "category": "meat", "unit": "kg"},
       {"name": "鸡蛋", "category": "eggs", "unit": "箱"}, {"name": "菜籽油", "category": "oil", "unit": "桶"},
       {"name": "白菜", "category": "vegetables", "unit": "kg"}, {"name": "纯牛奶", "category": "milk", "unit": "箱"}]
A, B, C, D = "东北大米", "猪肉", "鸡蛋", "菜籽油"


@pytest.fixture
def point(client, demo) -> dict:
    """A market with the usual markup of 20% selling six commodities, and its reporter (by invite)."""
    return supply_point_with_reporter(client, demo["tokens"]["admin"], commodities=SIX)


def send(client, point, day, **lines) -> dict:
    """Report `lines` (commodity name → price_line keyword arguments) for `day`; the 201 body."""
    response = daily_report(client, point, [price_line(point["ids"][name], **kw) for name, kw in lines.items()],
                            day=day)
    assert response.status_code == 201, response.body
    return response.json_body


def kinds(report: dict) -> dict[str, set[str]]:
    """commodity name → the kinds of alert its line raised."""
    found: dict[str, set[str]] = {}
    for alert in report["alerts"]:
        found.setdefault(alert["commodity"], set()).add(alert["kind"])
    return found


def listed_alerts(client, demo, day=TODAY) -> list[dict]:
    response = get(client, f"/api/monitoring/alerts?day={day}", demo["tokens"]["admin"])
    assert response.status_code == 200, response.body
    return response.json_body["alerts"]


STEADY = {"price": "10.00", "cost": "9.00", "stock": 1000, "sales": 100}  # 库销比 10, markup 11.1%


# --- alerts --------------------------------------------------------------------------------

def test_stock_low__fires_below_three_days_of_sales_and_not_at_exactly_three(client, demo, point):
    report = send(client, point, TODAY, **{A: {**STEADY, "stock": 300, "sales": 100},
                                           B: {**STEADY, "stock": 299, "sales": 100},
                                           C: {**STEADY, "stock": 599, "sales": 200}})
    assert kinds(report) == {B: {"stock_low"}, C: {"stock_low"}}
    [alert] = [a for a in listed_alerts(client, demo) if a["commodity"] == B]
    assert (alert["kind"], alert["point_id"], alert["point_name"], alert["day"]) == \
        ("stock_low", point["point_id"], "城南农贸市场", TODAY)
    assert alert["value"] == pytest.approx(2.99) and alert["threshold"] == 3
    assert alert["alert_id"] and B in alert["text"]


def test_stock_low__no_sales__no_alert(client, demo, point):
    assert send(client, point, TODAY, **{A: {**STEADY, "stock": 0, "sales": 0}})["alerts"] == []


def test_stock_falling__fires_when_the_ratio_falls_more_than_30_percent_and_not_at_exactly_30(client, demo, point):
    send(client, point, YESTERDAY, **{A: STEADY, B: STEADY, C: STEADY, D: STEADY})
    report = send(client, point, TODAY, **{
        A: {**STEADY, "stock": 700},                   # 10 → 7: exactly 30%
        B: {**STEADY, "stock": 699},                   # 10 → 6.99: 30.1%
        C: {**STEADY, "stock": 1400, "sales": 200},    # 10 → 7 by more sales: exactly 30%
        D: {**STEADY, "stock": 1398, "sales": 200},    # 10 → 6.99
    })
    assert kinds(report) == {B: {"stock_falling"}, D: {"stock_falling"}}
    [alert] = [a for a in listed_alerts(client, demo) if a["commodity"] == B]
    assert alert["value"] == pytest.approx(30.1) and alert["threshold"] == 30


def test_stock_falling__compares_with_the_day_before_only(client, demo, point):
    send(client, point, "2026-11-18", **{A: STEADY})
    # No report on the 19th: nothing to compare with on the 20th.
    assert send(client, point, TODAY, **{A: {**STEADY, "stock": 500}})["alerts"] == []


def test_price_jump__fires_over_10_percent_day_on_day_either_way_and_not_at_exactly_10(client, demo, point):
    send(client, point, YESTERDAY, **{A: STEADY, B: STEADY, C: STEADY, D: STEADY})
    report = send(client, point, TODAY, **{A: {**STEADY, "price": "11.00"}, B: {**STEADY, "price": "11.01"},
                                           C: {**STEADY, "price": "9.00"}, D: {**STEADY, "price": "8.99"}})
    assert kinds(report) == {B: {"price_jump"}, D: {"price_jump"}}
    values = {a["commodity"]: a["value"] for a in listed_alerts(client, demo) if a["kind"] == "price_jump"}
    assert values == {B: pytest.approx(10.1), D: pytest.approx(-10.1)}


def test_gouging__fires_over_the_usual_markup_plus_5_points_and_not_at_exactly_plus_5(client, demo, point):
    # The usual markup is 20%: 25% is still allowed, 25.1% is not.
    report = send(client, point, TODAY, **{A: {**STEADY, "cost": "10.00", "price": "12.50"},
                                           B: {**STEADY, "cost": "10.00", "price": "12.51"}})
    assert kinds(report) == {B: {"gouging"}}
    [alert] = listed_alerts(client, demo)
    assert alert["value"] == pytest.approx(25.1) and alert["threshold"] == 25


def test_gouging__follows_the_points_own_usual_markup(client, demo):
    shop = supply_point_with_reporter(client, demo["tokens"]["admin"], name="放心便利店", kind="shop",
                                      usual_markup_pct=40, commodities=SIX[:2])
    report = send(client, shop, TODAY, **{A: {**STEADY, "cost": "10.00", "price": "14.50"},
                                          B: {**STEADY, "cost": "10.00", "price": "14.51"}})
    assert kinds(report) == {B: {"gouging"}}


def test_alerts__listed_by_day_for_the_sub_district_only(client, demo, point, other_sub_district):
    send(client, point, YESTERDAY, **{A: {**STEADY, "stock": 100}})
    send(client, point, TODAY, **{B: {**STEADY, "stock": 100}})
    assert [a["commodity"] for a in listed_alerts(client, demo, YESTERDAY)] == [A]
    assert [a["commodity"] for a in listed_alerts(client, demo, TODAY)] == [B]
    theirs = get(client, f"/api/monitoring/alerts?day={TODAY}", other_sub_district["token"])
    assert theirs.status_code == 200 and theirs.json_body["alerts"] == []
    assert get(client, f"/api/monitoring/alerts?day={TODAY}", point["token"]).status_code == 403


# --- reports: bad input, replacing, who ----------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"stock": -1}, {"sales": -1}, {"stock": 10_000_001}, {"stock": 1.5},
    {"price": "4.205"}, {"price": "0"}, {"price": "0.00"}, {"price": "-4.20"}, {"price": "100000.01"},
    {"price": "abc"}, {"cost": "3.805"}, {"cost": "-1"},
], ids=["negative_stock", "negative_sales", "stock_over_10^7", "fractional_stock", "price_3_decimals",
        "price_zero", "price_zero_cents", "price_negative", "price_over_100000", "price_text", "cost_3_decimals",
        "cost_negative"])
def test_report__bad_figures__400_and_nothing_written(client, demo, point, changes):
    line = {**price_line(point["ids"][A]), **changes}
    with writes() as written:
        error_of(daily_report(client, point, [line], day=TODAY), 400, "bad_input")
    assert written == [] and stored_reports(point) == []


def test_report__for_a_future_day__400_and_nothing_written(client, demo, point, frozen):
    with writes() as written:
        error_of(daily_report(client, point, [price_line(point["ids"][A])], day=TOMORROW), 400, "bad_input")
    assert written == []
    # 00:30 in Beijing on the 21st is the 21st, not the future.
    frozen.move_to(beijing("2026-11-21 00:30"))
    assert daily_report(client, point, [price_line(point["ids"][A])], day=TOMORROW).status_code == 201


def test_report__a_commodity_of_another_point__400_and_nothing_written(client, demo, point):
    other = create_supply_point(client, demo["tokens"]["admin"], name="城北超市", kind="supermarket")
    foreign = other["commodities"][0]["commodity_id"]
    with writes() as written:
        error_of(daily_report(client, point, [price_line(foreign)], day=TODAY), 400, "bad_input")
    assert written == []


def stored_reports(point) -> list[PointReport]:
    return list(PointReport.query(f"POINT#{point['point_id']}", PointReport.sk.startswith("REPORT#"),
                                  consistent_read=True))


def test_report__201_with_its_lines_in_fen_and_the_day(client, demo, point):
    report = send(client, point, TODAY, **{A: {"price": "4.20", "cost": "3.80", "stock": 500, "sales": 120}})
    assert report["day"] == TODAY and report["alerts"] == []
    [line] = report["lines"]
    assert (line["commodity_id"], line["price_fen"], line["cost_fen"], line["stock"], line["sales"]) == \
        (point["ids"][A], 420, 380, 500, 120)


def test_report__without_a_day__is_todays(client, demo, point):
    response = daily_report(client, point, [price_line(point["ids"][A])])
    assert response.status_code == 201, response.body
    assert response.json_body["day"] == TODAY


def test_report__second_for_the_day_without_replace__409_already_reported_and_nothing_written(client, demo, point):
    send(client, point, TODAY, **{A: {"price": "4.20"}})
    with writes() as written:
        error_of(daily_report(client, point, [price_line(point["ids"][A], price="4.40")], day=TODAY), 409,
                 "already_reported")
        error_of(daily_report(client, point, [price_line(point["ids"][A], price="4.40")], day=TODAY, replace=False),
                 409, "already_reported")
    assert written == [] and len(stored_reports(point)) == 1


def test_report__replace__201_and_the_first_kept_in_the_history(client, demo, point):
    send(client, point, TODAY, **{A: {"price": "4.20"}})
    response = daily_report(client, point, [price_line(point["ids"][A], price="4.40")], day=TODAY, replace=True)
    assert response.status_code == 201, response.body
    versions = sorted(stored_reports(point), key=lambda r: int(r.version))
    assert [(int(r.version), bool(r.current), int(r.lines[0].price_fen)) for r in versions] == \
        [(1, False, 420), (2, True, 440)]


def test_report__another_points_reporter__404_and_nothing_written(client, demo, point):
    other = supply_point_with_reporter(client, demo["tokens"]["admin"], name="城北超市", kind="supermarket")
    with writes() as written:
        not_found(daily_report(client, point, [price_line(point["ids"][A])], day=TODAY, token=other["token"]))
        not_found(get(client, f"/api/supply-points/{point['point_id']}/reports/form?day={TODAY}", other["token"]))
    assert written == []


@pytest.mark.parametrize("role", ["admin", "liaison", "supplier"])
def test_report__not_a_reporter__403_and_nothing_written(client, demo, point, role):
    with writes() as written:
        response = daily_report(client, point, [price_line(point["ids"][A])], day=TODAY, token=demo["tokens"][role])
    assert response.status_code == 403, response.body
    assert written == []


def test_form__prefilled_from_the_last_report_before_the_day(client, demo, point):
    send(client, point, "2026-11-17", **{A: {"price": "4.10", "cost": "3.70", "stock": 800, "sales": 90}})
    send(client, point, "2026-11-18", **{A: {"price": "4.20", "cost": "3.80", "stock": 700, "sales": 100}})
    response = get(client, f"/api/supply-points/{point['point_id']}/reports/form?day={TODAY}", point["token"])
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["day"] == TODAY and len(body["lines"]) == len(SIX)
    rice = next(line for line in body["lines"] if line["commodity_id"] == point["ids"][A])
    assert (rice["name"], rice["category"], rice["unit"]) == (A, "rice", "kg")
    assert (rice["price_fen"], rice["cost_fen"], rice["stock"], rice["sales"]) == (420, 380, 700, 100)
    pork = next(line for line in body["lines"] if line["commodity_id"] == point["ids"][B])
    assert pork["price_fen"] is None  # never reported
    admin = get(client, f"/api/supply-points/{point['point_id']}/reports/form?day={TODAY}", demo["tokens"]["admin"])
    assert admin.status_code == 200


# --- supply points -------------------------------------------------------------------------

def test_supply_point__created_listed_and_changed_by_the_admin(client, demo):
    admin = demo["tokens"]["admin"]
    created = create_supply_point(client, admin, commodities=SIX[:2])
    assert (created["name"], created["kind"], created["usual_markup_pct"]) == ("城南农贸市场", "market", 20)
    assert [(c["name"], c["category"], c["unit"]) for c in created["commodities"]] == \
        [(c["name"], c["category"], c["unit"]) for c in SIX[:2]]
    assert all(c["commodity_id"] for c in created["commodities"])
    listed = get(client, "/api/supply-points", admin)
    assert listed.status_code == 200 and [p["point_id"] for p in listed.json_body["points"]] == [created["point_id"]]
    changed = put(client, f"/api/supply-points/{created['point_id']}",
                  supply_point_body(name="城南市场", usual_markup_pct=15, commodities=created["commodities"]), admin)
    assert changed.status_code == 200, changed.body
    assert (changed.json_body["name"], changed.json_body["usual_markup_pct"]) == ("城南市场", 15)
    assert [c["commodity_id"] for c in changed.json_body["commodities"]] == \
        [c["commodity_id"] for c in created["commodities"]]


@pytest.mark.parametrize("changes", [{"usual_markup_pct": 201}, {"usual_markup_pct": -1}, {"kind": "bazaar"},
                                     {"commodities": [{"name": "糖", "category": "sugar", "unit": "kg"}]},
                                     {"name": ""}],
                         ids=["markup_over_200", "markup_negative", "kind", "category", "name"])
def test_supply_point__bad_input__400_and_nothing_written(client, demo, changes):
    with writes() as written:
        error_of(post(client, "/api/supply-points", supply_point_body(**changes), demo["tokens"]["admin"]), 400,
                 "bad_input")
    assert written == []


def test_supply_point__another_sub_districts__404_and_nothing_written(client, demo, point, other_sub_district):
    theirs = other_sub_district["token"]
    with writes() as written:
        not_found(put(client, f"/api/supply-points/{point['point_id']}", supply_point_body(), theirs))
        not_found(get(client, f"/api/supply-points/{point['point_id']}/reports/form?day={TODAY}", theirs))
        invite = post(client, "/api/invites", {"role": "supply_point", "scope_id": point["point_id"]}, theirs)
        unknown = post(client, "/api/invites", {"role": "supply_point", "scope_id": "01JNOSUCHPOINT00000000000"}, theirs)
        # Answered as a point that does not exist: the other admin learns nothing about this one.
        assert (invite.status_code, invite.json_body) == (400, unknown.json_body), invite.body
    assert written == []
    assert get(client, "/api/supply-points", theirs).json_body["points"] == []


def test_supply_point__its_reporter_joins_by_invite_from_the_admin_only(client, demo, point):
    refused = post(client, "/api/invites", {"role": "supply_point", "scope_id": point["point_id"]},
                   demo["tokens"]["liaison"])
    assert refused.status_code == 403
    token = invited(client, demo["tokens"]["admin"], "supply_point", point["point_id"])
    assert daily_report(client, point, [price_line(point["ids"][A])], token=token).status_code == 201


# --- series --------------------------------------------------------------------------------

def test_series__per_day_with_null_where_a_day_has_no_report(client, demo, point):
    other = supply_point_with_reporter(client, demo["tokens"]["admin"], name="城北超市", kind="supermarket",
                                       commodities=SIX[:1])
    send(client, point, "2026-11-18", **{A: {"price": "4.10", "stock": 800, "sales": 90}})
    send(client, point, TODAY, **{A: {"price": "4.30", "stock": 600, "sales": 110}})
    send(client, other, YESTERDAY, **{A: {"price": "4.50", "stock": 300, "sales": 50}})
    response = get(client, f"/api/monitoring/series?commodity={A}&days=3", demo["tokens"]["admin"])
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["days"] == ["2026-11-18", YESTERDAY, TODAY]
    by_point = {s["point_id"]: s for s in body["series"]}
    assert by_point[point["point_id"]]["price_fen"] == [410, None, 430]
    assert by_point[point["point_id"]]["stock"] == [800, None, 600]
    assert by_point[point["point_id"]]["sales"] == [90, None, 110]
    assert by_point[other["point_id"]]["price_fen"] == [None, 450, None]
    one = get(client, f"/api/monitoring/series?commodity={A}&point_id={other['point_id']}&days=3",
              demo["tokens"]["admin"]).json_body
    assert [s["point_id"] for s in one["series"]] == [other["point_id"]]


# --- the scheduled reports -----------------------------------------------------------------

def run_scheduled() -> dict:
    """The app's own scheduled handler, called as EventBridge calls it."""
    from app import app
    event = {"version": "0", "account": "123456789012", "region": "cn-north-1", "detail": {},
             "detail-type": "Scheduled Event", "source": "aws.events", "time": "", "id": "test-event",
             "resources": ["arn:aws-cn:events:cn-north-1:123456789012:rule/daily_market_report"]}
    return app.handler_map["daily_market_report"](event, None)


def stored_summaries(client, demo, kind) -> list[dict]:
    response = get(client, f"/api/monitoring/reports?kind={kind}", demo["tokens"]["admin"])
    assert response.status_code == 200, response.body
    return response.json_body["reports"]


def run_every_morning(client, demo, frozen, first: date, last: date, reporting: dict) -> None:
    """From `first` to `last`: `reporting` sends the day before's figures, then at 09:00 Beijing the
    scheduled handler runs."""
    day = first
    while day <= last:
        frozen.move_to(beijing(f"{day.isoformat()} 08:30"))
        send(client, reporting, (day - timedelta(days=1)).isoformat(), **{A: {"price": "4.20"}})
        frozen.move_to(beijing(f"{day.isoformat()} 09:00"))
        run_scheduled()
        day += timedelta(days=1)


PERIODS = [
    # November: the 10th, 20th and 30th, not the 11th.
    (beijing("2026-11-10 08:00"), date(2026, 11, 10), date(2026, 11, 30), ["2026-11-30", "2026-11-20", "2026-11-10"]),
    # February 2027 (28 days): the 28th is the month's last periodic day; then 10 March.
    (beijing("2027-02-09 08:00"), date(2027, 2, 9), date(2027, 3, 10), ["2027-03-10", "2027-02-28", "2027-02-20",
                                                                        "2027-02-10"]),
    # February 2028 (a leap year): the 29th, not the 28th.
    (beijing("2028-02-19 08:00"), date(2028, 2, 19), date(2028, 3, 1), ["2028-02-29", "2028-02-20"]),
    # December: the 30th, not the 31st; then 10 January.
    (beijing("2026-12-29 08:00"), date(2026, 12, 29), date(2027, 1, 11), ["2027-01-10", "2026-12-30"]),
]


@pytest.mark.parametrize("frozen, first, last, periodic_days", PERIODS, indirect=["frozen"],
                         ids=["november", "february", "leap-february", "december"])
def test_scheduled__a_daily_report_every_day_and_the_periodic_one_on_the_10th_20th_and_30th(
        client, demo, frozen, first, last, periodic_days):
    admin = demo["tokens"]["admin"]
    reporting = supply_point_with_reporter(client, admin, commodities=SIX[:1])
    silent = supply_point_with_reporter(client, admin, name="城北超市", kind="supermarket", commodities=SIX[:1])
    run_every_morning(client, demo, frozen, first, last, reporting)
    periodic = stored_summaries(client, demo, "periodic")
    assert [r["day"] for r in periodic] == periodic_days
    daily = stored_summaries(client, demo, "daily")
    every_day = [(last - timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    assert [r["day"] for r in daily] == every_day
    # Each lists the point that has not reported, and only it.
    for report in periodic + daily:
        assert report["missing"] == [{"point_id": silent["point_id"], "name": "城北超市"}], report


@pytest.mark.parametrize("frozen", [beijing(f"{TODAY} 08:00")], indirect=True)
def test_scheduled__the_daily_report_has_yesterdays_figures_per_commodity(client, demo, frozen):
    admin = demo["tokens"]["admin"]
    one = supply_point_with_reporter(client, admin, commodities=SIX[:2])
    two = supply_point_with_reporter(client, admin, name="城北超市", kind="supermarket", commodities=SIX[:1])
    send(client, one, YESTERDAY, **{A: {"price": "4.20", "stock": 500, "sales": 100},
                                     B: {"price": "30.00", "cost": "26.00", "stock": 200, "sales": 40}})
    send(client, two, YESTERDAY, **{A: {"price": "4.60", "stock": 300, "sales": 60}})
    send(client, two, "2026-11-18", **{A: {"price": "9.00", "stock": 1, "sales": 1}})  # another day
    frozen.move_to(beijing(f"{TODAY} 09:00"))
    run_scheduled()
    [report] = stored_summaries(client, demo, "daily")
    assert report["day"] == TODAY and report["missing"] == []
    rice = next(c for c in report["commodities"] if c["name"] == A)
    assert (rice["avg_fen"], rice["min_fen"], rice["max_fen"], rice["stock"], rice["sales"]) == (440, 420, 460, 800, 160)
    assert [r["day"] for r in stored_summaries(client, demo, "periodic")] == [TODAY]  # the 20th: periodic too
    assert next(c for c in report["commodities"] if c["name"] == B)["avg_fen"] == 3000


@pytest.mark.parametrize("frozen", [beijing("2026-11-09 08:00")], indirect=True)
def test_scheduled__the_periodic_report_covers_the_days_since_the_last_one(client, demo, frozen):
    admin = demo["tokens"]["admin"]
    point = supply_point_with_reporter(client, admin, commodities=SIX[:1])
    frozen.move_to(beijing("2026-11-10 09:00"))
    run_scheduled()
    frozen.move_to(beijing("2026-11-15 12:00"))
    send(client, point, "2026-11-15", **{A: {"price": "5.00"}})
    frozen.move_to(beijing("2026-11-20 08:30"))
    send(client, point, "2026-11-19", **{A: {"price": "4.20"}})
    frozen.move_to(beijing("2026-11-20 09:00"))
    run_scheduled()
    newest = stored_summaries(client, demo, "periodic")[0]
    assert newest["day"] == "2026-11-20"
    rice = next(c for c in newest["commodities"] if c["name"] == A)
    assert (rice["min_fen"], rice["max_fen"]) == (420, 500)  # the 15th is in it
    daily = stored_summaries(client, demo, "daily")[0]
    assert next(c for c in daily["commodities"] if c["name"] == A)["max_fen"] == 420  # yesterday only


def test_scheduled__reports_only_for_the_sub_districts_admin(client, demo, other_sub_district, point):
    run_scheduled()
    assert stored_summaries(client, demo, "daily")
    theirs = get(client, "/api/monitoring/reports?kind=daily", other_sub_district["token"])
    assert theirs.status_code == 200 and theirs.json_body["reports"] == []
    assert get(client, "/api/monitoring/reports?kind=daily", point["token"]).status_code == 403
    error_of(get(client, "/api/monitoring/reports?kind=weekly", demo["tokens"]["admin"]), 400, "bad_input")


def test_scheduled__daily_market_report_runs_at_01_00_utc_every_day():
    """09:00 in Beijing, every day of the month and week."""
    from app import app
    [source] = [s for s in app.event_sources if s.name == "daily_market_report"]
    assert source.schedule_expression.to_string() == "cron(0 1 * * ? *)"


def test_alerts__a_replaced_report_does_not_leave_its_alerts_behind(client, demo, point):
    """A typo (stock 30 for 300) fires stock_low; the replacement with the right figure fires nothing,
    and the day's alerts are those of the current report."""
    assert kinds(send(client, point, TODAY, **{A: {**STEADY, "stock": 30}})) == {A: {"stock_low"}}
    fixed = daily_report(client, point, [price_line(point["ids"][A], **{**STEADY, "stock": 300})], day=TODAY,
                         replace=True)
    assert fixed.status_code == 201 and fixed.json_body["alerts"] == [], fixed.body
    assert listed_alerts(client, demo) == []


def test_alerts__a_replacement_with_the_same_figures_lists_each_alert_once(client, demo, point):
    send(client, point, TODAY, **{A: {**STEADY, "stock": 30}})
    again = daily_report(client, point, [price_line(point["ids"][A], **{**STEADY, "stock": 30})], day=TODAY,
                         replace=True)
    assert again.status_code == 201, again.body
    assert [(a["commodity"], a["kind"]) for a in listed_alerts(client, demo)] == [(A, "stock_low")]
