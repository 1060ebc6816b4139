"""RFC 3339 times as restore-planner writes and reads them: always UTC, always ``Z``.

The one place that turns a time into text (and back). Three precisions, each
with its readers:

- ``rfc3339_s``: whole seconds, ``2026-11-28T12:00:00Z``: the cloud's query
  parameters and task times, lock files, short listings.
- ``rfc3339_ms``: milliseconds, ``2026-11-28T12:00:00.000Z``: every run-log
  event and journal line (fixed width, so lines sort and diff as text).
- ``rfc3339``: exact, microseconds only when there are any: the plan's times,
  shown as they were read (``-`` for a time the plan does not know).

A float is seconds since the epoch (what a ``planner.clock.Clock`` returns); a
naive datetime is taken as UTC. ``parse`` reads any of them back.
"""

from __future__ import annotations

from datetime import UTC, datetime

_last_ms: tuple[datetime | float | None, str] = (None, "")  # the last time formatted, and its text


def _utc(at: datetime | float) -> datetime:
    if isinstance(at, int | float):
        return datetime.fromtimestamp(at, tz=UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def rfc3339(when: datetime | None) -> str:
    """Exact: ``2026-11-19T23:10:00Z``, ``...:00.000500Z`` when there are microseconds."""
    if when is None:
        return "-"
    return _utc(when).isoformat().removesuffix("+00:00") + "Z"


def rfc3339_s(at: datetime | float | None) -> str:
    """Whole seconds (truncated): ``2026-11-28T12:00:00Z``; ``-`` for None."""
    if at is None:
        return "-"
    return _utc(at).replace(microsecond=0).isoformat()[:-6] + "Z"  # less "+00:00"


def rfc3339_ms(at: datetime | float) -> str:
    """Milliseconds (truncated): ``2026-11-28T12:00:01.500Z``.

    Every event and journal line carries one, so the last text is reused as it is
    (the events of one moment of an apply, a poll's outcomes, carry the same time),
    and a new one is ``isoformat``'s, which truncates to milliseconds as this always
    did, in half the time ``strftime`` took.
    """
    global _last_ms
    last = _last_ms  # one read: a thread may replace it meanwhile
    if at == last[0]:
        return last[1]
    text = _utc(at).isoformat(timespec="milliseconds")[:-6] + "Z"  # less "+00:00"
    _last_ms = (at, text)
    return text


def compact(at: datetime | float) -> str:
    """The basic format, ``20261128T120000Z``: run ids, which sort as their times do."""
    return _utc(at).strftime("%Y%m%dT%H%M%SZ")


def parse(text: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset) as an aware UTC datetime; ValueError if it is not one."""
    return _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def parse_or_none(value: object) -> datetime | None:
    """``parse`` for text read back from a file that may be damaged: anything else is None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse(value)
    except ValueError:
        return None
