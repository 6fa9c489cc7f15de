"""Working days (api/working_days.py): the official calendar with its adjusted working weekends.

The expected data is the State Council's arrangement (国务院办公厅关于部分节假日安排的通知) for 2024,
2025 and 2026, written out here by hand; api.working_days must agree with it on every day of those
years. The due-date cases are counted by hand across the Spring Festival and National Day, where
a Sunday or Saturday is a working day (调休上班) and a run of weekdays is not.
"""
from datetime import date, timedelta

import pytest

from api import working_days


def _days(first: str, last: str | None = None) -> set[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


# year → (days off, weekend days worked), as the State Council published them.
OFFICIAL = {
    # 国办发明电〔2023〕7号
    2024: (
        _days("2024-01-01")                              # 元旦
        | _days("2024-02-10", "2024-02-17")              # 春节
        | _days("2024-04-04", "2024-04-06")              # 清明节
        | _days("2024-05-01", "2024-05-05")              # 劳动节
        | _days("2024-06-10")                            # 端午节
        | _days("2024-09-15", "2024-09-17")              # 中秋节
        | _days("2024-10-01", "2024-10-07"),             # 国庆节
        {date(2024, 2, 4), date(2024, 2, 18),            # 春节: Sun, Sun
         date(2024, 4, 7),                               # 清明节: Sun
         date(2024, 4, 28), date(2024, 5, 11),           # 劳动节: Sun, Sat
         date(2024, 9, 14),                              # 中秋节: Sat
         date(2024, 9, 29), date(2024, 10, 12)},         # 国庆节: Sun, Sat
    ),
    # 国办发明电〔2024〕12号
    2025: (
        _days("2025-01-01")
        | _days("2025-01-28", "2025-02-04")              # 春节 (除夕 included from 2025)
        | _days("2025-04-04", "2025-04-06")
        | _days("2025-05-01", "2025-05-05")
        | _days("2025-05-31", "2025-06-02")
        | _days("2025-10-01", "2025-10-08"),             # 国庆节、中秋节
        {date(2025, 1, 26), date(2025, 2, 8),            # 春节: Sun, Sat
         date(2025, 4, 27),                              # 劳动节: Sun
         date(2025, 9, 28), date(2025, 10, 11)},         # 国庆节: Sun, Sat
    ),
    # 国办发明电〔2025〕7号
    2026: (
        _days("2026-01-01", "2026-01-03")
        | _days("2026-02-15", "2026-02-23")              # 春节, 9 days
        | _days("2026-04-04", "2026-04-06")
        | _days("2026-05-01", "2026-05-05")
        | _days("2026-06-19", "2026-06-21")
        | _days("2026-09-25", "2026-09-27")              # 中秋节
        | _days("2026-10-01", "2026-10-07"),             # 国庆节
        {date(2026, 1, 4),                               # 元旦: Sun
         date(2026, 2, 14), date(2026, 2, 28),           # 春节: Sat, Sat
         date(2026, 5, 9),                               # 劳动节: Sat
         date(2026, 9, 20), date(2026, 10, 10)},         # 国庆节: Sun, Sat
    ),
}


def officially_working(day: date) -> bool:
    days_off, weekends_worked = OFFICIAL[day.year]
    if day in weekends_worked:
        return True
    return day.weekday() < 5 and day not in days_off


def test_the_expected_data__adjusted_days_are_weekends_and_days_off_are_not_worked():
    """A guard on the hand-written data itself (a typo would otherwise test nothing)."""
    for days_off, weekends_worked in OFFICIAL.values():
        assert all(day.weekday() >= 5 for day in weekends_worked)
        assert not days_off & weekends_worked


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_is_working__agrees_with_the_state_council_arrangement_on_every_day_of(year):
    day, wrong = date(year, 1, 1), []
    while day.year == year:
        if working_days.is_working(day) != officially_working(day):
            wrong.append(day.isoformat())
        day += timedelta(days=1)
    assert wrong == []


@pytest.mark.parametrize("day", [
    "2024-02-04", "2024-02-18", "2024-09-29", "2024-10-12",
    "2025-01-26", "2025-02-08", "2025-09-28", "2025-10-11",
    "2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10",
])
def test_is_working__an_adjusted_weekend_of_the_spring_festival_or_national_day_is_a_working_day(day):
    assert working_days.is_working(date.fromisoformat(day)) is True


@pytest.mark.parametrize("day", [
    "2024-02-12", "2024-02-16", "2024-10-04", "2024-10-07",
    "2025-01-28", "2025-02-04", "2025-10-06", "2025-10-08",
    "2026-02-16", "2026-02-23", "2026-10-01", "2026-10-07",
])
def test_is_working__a_weekday_of_the_spring_festival_or_national_day_is_not(day):
    assert working_days.is_working(date.fromisoformat(day)) is False


def test_is_working__an_ordinary_week_is_monday_to_friday():
    week = [date(2025, 3, 10) + timedelta(days=n) for n in range(7)]
    assert [working_days.is_working(d) for d in week] == [True] * 5 + [False] * 2


# (day, n, the n-th working day after it): counted by hand on the arrangement above.
DUE = [
    # An ordinary week: Friday + 1 is Monday.
    ("2025-03-07", 1, "2025-03-10"),
    # 2024 Spring Festival (2/10–2/17; Sundays 2/4 and 2/18 worked; 除夕 2/9 still a working day).
    ("2024-02-02", 1, "2024-02-04"),
    ("2024-02-08", 1, "2024-02-09"),
    ("2024-02-08", 2, "2024-02-18"),
    ("2024-02-08", 15, "2024-03-06"),
    # 2024 National Day (10/1–10/7; Sunday 9/29 and Saturday 10/12 worked).
    ("2024-09-27", 1, "2024-09-29"),
    ("2024-09-27", 3, "2024-10-08"),
    ("2024-09-27", 15, "2024-10-23"),
    # 2025 Spring Festival (1/28–2/4; Sunday 1/26 and Saturday 2/8 worked).
    ("2025-01-24", 1, "2025-01-26"),
    ("2025-01-24", 3, "2025-02-05"),
    ("2025-01-24", 15, "2025-02-20"),
    ("2025-01-27", 15, "2025-02-24"),
    ("2025-02-07", 1, "2025-02-08"),
    # 2025 National Day and Mid-Autumn (10/1–10/8; Sunday 9/28 and Saturday 10/11 worked).
    ("2025-09-26", 1, "2025-09-28"),
    ("2025-09-26", 4, "2025-10-09"),
    ("2025-09-26", 15, "2025-10-23"),
    ("2025-10-01", 1, "2025-10-09"),  # counted from a day off
    ("2025-09-30", 15, "2025-10-28"),
    # New Year 2026 (1/1–1/3; Sunday 1/4 worked): across the year's end.
    ("2025-12-31", 1, "2026-01-04"),
    # 2026 Spring Festival (2/15–2/23; Saturdays 2/14 and 2/28 worked).
    ("2026-02-13", 1, "2026-02-14"),
    ("2026-02-13", 2, "2026-02-24"),
    ("2026-02-13", 15, "2026-03-12"),
    # 2026 Mid-Autumn (9/25–9/27) then National Day (10/1–10/7; Sunday 9/20 and Saturday 10/10 worked).
    ("2026-09-18", 1, "2026-09-20"),
    ("2026-09-18", 15, "2026-10-15"),
]


@pytest.mark.parametrize("day, n, expected", DUE, ids=[f"{d}+{n}" for d, n, _ in DUE])
def test_add__the_nth_working_day_after_a_day_follows_the_official_calendar(day, n, expected):
    assert working_days.add(date.fromisoformat(day), n) == date.fromisoformat(expected)


@pytest.mark.parametrize("day, n, expected", DUE, ids=[f"{d}+{n}" for d, n, _ in DUE])
def test_the_due_table__agrees_with_the_expected_calendar(day, n, expected):
    """The hand count above, recounted on OFFICIAL: the two pieces of expected data agree."""
    current, left = date.fromisoformat(day), n
    while left:
        current += timedelta(days=1)
        left -= officially_working(current)
    assert current == date.fromisoformat(expected)


def test_add__fifteen_working_days_from_every_day_of_2025_lands_on_a_working_day_with_fifteen_between():
    day = date(2025, 1, 1)
    while day.year == 2025:
        due = working_days.add(day, 15)
        between = sum(officially_working(day + timedelta(days=k)) for k in range(1, (due - day).days + 1))
        assert officially_working(due) and between == 15, (day, due)
        day += timedelta(days=1)
