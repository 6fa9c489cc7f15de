"""Time: stored in UTC, shown in Asia/Shanghai. The one place that asks what time it is."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


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
