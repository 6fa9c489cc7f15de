"""需求上报: a community's daily demand report (once a day; a replacement keeps the first in the
history), and the sub-district's summary: totals by category and unit and by community over the
current reports only, the communities that have not reported, and the same in XLSX.

Three communities of the demo sub-district (幸福家园小区 and two more, their liaisons joined by
invite); the clock stands at Friday 2026-11-20 10:00 in Beijing.
"""
from collections import defaultdict
from datetime import datetime, timezone

import pytest

from api.models import DemandReport
from tests.api.helpers import error_of, get, writes
from tests.api.supply_helpers import (  # noqa: F401 (fixtures)
    TODAY, TOMORROW, YESTERDAY, community_with_liaison, demand_line, frozen, invited, not_found, other_sub_district,
    report_demand, rows, workbook,
)


@pytest.fixture
def communities(client, demo):
    """name → {community_id, join_key, name, liaison} for the demo community and two more."""
    made = {"幸福家园小区": {"community_id": demo["community_id"], "name": "幸福家园小区",
                          "liaison": demo["tokens"]["liaison"]}}
    for name in ("和平里小区", "阳光花园小区"):
        made[name] = community_with_liaison(client, demo, name)
    return made


def demand_history(client, token, community_id, day=TODAY) -> list[dict]:
    response = get(client, f"/api/communities/{community_id}/demand?day={day}", token)
    assert response.status_code == 200, response.body
    return response.json_body["reports"]


def summary(client, token, day=TODAY) -> dict:
    response = get(client, f"/api/sub-districts/mine/demand?day={day}", token)
    assert response.status_code == 200, response.body
    return response.json_body


def stored_reports(community_id) -> list[DemandReport]:
    return list(DemandReport.query(f"COMMUNITY#{community_id}", DemandReport.sk.startswith("DEMAND#"),
                                   consistent_read=True))


RICE_OIL = [demand_line("rice", 120, "kg", "含 3 户老人"), demand_line("oil", 20, "桶")]


# --- a community's report ------------------------------------------------------------------

def test_report__201_version_1_current_with_who_and_when(client, demo):
    response = report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL)
    assert response.status_code == 201, response.body
    report = response.json_body
    assert (report["community_id"], report["day"], report["version"]) == (demo["community_id"], TODAY, 1)
    assert (report["current"], report["replaced"]) == (True, False)
    assert [(l["category"], l["quantity"], l["unit"]) for l in report["lines"]] == [("rice", 120, "kg"),
                                                                                   ("oil", 20, "桶")]
    assert report["lines"][0]["note"] == "含 3 户老人"
    assert report["reported_by"] and report["reported_at"] == "2026-11-20T02:00:00Z"


def test_report__by_the_information_officer__201(client, demo):
    response = report_demand(client, demo["tokens"]["info_officer"], demo["community_id"], RICE_OIL)
    assert response.status_code == 201, response.body


def test_report__without_a_day__is_todays_in_beijing_not_utc(client, demo, frozen):
    frozen.move_to(datetime(2026, 11, 20, 17, 30, tzinfo=timezone.utc))  # 2026-11-21 01:30 in Beijing
    response = report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL)
    assert response.status_code == 201, response.body
    assert response.json_body["day"] == TOMORROW


def test_report__for_an_earlier_day__201_on_that_day(client, demo):
    response = report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL, day=YESTERDAY)
    assert response.status_code == 201, response.body
    assert response.json_body["day"] == YESTERDAY


def test_report__for_a_future_day__400_and_nothing_written(client, demo):
    with writes() as written:
        response = report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL, day=TOMORROW)
    error_of(response, 400, "bad_input")
    assert written == [] and stored_reports(demo["community_id"]) == []


@pytest.mark.parametrize("line", [
    demand_line("rice", 0, "kg"), demand_line("rice", -5, "kg"), demand_line("rice", 10_000_001, "kg"),
    demand_line("rice", 1.5, "kg"), demand_line("sugar", 10, "kg"), demand_line("rice", 10, ""),
    demand_line("rice", 10, "kilograms"), {"category": "rice", "quantity": 10},
], ids=["zero", "negative", "over_10^7", "fraction", "unknown_category", "no_unit", "unit_over_8_chars",
        "unit_missing"])
def test_report__a_bad_line__400_and_nothing_written(client, demo, line):
    with writes() as written:
        response = report_demand(client, demo["tokens"]["liaison"], demo["community_id"], [line])
    error_of(response, 400, "bad_input")
    assert written == []


def test_report__no_lines_or_a_malformed_day__400(client, demo):
    with writes() as written:
        error_of(report_demand(client, demo["tokens"]["liaison"], demo["community_id"], []), 400, "bad_input")
        error_of(report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL, day="2026-11-31"),
                 400, "bad_input")
        error_of(report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL, day="20/11/2026"),
                 400, "bad_input")
    assert written == []


def test_report__second_for_the_same_day_without_replace__409_already_reported_and_nothing_written(client, demo):
    token, cid = demo["tokens"]["liaison"], demo["community_id"]
    assert report_demand(client, token, cid, RICE_OIL).status_code == 201
    with writes() as written:
        error_of(report_demand(client, token, cid, [demand_line("rice", 999, "kg")]), 409, "already_reported")
        error_of(report_demand(client, token, cid, [demand_line("rice", 999, "kg")], replace=False), 409,
                 "already_reported")
    assert written == []
    [only] = demand_history(client, token, cid)
    assert only["lines"][0]["quantity"] == 120


def test_report__replace__201_version_2_and_the_first_kept_in_the_history(client, demo):
    token, cid = demo["tokens"]["liaison"], demo["community_id"]
    first = report_demand(client, token, cid, RICE_OIL).json_body
    response = report_demand(client, token, cid, [demand_line("rice", 150, "kg")], replace=True)
    assert response.status_code == 201, response.body
    assert (response.json_body["version"], response.json_body["current"]) == (2, True)
    history = demand_history(client, token, cid)
    assert [(r["version"], r["current"], r["replaced"]) for r in history] == [(2, True, False), (1, False, True)]
    assert history[1]["lines"] == first["lines"]  # the first, as it was sent
    assert [(l["category"], l["quantity"]) for l in history[0]["lines"]] == [("rice", 150)]


def test_report__replace_when_there_is_none_yet__201_version_1(client, demo):
    response = report_demand(client, demo["tokens"]["liaison"], demo["community_id"], RICE_OIL, replace=True)
    assert response.status_code == 201, response.body
    assert response.json_body["version"] == 1


def test_report__another_communitys_liaison__404_and_nothing_written(client, demo, communities):
    stranger = communities["和平里小区"]["liaison"]
    with writes() as written:
        not_found(report_demand(client, stranger, demo["community_id"], RICE_OIL))
        not_found(get(client, f"/api/communities/{demo['community_id']}/demand?day={TODAY}", stranger))
    assert written == []


def test_report__another_sub_districts_liaison__404(client, demo, other_sub_district):
    not_found(report_demand(client, other_sub_district["liaison"], demo["community_id"], RICE_OIL))


@pytest.mark.parametrize("role", ["volunteer", "supplier", "admin"])
def test_report__wrong_role__403_and_nothing_written(client, demo, role):
    with writes() as written:
        response = report_demand(client, demo["tokens"][role], demo["community_id"], RICE_OIL)
    assert response.status_code == 403, response.body
    assert written == []


# --- the sub-district's summary ------------------------------------------------------------

@pytest.fixture
def reported(client, demo, communities):
    """Today: 幸福家园小区 reports, then replaces its report; 和平里小区 reports once; 阳光花园小区 does
    not. Yesterday 阳光花园小区 reported (a day that must not count today). Returns the current
    lines by community name."""
    happy, peace, sunny = (communities[n] for n in ("幸福家园小区", "和平里小区", "阳光花园小区"))
    sent = [
        (happy, [demand_line("rice", 100, "kg"), demand_line("rice", 10, "袋"), demand_line("oil", 20, "桶")], None),
        (happy, [demand_line("rice", 120, "kg"), demand_line("oil", 20, "桶"), demand_line("eggs", 30, "箱")], True),
        (peace, [demand_line("rice", 50, "kg"), demand_line("flour", 40, "袋"), demand_line("eggs", 5, "箱"),
                 demand_line("protective", 200, "件")], None),
    ]
    for community, lines, replace in sent:
        response = report_demand(client, community["liaison"], community["community_id"], lines, replace=replace)
        assert response.status_code == 201, response.body
    old = report_demand(client, sunny["liaison"], sunny["community_id"], [demand_line("rice", 999, "kg")],
                        day=YESTERDAY)
    assert old.status_code == 201, old.body
    return {"幸福家园小区": sent[1][1], "和平里小区": sent[2][1]}


def expected_totals(current: dict) -> dict:
    totals: dict = defaultdict(int)
    for lines in current.values():
        for line in lines:
            totals[(line["category"], line["unit"])] += line["quantity"]
    return dict(totals)


def test_summary__totals_by_category_and_unit_are_the_sum_of_the_current_reports(client, demo, reported):
    body = summary(client, demo["tokens"]["admin"])
    got = {(row["category"], row["unit"]): row["quantity"] for row in body["by_category"]}
    assert len(got) == len(body["by_category"])  # one row per category and unit
    assert got == expected_totals(reported)
    # The replaced report is not counted twice, and rice in kg and in 袋 stay apart.
    assert got[("rice", "kg")] == 170 and ("rice", "袋") not in got and got[("eggs", "箱")] == 35
    assert body["day"] == TODAY


def test_summary__by_community_lists_each_current_report_once(client, demo, communities, reported):
    body = summary(client, demo["tokens"]["admin"])
    by_id = {c["community_id"]: c for c in body["by_community"]}
    assert len(by_id) == len(body["by_community"]) == 2
    for name, lines in reported.items():
        entry = by_id[communities[name]["community_id"]]
        assert entry["name"] == name and entry["reported_at"] == "2026-11-20T02:00:00Z"
        assert [(l["category"], l["quantity"], l["unit"]) for l in entry["lines"]] == \
            [(l["category"], l["quantity"], l["unit"]) for l in lines]
    # Totalled by community, the lines give the same totals as by category.
    totals: dict = defaultdict(int)
    for entry in body["by_community"]:
        for line in entry["lines"]:
            totals[(line["category"], line["unit"])] += line["quantity"]
    assert totals == {(r["category"], r["unit"]): r["quantity"] for r in body["by_category"]}


def test_summary__lists_the_communities_that_have_not_reported_that_day(client, demo, communities, reported):
    body = summary(client, demo["tokens"]["admin"])
    sunny = communities["阳光花园小区"]
    assert body["missing"] == [{"community_id": sunny["community_id"], "name": "阳光花园小区"}]
    yesterday = summary(client, demo["tokens"]["admin"], YESTERDAY)
    assert {c["name"] for c in yesterday["missing"]} == {"幸福家园小区", "和平里小区"}
    assert [(r["category"], r["unit"], r["quantity"]) for r in yesterday["by_category"]] == [("rice", "kg", 999)]


def test_summary__another_sub_districts_reports_and_communities_stay_out(client, demo, other_sub_district, reported):
    assert report_demand(client, other_sub_district["liaison"], other_sub_district["community_id"],
                         [demand_line("rice", 5000, "kg")]).status_code == 201
    mine = summary(client, demo["tokens"]["admin"])
    assert {(r["category"], r["unit"]): r["quantity"] for r in mine["by_category"]} == expected_totals(reported)
    assert other_sub_district["community_id"] not in {c["community_id"] for c in mine["missing"]}
    theirs = summary(client, other_sub_district["token"])
    assert [(r["category"], r["quantity"]) for r in theirs["by_category"]] == [("rice", 5000)]


def test_summary__a_day_nobody_reported__no_totals_and_every_community_missing(client, demo, communities):
    body = summary(client, demo["tokens"]["admin"])
    assert body["by_category"] == [] and body["by_community"] == []
    assert {c["community_id"] for c in body["missing"]} == {c["community_id"] for c in communities.values()}


@pytest.mark.parametrize("role", ["liaison", "info_officer", "supplier", "volunteer"])
def test_summary__not_the_sub_districts_staff__403(client, demo, role):
    assert get(client, f"/api/sub-districts/mine/demand?day={TODAY}", demo["tokens"][role]).status_code == 403
    assert get(client, f"/api/sub-districts/mine/demand/export?day={TODAY}",
               demo["tokens"][role]).status_code == 403


# --- the XLSX ------------------------------------------------------------------------------

def sheet_named(book, prefix: str):
    [sheet] = [book[name] for name in book.sheetnames if name.startswith(prefix)]
    return sheet


def category_of_cell(value) -> str:
    """A category cell, written as its code, its Chinese name or both ('大米 rice')."""
    from tests.api.supply_helpers import CATEGORY_ZH
    text = str(value)
    found = [code for code, zh in CATEGORY_ZH.items() if code in text.split() or text == code
             or zh in text.split() or text == zh]
    assert len(found) == 1, value
    return found[0]


def test_export__xlsx_parses_back_and_its_totals_equal_the_apis(client, demo, reported):
    api = summary(client, demo["tokens"]["admin"])
    book = workbook(get(client, f"/api/sub-districts/mine/demand/export?day={TODAY}", demo["tokens"]["admin"],
                        accept="*/*"))
    assert [name.split()[0] for name in book.sheetnames] == ["汇总", "各小区", "未上报"]

    # 汇总: one row per category and unit (after the header), with the API's totals.
    header, *data = rows(sheet_named(book, "汇总"))
    from_file = {(category_of_cell(cat), unit): qty for cat, unit, qty, *_ in data}
    assert len(from_file) == len(data)
    assert from_file == {(r["category"], r["unit"]): r["quantity"] for r in api["by_category"]}
    assert from_file == expected_totals(reported)

    # 各小区: one row per community and line.
    header, *data = rows(sheet_named(book, "各小区"))
    per_line = sorted((name, category_of_cell(cat), unit, qty) for name, cat, unit, qty, *_ in data)
    assert per_line == sorted((c["name"], l["category"], l["unit"], l["quantity"])
                              for c in api["by_community"] for l in c["lines"])

    # 未上报: the missing communities.
    header, *data = rows(sheet_named(book, "未上报"))
    assert [row[0] for row in data] == [c["name"] for c in api["missing"]] == ["阳光花园小区"]


def test_export__a_day_nobody_reported__three_sheets_only_headers_and_every_community_missing(client, demo,
                                                                                             communities):
    book = workbook(get(client, f"/api/sub-districts/mine/demand/export?day={TODAY}", demo["tokens"]["admin"],
                        accept="*/*"))
    assert len(rows(sheet_named(book, "汇总"))) == 1 and len(rows(sheet_named(book, "各小区"))) == 1
    assert sorted(r[0] for r in rows(sheet_named(book, "未上报"))[1:]) == sorted(communities)


# --- the pre-fill --------------------------------------------------------------------------

def test_prefill__suggests_categories_from_live_orders_and_an_other_line_for_a_special_household(client, demo):
    from tests.api.helpers import households_in, place_order, put, register
    household = register(client, demo["join_key"], building="1栋", room="101", phone="13800001111")
    # 米面油套餐 holds 大米 5 kg; two of them.
    assert place_order(client, household["token"], demo["round_id"], (demo["bundle_ids"][0], 2)).status_code == 201
    register(client, demo["join_key"], building="2栋", room="202", phone="13800002222")
    [special] = [h for h in households_in(demo["community_id"]) if h.household_id != household["household_id"]]
    flagged = put(client, f"/api/communities/{demo['community_id']}/households/{special.flat_key.replace('#', '.')}/special",
                  {"category": "elderly_alone"}, demo["tokens"]["liaison"])
    assert flagged.status_code == 200, flagged.body
    response = get(client, f"/api/communities/{demo['community_id']}/demand/prefill", demo["tokens"]["liaison"])
    assert response.status_code == 200, response.body
    lines = response.json_body["lines"]
    assert [(l["quantity"], l["unit"]) for l in lines if l["category"] == "rice"] == [(10, "kg")]
    [other] = [l for l in lines if l["category"] == "other"]
    assert other["quantity"] == 1 and "特殊" in other["basis"]
    assert all(l["basis"] for l in lines)


def test_prefill__another_communitys_liaison__404_and_a_volunteer__403(client, demo, communities):
    path = f"/api/communities/{demo['community_id']}/demand/prefill"
    not_found(get(client, path, communities["和平里小区"]["liaison"]))
    assert get(client, path, demo["tokens"]["volunteer"]).status_code == 403


def test_staff__joined_by_invite_can_report(client, demo):
    """The liaisons above join by invite; one made that way reports like the seeded one."""
    token = invited(client, demo["tokens"]["admin"], "liaison", demo["community_id"])
    assert report_demand(client, token, demo["community_id"], RICE_OIL).status_code == 201
