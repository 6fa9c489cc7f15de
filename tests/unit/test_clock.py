"""api.clock: UTC ISO 8601 with a Z for the API, Asia/Shanghai for people."""
from datetime import datetime, timedelta, timezone

import time_machine

from api import clock

BEIJING = timezone(timedelta(hours=8))


def test_iso__utc_moment__ends_in_z():
    assert clock.iso(datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)) == "2026-11-29T04:00:00Z"


def test_iso__beijing_moment__is_converted_to_utc_with_z():
    assert clock.iso(datetime(2026, 11, 29, 12, 0, tzinfo=BEIJING)) == "2026-11-29T04:00:00Z"


def test_iso__drops_microseconds():
    assert clock.iso(datetime(2026, 11, 29, 4, 0, 5, 999999, tzinfo=timezone.utc)) == "2026-11-29T04:00:05Z"


def test_iso__none__is_none():
    assert clock.iso(None) is None


def test_shanghai__shows_beijing_wall_clock():
    assert clock.shanghai(datetime(2026, 11, 29, 16, 30, tzinfo=timezone.utc)) == "2026-11-30 00:30"


def test_now__is_timezone_aware_utc():
    with time_machine.travel(datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc), tick=False):
        now = clock.now()

    assert now == datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)
    assert now.utcoffset() == timedelta(0)


def test_shanghai__the_fixed_offset_is_zoneinfo_s_asia_shanghai_for_every_moment_the_app_can_hold():
    """UTC+8 without a tz database: the same wall clock as the IANA zone from 1992 (after the last DST) on."""
    from zoneinfo import ZoneInfo
    iana = ZoneInfo("Asia/Shanghai")
    moment, end, differ = datetime(1992, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc), []
    while moment < end:
        if moment.astimezone(clock.SHANGHAI).replace(tzinfo=None) != moment.astimezone(iana).replace(tzinfo=None):
            differ.append(moment)
        moment += timedelta(days=3, hours=7, minutes=11)
    assert differ == []
    # ...and not before: 1991's summer time is where a fixed offset would be wrong, so the check can tell.
    summer_1991 = datetime(1991, 7, 1, 4, 0, tzinfo=timezone.utc)
    assert summer_1991.astimezone(clock.SHANGHAI).hour + 1 == summer_1991.astimezone(iana).hour
