"""工作日 working days, by the official holiday calendar with its adjusted working weekends (调休).

The calendar is the State Council's yearly arrangement, as packaged by `chinesecalendar` (pinned; a
new release each year, once the next year's arrangement is published in the autumn). For a year it does
not know yet, Monday to Friday count as working days and the answer says so (`known` is False), so a
due date far ahead is an estimate to check again once the calendar is out, never a crash.
"""
from datetime import date, timedelta


def _is_workday(day: date) -> bool:
    # Imported on first use, as reportlab and segno are: only the supply chain's settlement dates need the
    # calendar, and its tables would otherwise load on every cold start, a resident's order's included.
    from chinese_calendar import is_workday
    return is_workday(day)


def is_working(day: date) -> bool:
    try:
        return _is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def known(day: date) -> bool:
    """Whether the official calendar covers this day's year."""
    try:
        _is_workday(day)
        return True
    except NotImplementedError:
        return False


def add(day: date, n: int) -> date:
    """The n-th working day after `day` (the day itself does not count)."""
    current = day
    for _ in range(n):
        current += timedelta(days=1)
        while not is_working(current):
            current += timedelta(days=1)
    return current
