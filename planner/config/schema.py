"""Pydantic models of the plan format, version 1 (DESIGN.md section 3).

Owns the *shape* of a plan file: which keys exist, their types, durations and
RFC 3339 times, and the JSON Schema that editors use. Models are strict and
forbid unknown keys. Does not evaluate anything (templates, for_each, defaults:
see ``expand.py``) and does not turn errors into diagnostics (``load.py``).

Estimate settings under ``defaults``: ``restore_overhead`` (a duration, fixed
cost per restore, default 60s) and ``throughput_gb_per_min`` (default 4).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from planner.addresses import NAME_RE
from planner.cloud.settings import (
    PROJECT_ID_HINT,
    PROJECT_ID_RE,
    REGION_HINT,
    REGION_MAX,
    REGION_RE,
    project_id_problem,
    region_problem,
)

DURATION_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
DURATION_PATTERN = r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$"
CREDENTIAL_KEYS = frozenset(
    {
        "access_key", "secret_key", "ak", "sk", "password", "user_password", "token",
        "auth_token", "secret", "security_token", "user_name", "username", "domain_name",
        "credentials", "access_key_id", "secret_access_key",
    }
)  # fmt: skip


def parse_duration(v: Any) -> timedelta:
    if isinstance(v, str):
        m = DURATION_RE.match(v.strip())
        if m and any(m.groups()):
            try:
                d, h, mi, s = (int(x or 0) for x in m.group("d", "h", "m", "s"))
                return timedelta(days=d, hours=h, minutes=mi, seconds=s)
            except (OverflowError, ValueError):  # past timedelta's 999,999,999 days
                raise PydanticCustomError(
                    "duration",
                    "{value} is too long a duration",
                    {"value": repr(v if len(v) <= 40 else v[:40] + "...")},
                ) from None
    raise PydanticCustomError(
        "duration",
        "{value} is not a duration; write a number with a unit such as 30s, 30m, 24h, 7d or 1h30m",
        {"value": repr(v)},
    )


def parse_time(v: Any) -> datetime:
    if isinstance(v, str):
        s = v.strip()
        if len(s) >= 20 and s[10] in "Tt ":
            try:
                t = datetime.fromisoformat(s)
            except ValueError:
                t = None
            if t is not None and t.tzinfo is not None:
                return t
    raise PydanticCustomError(
        "rfc3339",
        "{value} is not an RFC 3339 time with a time zone, such as 2026-11-20T00:00:00Z",
        {"value": repr(v)},
    )


def _region(v: Any) -> Any:
    # checked here, with the value's position, long before any URL is built from it
    if isinstance(v, str) and region_problem(v):
        raise PydanticCustomError(
            "region", "{why}; {hint}", {"why": region_problem(v), "hint": REGION_HINT}
        )
    return v


def _project_id(v: Any) -> Any:
    if isinstance(v, str) and project_id_problem(v):
        raise PydanticCustomError(
            "project_id", "{why}; {hint}", {"why": project_id_problem(v), "hint": PROJECT_ID_HINT}
        )
    return v


# The shape of an id a plan gives for a cloud resource (a backup, server, volume,
# resource or vault). Ids become request path segments and query values, and a
# pull request writes the plan: checked here, with the value's position. Tolerant:
# CBR, ECS, EVS and SFS Turbo ids are UUIDs (36 characters with dashes) and project
# ids 32 hex digits (cbr-facts.md), but any id of letters, digits, "_", "-" and
# inner "." up to 128 characters is taken; the cloud answers whether it exists.
# Names (which may hold spaces or any letter) are never checked by it: a target by
# name is {name: ...}, and names are only ever query values.
CLOUD_ID_MAX = 128
CLOUD_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ID_HINTS = {
    "backup": "give the backup's id (CBR console: Backups), or choose one by time with "
    "{before: ...}",
    "server": 'give the server\'s id (ECS console), or {name: "app-01"} to choose it by name',
    "volume": 'give the volume\'s id (EVS console), or {name: "data-01"} to choose it by name',
    "resource": "give the id of the resource the backup belongs to",
    "vault": "give the vault's id (CBR console: Vaults)",
    "source": "give the id of the server or volume whose backups to choose among",
    "disk backup": "give the id of the server backup's child backup of that disk "
    "(backup.children[].id)",
    "disk volume": "give the id of the volume to restore the disk onto (EVS console)",
}


def cloud_id_problem(value: str, what: str) -> str | None:
    """Why ``value`` is not a plausible id of a ``what``, or None when it is one."""
    if len(value) > CLOUD_ID_MAX or not CLOUD_ID_RE.fullmatch(value):
        shown = repr(value if len(value) <= 80 else value[:80] + "...")
        return (
            f"{shown} is not a {what} id: an id is letters, digits, '_', '-' and '.' "
            f"(not first), at most {CLOUD_ID_MAX} characters"
        )
    return None


def _cloud_id(what: str, hint_key: str | None = None) -> Any:
    hint = _ID_HINTS[hint_key or what]

    def check(v: Any) -> Any:
        # only a string is an id; a mapping ({name: ...}, a selector) or a wrong type is
        # left to the model, which says what it expected
        why = cloud_id_problem(v, what) if isinstance(v, str) else None
        if why is not None:
            raise PydanticCustomError("cloud_id", "{why}; {hint}", {"why": why, "hint": hint})
        return v

    return BeforeValidator(check)


def _version(v: Any) -> Any:
    # Literal[1] accepts True and 1.0 (they compare equal to 1): only the integer 1 is version 1
    if type(v) is not int or v != 1:
        raise PydanticCustomError(
            "version", "unsupported plan format version {value}", {"value": repr(v)}
        )
    return v


def _destination_path(v: Any) -> Any:
    if isinstance(v, str) and not v.strip():
        # the cloud reads an empty path as "restore the whole resource in place": refuse
        raise PydanticCustomError(
            "destination_path",
            "{why}; {hint}",
            {
                "why": "empty: the cloud would restore the whole resource in place",
                "hint": "give the path to restore into, or remove destination_path to restore the whole resource",
            },
        )
    return v


Region = Annotated[
    str,
    BeforeValidator(_region),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": REGION_RE.pattern,
            "maxLength": REGION_MAX,
            "examples": ["ap-southeast-1"],
        }
    ),
]
ProjectId = Annotated[
    str,
    BeforeValidator(_project_id),
    WithJsonSchema({"type": "string", "pattern": PROJECT_ID_RE.pattern}),
]
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30m", "24h", "1h30m", "7d"]}
    ),
]
Time = Annotated[
    datetime,
    BeforeValidator(parse_time),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-20T00:00:00Z"]}),
]
RestoreName = Annotated[str, Field(pattern=NAME_RE.pattern)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Cloud(_Model):
    """Where the plan runs. Credentials never go here: they come from HW_* environment variables."""

    region: Region | None = Field(
        None,
        description="Region name, e.g. ap-southeast-1; must match HW_REGION_NAME when both are set.",
    )
    project_id: ProjectId | None = Field(
        None, description="Project id (32 hex digits); must match HW_PROJECT_ID when both are set."
    )


class BackendBlock(_Model):
    """Where state lives. The connection string never goes here: it comes from PG_CONN_STR."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    type: Literal["local", "postgres"] = Field(
        description="local: a file beside the plan (default); postgres: one database for the team."
    )
    schema_: str | None = Field(
        None,
        alias="schema",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema (default restore_planner).",
    )
    workspace: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="One state per workspace, e.g. the environment (default: default).",
    )


class Defaults(_Model):
    """Values applied to every restore that does not set them, and estimate settings."""

    power_on: bool = Field(True, description="Start each server after its restore (default true).")
    restore_overhead: Duration | None = Field(
        None, description="Estimate: fixed time per restore (default 60s)."
    )
    throughput_gb_per_min: float | None = Field(
        None, gt=0, description="Estimate: restore throughput in GB per minute (default 4)."
    )


class GuardsModel(_Model):
    """Safety limits checked at plan time; a plan that breaks one is refused."""

    deny_target_tags: dict[str, str] = Field(
        default_factory=dict, description="Never overwrite a target carrying any of these tags."
    )
    max_restores: int | None = Field(
        None, ge=1, description="Refuse a plan with more restores than this."
    )
    max_backup_skew: Duration | None = Field(
        None, description="Chosen backups may differ in creation time by at most this."
    )
    max_backup_age: Duration | None = Field(
        None, description="The newest backup before the point in time may be at most this old."
    )


class NameRef(_Model):
    """A target by exact name; it must match exactly one resource."""

    name: str


TargetValue = Annotated[
    str | NameRef, Field(description="An id, or {name: ...} matching exactly one.")
]
ServerTarget = Annotated[TargetValue, _cloud_id("server")]
VolumeTarget = Annotated[TargetValue, _cloud_id("volume")]
ResourceTarget = Annotated[TargetValue, _cloud_id("resource")]


class Select(_Model):
    """One instance per matching server/volume, keyed by its name (resolved at plan time)."""

    kind: Literal["server", "volume"]
    tags: dict[str, str] = Field(default_factory=dict, description="Every tag must match.")
    name: str | None = Field(None, description="Glob on the name, e.g. web-*.")


class BackupSelector(_Model):
    """The newest available, restorable backup of source (default: the target) at or before `before`."""

    before: Time | None = None
    not_before: Time | None = None
    vault: Annotated[str | None, _cloud_id("vault")] = Field(
        None, description="Only backups in this vault (id)."
    )
    source: Annotated[str | None, _cloud_id("server or volume", "source")] = Field(
        None, description="Choose among backups of this server/volume id instead of the target's."
    )


class Disk(_Model):
    """Restore child disk backup `backup` onto volume `volume`."""

    backup: Annotated[str, _cloud_id("backup", "disk backup")]
    volume: Annotated[str, _cloud_id("volume", "disk volume")]


_ONE_TARGET: dict[str, Any] = {
    "oneOf": [{"required": [k]} for k in ("server", "volume", "resource", "select")],
}


class Restore(_Model):
    """One restore (or a block of them, with for_each or select). Exactly one of server, volume, resource, select."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_ONE_TARGET)

    server: ServerTarget | None = None
    volume: VolumeTarget | None = None
    resource: ResourceTarget | None = Field(
        None, description="A file system or other resource (SFS Turbo): id or {name}."
    )
    select: Select | None = None
    backup: Annotated[str | BackupSelector, _cloud_id("backup")] = Field(
        description="A backup id, or a selector {before, not_before, vault, source}."
    )
    disks: list[Disk] | None = Field(
        None, description="Child disk backup -> target volume; omit to restore each disk in place."
    )
    power_on: bool | None = Field(
        None, description="Start the server after the restore (default: defaults.power_on)."
    )
    depends_on: list[str] = Field(
        default_factory=list, description='Restores that must finish first: db or app["app-01"].'
    )
    wave: int | None = Field(None, ge=1, description="Runs after every restore of a lower wave.")
    for_each: list[Any] | dict[str, Any] | str | None = Field(
        None,
        description="A list (keys are the items) or a map; each.key / each.value in templates.",
    )
    destination_path: (
        Annotated[str, BeforeValidator(_destination_path), Field(min_length=1)] | None
    ) = Field(None, description="File restore: where to restore inside the resource (not empty).")


class PlanHeader(_Model):
    """Top level as loaded: restores are validated one instance at a time after expansion."""

    version: Annotated[Literal[1], BeforeValidator(_version)] = Field(
        description="Plan format version; must be 1."
    )
    cloud: Cloud | None = None
    backend: BackendBlock | None = None
    vars: dict[str, Any] = Field(
        default_factory=dict, description="Template variables: {{ name }} in any string."
    )
    defaults: Defaults | None = None
    guards: GuardsModel | None = None
    restores: dict[str, Any] = Field(default_factory=dict)


class PlanDocument(PlanHeader):
    """A restore-planner plan file (version 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, title="restore-planner plan")

    restores: dict[RestoreName, Restore] = Field(
        default_factory=dict,
        description='Restores by name; the name is the address (db, app["app-01"]).',
    )


# keys allowed in each mapping, by path pattern ("*" = any name or index)
KNOWN_KEYS: dict[tuple[str, ...], list[str]] = {
    (): list(PlanHeader.model_fields),
    ("cloud",): list(Cloud.model_fields),
    ("backend",): ["type", "schema", "workspace"],
    ("defaults",): list(Defaults.model_fields),
    ("guards",): list(GuardsModel.model_fields),
    ("restores", "*"): list(Restore.model_fields),
    ("restores", "*", "select"): list(Select.model_fields),
    ("restores", "*", "backup"): list(BackupSelector.model_fields),
    ("restores", "*", "server"): ["name"],
    ("restores", "*", "volume"): ["name"],
    ("restores", "*", "resource"): ["name"],
    ("restores", "*", "disks", "*"): list(Disk.model_fields),
}
TARGET_KEYS = ("server", "volume", "resource", "select")
