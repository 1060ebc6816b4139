"""Query parsing, filtering and paging, the way each service pages.

CBR: record offset (0-based) + limit (1..1000, default 1000) + marker.
ECS: page-number offset (default 1, 0 treated as 1), limit default 25, max 1000.
EVS: record offset, limit default 1000 (max 1000), marker = last volume id.
Errors come back as (code, message) for the caller to shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


class QueryError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def int_param(raw: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"Invalid parameter {name}: {raw!r} is not an integer.") from None
    if not lo <= value <= hi:
        raise QueryError(f"Invalid parameter {name}: {value} is out of range [{lo}, {hi}].")
    return value


def time_param(raw: str | None, name: str) -> float | None:
    if raw is None or raw == "":
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            pass
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            f"Invalid parameter {name}: {raw!r} is not a time like 2018-02-01T12:00:00Z."
        ) from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def after_marker(items: Sequence[T], marker: str | None, key: Callable[[T], str]) -> Sequence[T]:
    if not marker:
        return items
    for i, item in enumerate(items):
        if key(item) == marker:
            return items[i + 1 :]
    raise QueryError(f"Invalid parameter marker: {marker} was not found.")


def record_page(items: Sequence[T], offset: int, limit: int) -> Sequence[T]:
    return items[offset : offset + limit]


SORT_KEYS = ("created_at", "updated_at", "name", "status", "protected_at", "id")


def parse_sort(raw: str | None) -> list[tuple[str, bool]]:
    """``key[:asc|desc],...`` -> [(key, descending)]; default created_at desc."""
    if not raw:
        return [("created_at", True)]
    if len(raw) > 255:
        raise QueryError("Invalid parameter sort: longer than 255 characters.")
    out = []
    for part in raw.split(","):
        key, _, direction = part.strip().partition(":")
        if key not in SORT_KEYS or direction not in ("", "asc", "desc"):
            raise QueryError(f"Invalid parameter sort: {part.strip()!r}.")
        out.append((key, direction != "asc"))
    return out


def apply_sort(
    items: list[T], keys: list[tuple[str, bool]], get: Callable[[T, str], Any]
) -> list[T]:
    for key, desc in reversed(keys):
        items.sort(key=lambda item, k=key: get(item, k), reverse=desc)  # type: ignore[misc]
    return items
