"""API JSON -> planner models (``planner.cloud.models``), and error bodies -> CloudAPIError.

Owns tolerance: unknown fields are ignored, nulls become defaults, both
timestamp forms are accepted (naive = UTC). Does not send requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx

from planner.cloud.errors import CloudAPIError
from planner.cloud.models import (
    AttachedVolume,
    Backup,
    BackupChild,
    OperationLog,
    Server,
    Vault,
    Volume,
    VolumeAttachment,
)

Json = Mapping[str, Any]


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    return _parse_time(value)


@lru_cache(maxsize=8192)
def _parse_time(value: str) -> datetime | None:
    # every poll reads the same creation and start times of the tasks in flight again
    if not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _str(value: object) -> str:
    # the exact type first: every field of every row of every poll comes through here
    if type(value) is str:
        return value
    return "" if value is None else str(value)


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_map(value: object) -> Json:
    if type(value) is dict:  # what a JSON parser gives; the ABC check costs 5x more
        return value
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_tags(value: object) -> dict[str, str]:
    """ECS tags: ``["k=v", ...]``, ``[{"key": k, "value": v}, ...]`` or ``{k: v}``."""
    if isinstance(value, Mapping):
        return {str(k): _str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for item in as_list(value):
        if isinstance(item, str):
            key, _, val = item.partition("=")
            out[key] = val
        elif isinstance(item, Mapping) and item.get("key") is not None:
            out[str(item["key"])] = _str(item.get("value"))
    return out


def is_server_stub(data: Json) -> bool:
    """ECS ``server_id=`` answers an id that does not exist with an entry holding only
    ``id`` and ``fault``, every other field null (SDK ``list_servers_details_request``):
    such an entry means "no such server", not a server of unknown status."""
    return data.get("name") is None and data.get("status") is None


def parse_server(data: Json) -> Server:
    volumes = tuple(
        AttachedVolume(
            id=_str(v.get("id")),
            device=_str(v.get("device")),
            boot=_str(v.get("bootIndex")) == "0",
        )
        for v in map(as_map, as_list(data.get("os-extended-volumes:volumes_attached")))
        if v.get("id")
    )
    return Server(
        id=_str(data.get("id")),
        name=_str(data.get("name")),
        status=_str(data.get("status")) or "UNKNOWN",
        az=_str(data.get("OS-EXT-AZ:availability_zone")),
        tags=parse_tags(data.get("tags")),
        volumes=volumes,
    )


def parse_volume(data: Json) -> Volume:
    attachments = tuple(
        VolumeAttachment(server_id=_str(a.get("server_id")), device=_str(a.get("device")))
        for a in map(as_map, as_list(data.get("attachments")))
        if a.get("server_id")
    )
    return Volume(
        id=_str(data.get("id")),
        name=_str(data.get("name")),
        size_gb=_int(data.get("size")),
        az=_str(data.get("availability_zone")),
        status=_str(data.get("status")) or "unknown",
        bootable=_bool(data.get("bootable")) or False,
        attachments=attachments,
    )


def parse_child(data: Json) -> BackupChild:
    """One disk backup of a server backup: a ``children`` item, or the same backup
    listed as its own item (``parent_id`` set)."""
    ext = as_map(data.get("extend_info"))
    bootable = _bool(ext.get("bootable"))
    if bootable is None:
        bootable = _bool(ext.get("system_disk"))
    return BackupChild(
        id=_str(data.get("id")),
        resource_id=_str(data.get("resource_id")),
        size_gb=_int(data.get("resource_size")),
        bootable=bootable,
        status=_str(data.get("status")) or "available",
    )


def parse_backup(data: Json) -> Backup:
    ext = as_map(data.get("extend_info"))
    mode = ext.get("supported_restore_mode")
    created = parse_time(data.get("created_at")) or parse_time(data.get("protected_at"))
    return Backup(
        id=_str(data.get("id")),
        name=_str(data.get("name")),
        status=_str(data.get("status")) or "unknown",
        resource_id=_str(data.get("resource_id")),
        resource_type=_str(data.get("resource_type")),
        resource_name=_str(data.get("resource_name")),
        resource_az=_str(data.get("resource_az")),
        size_gb=_int(data.get("resource_size")),
        vault_id=_str(data.get("vault_id")),
        created_at=created or datetime.fromtimestamp(0, tz=UTC),
        restore_mode=mode if isinstance(mode, str) and mode else None,
        children=tuple(
            parse_child(c) for c in map(as_map, as_list(data.get("children"))) if c.get("id")
        ),
        parent_id=_str(data.get("parent_id")),
    )


def parse_vault(data: Json) -> Vault:
    # the status is billing.status (enum available, lock, frozen, deleting, error) and
    # there is no top-level one [SDK vault.py, billing.py]; a top-level status is still
    # read when billing has none, so an older or hand-made answer is not taken as available
    billing = as_map(data.get("billing"))
    status = _str(billing.get("status")) or _str(data.get("status")) or "unknown"
    return Vault(
        id=_str(data.get("id")),
        name=_str(data.get("name")),
        status=status,
        locked=_bool(data.get("locked")) or False,
    )


def restore_backup_id(data: Json) -> str:
    """The backup a restore task restores from, read without parsing the whole row."""
    return _str(as_map(as_map(data.get("extra_info")).get("restore")).get("backup_id"))


def parse_operation_log(data: Json) -> OperationLog:
    extra = as_map(data.get("extra_info"))
    common = as_map(extra.get("common"))
    restore = as_map(extra.get("restore"))
    err = as_map(data.get("error_info"))
    # every field is normalized here (a poll parses every task in flight)
    return OperationLog(
        id=_str(data.get("id")),
        operation_type=_str(data.get("operation_type")),
        status=_str(data.get("status")) or "waiting",
        progress=max(0, min(100, _int(common.get("progress")))),
        backup_id=_str(restore.get("backup_id")),
        backup_name=_str(restore.get("backup_name")),
        target_id=_str(restore.get("target_resource_id")),
        target_name=_str(restore.get("target_resource_name")),
        created_at=parse_time(data.get("created_at")),
        started_at=parse_time(data.get("started_at")),
        ended_at=parse_time(data.get("ended_at")),
        error_code=_str(err.get("code")),
        error_message=_str(err.get("message")),
    )


_CODE_KEYS = ("error_code", "errorCode", "code")
_MSG_KEYS = ("error_msg", "errorMsg", "error_message", "message", "msg")


def _pick(body: Json, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = body.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return ""


def error_fields(body: object) -> tuple[str, str]:
    """(code, message) from any body shape the SDK accepts: flat, or nested one level."""
    if not isinstance(body, Mapping):
        return "", ""
    code, message = _pick(body, _CODE_KEYS), _pick(body, _MSG_KEYS)
    if not code and not message:
        for value in body.values():
            if isinstance(value, Mapping):
                code, message = _pick(value, _CODE_KEYS), _pick(value, _MSG_KEYS)
                if code or message:
                    break
    return code, message


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def error_from_response(response: httpx.Response) -> CloudAPIError:
    try:
        body: object = response.json()
    except ValueError:
        body = None
    code, message = error_fields(body)
    if not message:
        message = response.reason_phrase or "error"
    try:
        req = response.request
        request = f"{req.method} {req.url.copy_with(query=None)}"
    except RuntimeError:  # a response made without its request
        request = ""
    return CloudAPIError(
        response.status_code,
        code,
        message,
        request_id=response.headers.get("X-Request-Id", ""),
        retry_after=_retry_after(response),
        request=request,
    )
