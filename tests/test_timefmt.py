"""planner.timefmt, the one place times become text: UTC with Z at three precisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import timefmt
from planner.clock import to_datetime

T = 1_795_867_201.5  # 2026-11-28T12:00:01.5Z
CST = timezone(timedelta(hours=8))


def test_three_precisions_of_one_time() -> None:
    dt = datetime(2026, 11, 28, 20, 0, 1, 500_250, tzinfo=CST)
    assert timefmt.rfc3339(dt) == "2026-11-28T12:00:01.500250Z"
    assert timefmt.rfc3339_ms(dt) == "2026-11-28T12:00:01.500Z"
    assert timefmt.rfc3339_s(dt) == "2026-11-28T12:00:01Z"
    assert timefmt.rfc3339_ms(T) == "2026-11-28T12:00:01.500Z"  # epoch seconds, a Clock's
    assert timefmt.rfc3339_s(T) == "2026-11-28T12:00:01Z"
    assert timefmt.compact(T) == "20261128T120001Z"


def test_naive_is_utc_and_none_is_a_dash() -> None:
    assert timefmt.rfc3339(datetime(2026, 11, 19, 23, 10)) == "2026-11-19T23:10:00Z"
    assert timefmt.rfc3339_s(datetime(2026, 11, 19, 23, 10)) == "2026-11-19T23:10:00Z"
    assert timefmt.rfc3339(None) == timefmt.rfc3339_s(None) == "-"


def test_the_cached_second_never_leaks_into_the_next() -> None:
    assert timefmt.rfc3339_ms(T) == "2026-11-28T12:00:01.500Z"
    assert timefmt.rfc3339_ms(T + 0.6) == "2026-11-28T12:00:02.100Z"
    assert timefmt.rfc3339_ms(T - 86_400) == "2026-11-27T12:00:01.500Z"


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=-62_135_596_800.0, max_value=253_402_300_799.0),
        st.datetimes(timezones=st.sampled_from([None, UTC, CST, timezone(timedelta(hours=-9))])),
    )
)
def test_seconds_and_milliseconds_are_truncated_field_by_field(at: datetime | float) -> None:
    # the reference spells every field out (strftime's %Y drops a year's zeros on glibc)
    dt = datetime.fromtimestamp(at, tz=UTC) if isinstance(at, float) else at
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    want = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:"
        f"{dt.second:02d}.{dt.microsecond // 1000:03d}Z"
    )
    assert timefmt.rfc3339_ms(at) == want
    assert timefmt.rfc3339_ms(at) == want  # and again, from the last-value cache
    assert timefmt.rfc3339_s(at) == want[:19] + "Z"  # whole seconds, truncated


def test_parse_reads_back_what_is_written() -> None:
    dt = datetime(2026, 11, 28, 12, 0, 1, 500_000, tzinfo=UTC)
    assert timefmt.parse(timefmt.rfc3339_ms(dt)) == dt
    assert timefmt.parse("2026-11-28T20:00:01.5+08:00") == dt
    assert timefmt.parse("2026-11-28T20:00:01.5+08:00").tzinfo is UTC
    with pytest.raises(ValueError):
        timefmt.parse("yesterday")
    assert timefmt.parse_or_none("yesterday") is None
    assert timefmt.parse_or_none(12) is None
    assert timefmt.parse_or_none("") is None


def test_the_last_time_formatted_is_reused_only_for_the_same_time() -> None:
    at = datetime(2026, 11, 28, 12, 0, 1, 500_999, tzinfo=UTC)
    # the same instant in every form the cache could confuse with it, in turn
    forms: list[datetime | float] = [
        at,
        at.timestamp(),
        at.replace(tzinfo=None),  # naive: UTC
        at.astimezone(timezone(timedelta(hours=-3))),
        at + timedelta(milliseconds=1),
        (at + timedelta(milliseconds=1)).timestamp(),
        at.replace(tzinfo=None) + timedelta(hours=3),  # naive, another time
    ]
    want = [
        *["2026-11-28T12:00:01.500Z"] * 4,
        *["2026-11-28T12:00:01.501Z"] * 2,
        "2026-11-28T15:00:01.500Z",
    ]
    for _ in range(2):
        assert [timefmt.rfc3339_ms(f) for f in forms] == want
        assert [timefmt.rfc3339_ms(f) for f in reversed(forms)] == list(reversed(want))


def test_to_datetime_reuses_only_the_same_seconds() -> None:
    a, b = 1_795_000_000.25, 1_795_000_000.5
    assert [to_datetime(x).timestamp() for x in (a, a, b, a, b, b)] == [a, a, b, a, b, b]
    assert to_datetime(a).tzinfo is UTC
