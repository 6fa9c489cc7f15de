"""Time: stored in UTC, shown in Asia/Shanghai. The one place that asks what time it is."""
from datetime import date, datetime, time, timedelta, timezone

# Beijing time is UTC+8 all year (no daylight saving since 1991), so a fixed offset is Asia/Shanghai for every
# moment the app stores, and needs no tz database: the Lambda runtime's image may lack one and the bundle ships
# no `tzdata` (zoneinfo would then refuse to start). tests/unit/test_clock.py holds it to zoneinfo's answer.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, as the API returns every timestamp."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def shanghai(moment: datetime) -> str:
    """How a person in China reads the time: 2026-11-29 12:00."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def today() -> date:
    """Today's date in Beijing: the day a report, a log page or a delivery belongs to."""
    return now().astimezone(SHANGHAI).date()


def day_of(text: str | None, field: str = "day") -> date:
    """A Beijing calendar day from YYYY-MM-DD; today without one; a 400 naming `field` if malformed."""
    if not text:
        return today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        from api.errors import BadInput
        raise BadInput("日期格式应为 YYYY-MM-DD", "The day must be YYYY-MM-DD",
                       fields={field: ["应为 YYYY-MM-DD / Must be YYYY-MM-DD"]}) from None


def day_start(day: date) -> datetime:
    """00:00 Beijing of `day`, in UTC."""
    return datetime.combine(day, time(0), SHANGHAI).astimezone(timezone.utc)
