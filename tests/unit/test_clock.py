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
