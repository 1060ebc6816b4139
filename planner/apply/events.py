"""The run log's events: one model per kind, the only way an event is written or read.

Each line of a run log (``runs/<run-id>.jsonl``, or a PostgreSQL row) and of
``apply --format json`` is one event: ``{"ts": ..., "kind": ..., **fields}``.
``specs/run-log.schema.json`` is the JSON Schema of one line (a union on
``kind``), generated from these models; a test fails on drift.

Writing (``encode``) is strict: an unknown kind or field, or a value of the
wrong type, is a bug and raises. Every field of the kind is written (``null``
where the type allows it), so a consumer never has to guess whether a missing
key means "unknown". Reading (``decode``) is tolerant, because a run log is a
report a crash or a hand may have damaged: a line of an unknown kind, or a
restore event without an address, is skipped; any other field that is missing
or has the wrong type reads as its default (``None``, ``""``, ``[]``); fields
this version does not know are ignored.

Times are RFC 3339 in UTC with milliseconds (``planner.timefmt.rfc3339_ms``):
``ts`` on the apply's clock (the cloud's, when apply learned its offset),
``started_at``/``ended_at`` the cloud task's own times.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    WithJsonSchema,
)

from planner.addresses import Address
from planner.timefmt import parse, rfc3339_ms


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        return parse(value)  # ValueError: not a time
    if isinstance(value, datetime):
        return value
    raise ValueError("not an RFC 3339 time")


def _to_address(value: Any) -> Any:
    return str(value) if isinstance(value, Address) else value


Time = Annotated[
    datetime,
    BeforeValidator(_to_datetime),
    PlainSerializer(rfc3339_ms, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# an instance address, e.g. app["app-01"] (planner.addresses.Address)
Addr = Annotated[str, BeforeValidator(_to_address), Field(min_length=1)]
# an integer within JSON's exact range: a damaged line's 400-digit number is no count
Int = Annotated[StrictInt, Field(ge=-(2**53), le=2**53)]
# an int stays an int in the line; never NaN or infinity (a damaged line's 1e999 or NaN
# reads as the field's default, as any value of the wrong type does)
Number = Int | Annotated[StrictFloat, AllowInfNan(False)]


class _Event(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        json_schema_serialization_defaults_required=True,
    )
    # always written; None only when read back from a damaged line
    ts: Annotated[Time | None, WithJsonSchema({"type": "string", "format": "date-time"})] = None
    kind: str


class Target(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        json_schema_serialization_defaults_required=True,  # every field is written
    )
    kind: str = ""  # server | volume | resource
    id: str = ""
    name: str = ""


class RunStarted(_Event):
    kind: Literal["run_started"] = "run_started"
    run_id: str = ""
    parallelism: Int | None = None
    summary: dict[str, Int] = Field(default_factory=dict)  # the plan's counts per action
    plan_estimate_s: Number | None = None  # the plan's estimated makespan
    critical_path: list[str] = Field(default_factory=list)  # the plan's, addresses


class _Restore(_Event):
    address: Addr


class RestoreStarted(_Restore):
    """Apply is about to POST the restore (``adopted``: it found the cloud already running it)."""

    kind: Literal["restore_started"] = "restore_started"
    backup_id: str = ""
    target: Target = Field(default_factory=Target)
    batch: Int | None = None
    wave: Int | None = None
    estimate_s: Number | None = None
    depends_on: list[str] = Field(default_factory=list)
    size_gb: Number | None = None
    adopted: StrictBool = False


class RestoreAccepted(_Restore):
    kind: Literal["restore_accepted"] = "restore_accepted"
    task_id: str = ""


class RestoreProgress(_Restore):
    """The task's percentage, once per step (not per poll)."""

    kind: Literal["restore_progress"] = "restore_progress"
    progress: Int = 0


class RestoreSucceeded(_Restore):
    kind: Literal["restore_succeeded"] = "restore_succeeded"
    task_id: str | None = None
    started_at: Time | None = None  # the cloud task's times
    ended_at: Time | None = None
    seen_at: Time | None = None  # when a listing showed the task's success
    size_gb: Number | None = None


class RestoreFailed(_Restore):
    kind: Literal["restore_failed"] = "restore_failed"
    task_id: str | None = None
    error_code: str = ""  # the cloud's (BackupService.2011) or ours (RP5xx)
    error_message: str = ""
    started_at: Time | None = None
    ended_at: Time | None = None


class RestoreSkipped(_Restore):
    kind: Literal["restore_skipped"] = "restore_skipped"
    because: list[str] = Field(default_factory=list)  # the failed dependencies
    # why, when no dependency failed: the apply was interrupted before it started
    reason: str = ""
    wave: Int | None = None
    batch: Int | None = None
    estimate_s: Number | None = None
    depends_on: list[str] = Field(default_factory=list)


class RestoreWithdrawn(_Restore):
    """Started but never accepted by the cloud (Ctrl-C): it leaves state as it was."""

    kind: Literal["restore_withdrawn"] = "restore_withdrawn"
    reason: str = ""


class RestoreWaiting(_Restore):
    """The cloud asked to try again later (the backup is still being made)."""

    kind: Literal["restore_waiting"] = "restore_waiting"
    reason: str = ""
    retry_in_s: Number = 0.0


# run_finished.counts: one count per outcome, every key written (apply's ApplyResult)
RUN_COUNTS = (
    "succeeded", "failed", "skipped", "unchanged", "abandoned", "withdrawn", "not_started",
)  # fmt: skip
_COUNTS_SCHEMA = {
    "type": "object",
    "properties": {k: {"type": "integer"} for k in RUN_COUNTS},
    "required": list(RUN_COUNTS),
    "additionalProperties": {"type": "integer"},  # a later version's outcomes
}


class RunFinished(_Event):
    kind: Literal["run_finished"] = "run_finished"
    counts: Annotated[dict[str, Int], WithJsonSchema(_COUNTS_SCHEMA)] = Field(default_factory=dict)
    exit_code: Int | None = None
    interrupted: StrictBool = False


Event = (
    RunStarted
    | RestoreStarted
    | RestoreAccepted
    | RestoreProgress
    | RestoreSucceeded
    | RestoreFailed
    | RestoreSkipped
    | RestoreWithdrawn
    | RestoreWaiting
    | RunFinished
)
RestoreEvent = (
    RestoreStarted
    | RestoreAccepted
    | RestoreProgress
    | RestoreSucceeded
    | RestoreFailed
    | RestoreSkipped
    | RestoreWithdrawn
    | RestoreWaiting
)
MODELS: tuple[type[_Event], ...] = (
    RunStarted,
    RestoreStarted,
    RestoreAccepted,
    RestoreProgress,
    RestoreSucceeded,
    RestoreFailed,
    RestoreSkipped,
    RestoreWithdrawn,
    RestoreWaiting,
    RunFinished,
)
BY_KIND: dict[str, type[_Event]] = {m.model_fields["kind"].default: m for m in MODELS}
KINDS = frozenset(BY_KIND)


assert set(get_args(Event)) == set(MODELS)


def make(kind: str, fields: dict[str, Any]) -> Event:
    """The event of ``kind`` with ``fields`` (``ts`` included); ValueError for a bug."""
    model = BY_KIND.get(kind)
    if model is None:
        raise ValueError(f"unknown run log event kind {kind!r}")
    event: Event = model.model_validate(fields)  # type: ignore[assignment]
    return event


def encode(event: Event) -> str:
    """The event's JSON line (no newline): ``ts`` and ``kind`` first, every field present."""
    if event.ts is None:
        raise ValueError(f"{event.kind} event without a time")
    # pydantic-core writes the JSON itself: a third of what dumping to a dict and
    # json.dumps cost, thousands of times per drill (compact separators, UTF-8)
    return event.model_dump_json()


def decode(obj: object) -> Event | None:
    """The event a line read back holds, tolerantly (see the module docstring); None to skip it."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("kind")
    model = BY_KIND.get(kind) if isinstance(kind, str) else None
    if model is None:
        return None
    known = {k: v for k, v in obj.items() if k in model.model_fields}
    while True:  # each round drops at least one field: ends within len(known) rounds
        try:
            event: Event = model.model_validate(known)  # type: ignore[assignment]
            return event
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if not bad or any(
            model.model_fields[k].is_required() for k in bad if k in model.model_fields
        ):
            return None  # a restore event without a usable address
        for key in bad:
            known.pop(key, None)  # reads as its default


DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def schema() -> dict[str, Any]:
    """The JSON Schema of one run-log line (specs/run-log.schema.json is this, checked in).

    Built per model (the same ``oneOf`` with a ``kind`` discriminator a pydantic
    union would give), so each kind's schema is exactly its model's."""
    defs: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    for model in MODELS:
        body = model.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
        defs.update(body.pop("$defs", {}))
        for prop in body["properties"].values():
            prop.pop("default", None)  # every field is written: a default would mislead
        defs[model.__name__] = body
        mapping[str(model.model_fields["kind"].default)] = f"#/$defs/{model.__name__}"
    return {
        "$schema": DRAFT_2020_12,
        "title": "restore-planner run log event",
        "description": (
            "One line of a run log (runs/<run-id>.jsonl beside the state) and of "
            "`restore-planner apply --format json`: one event, selected by `kind`. "
            "Every field of the kind is present (null where the type allows)."
        ),
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "kind", "mapping": mapping},
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    return json.dumps(schema(), indent=2) + "\n"
