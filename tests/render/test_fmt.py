from datetime import UTC, datetime, timedelta, timezone

import pytest

from planner.render import fmt


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (59.6, "1m"),
        (750, "12m 30s"),
        (720, "12m"),
        (3600, "1h"),
        (4800, "1h 20m"),
        (4830, "1h 20m"),
        (-5, "0s"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_sizes_counts_plurals() -> None:
    assert fmt.size_gb(1240) == "1,240 GB"
    assert fmt.size_gb(None) == "? GB"
    assert fmt.plural(1, "target") == "1 target"
    assert fmt.plural(1234, "target") == "1,234 targets"


def test_short_ids_and_digests() -> None:
    assert fmt.short_id("94eba8b2-acc9-4d82-badc-127144cc5526") == "94eba8b2..."
    assert fmt.short_id("vol-1") == "vol-1"
    assert fmt.short_digest("sha256:3f9a1c2e4b5d6a7b8c9d") == "3f9a1c2e4b5d"


def test_rfc3339_is_utc_with_z() -> None:
    cst = timezone(timedelta(hours=8))
    assert fmt.rfc3339(datetime(2026, 11, 20, 7, 10, tzinfo=cst)) == "2026-11-19T23:10:00Z"
    assert fmt.rfc3339(datetime(2026, 11, 19, 23, 10)) == "2026-11-19T23:10:00Z"
    assert (
        fmt.rfc3339(datetime(2026, 11, 19, 23, 10, 0, 500, tzinfo=UTC))
        == "2026-11-19T23:10:00.000500Z"
    )


def test_clean_makes_control_characters_visible() -> None:
    assert fmt.clean("db\x1b[31m\nx") == "db\\x1b[31m\\x0ax"
