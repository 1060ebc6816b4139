"""The state file's schema: what apply recorded about each restore address.

Owns the shape only (pydantic, ``extra="forbid"``: the file is ours, an unknown
field means a newer or hand-broken file). Reading and writing the file, with
its serial and lineage checks, belongs to ``planner.state.store``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.addresses import Address, AddressError

FORMAT_VERSION = 1

RestoreStatus = Literal["started", "succeeded", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class TargetInfo(_Model):
    kind: Literal["server", "volume", "resource"]
    id: str
    name: str = ""


class BackupInfo(_Model):
    id: str
    name: str = ""
    created_at: AwareDatetime

    @field_validator("created_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return _utc(value)


class DiskPair(_Model):
    backup_id: str  # child (disk-level) backup id
    volume_id: str  # target volume id


class RecordError(_Model):
    code: str
    message: str


EARLIER_TASKS = 16


class RestoreRecord(_Model):
    """One address's last restore. ``started``: the POST was sent (or was about
    to be) and the outcome is unknown, so the next plan reconciles, never repeats."""

    address: str
    target: TargetInfo
    backup: BackupInfo
    disks: tuple[DiskPair, ...] = ()
    power_on: bool = True
    destination_path: str | None = None
    task_id: str | None = None
    status: RestoreStatus
    error: RecordError | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    run_id: str
    # the tasks of this address's earlier restores (newest last, at most EARLIER_TASKS):
    # never this restore's own, however well they match its backup, target and time
    earlier_tasks: tuple[str, ...] = Field(default=(), exclude_if=lambda v: not v)

    @field_validator("address")
    @classmethod
    def _address_parses(cls, value: str) -> str:
        try:
            return str(Address.parse(value))
        except AddressError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("started_at", "ended_at")
    @classmethod
    def _to_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)

    @property
    def addr(self) -> Address:
        return Address.parse(self.address)


class State(BaseModel):
    # Records are frozen (replace them with model_copy(update=...)); the store
    # relies on that to re-serialise only records that changed since its last write.
    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    lineage: str
    serial: int = Field(0, ge=0, strict=True)  # negative: any write would look newer
    restores: dict[str, RestoreRecord] = Field(default_factory=dict)

    @classmethod
    def new(cls) -> State:
        return cls(lineage=str(uuid.uuid4()))

    @model_validator(mode="after")
    def _keys_match_addresses(self) -> State:
        for key, rec in self.restores.items():
            if key != rec.address:
                raise ValueError(f"restores key {key!r} holds the record of {rec.address!r}")
        return self

    def known_tasks(self) -> set[str]:
        """Every task state records, each some restore's own: the latest of each address
        and the ones its record replaced (never another restore's, nor a replay)."""
        known = {r.task_id for r in self.restores.values() if r.task_id}
        known.update(t for r in self.restores.values() for t in r.earlier_tasks)
        return known

    def record(self, rec: RestoreRecord) -> None:
        """Add or replace the record of ``rec.address``."""
        self.restores[rec.address] = rec

    def get(self, addr: Address) -> RestoreRecord | None:
        return self.restores.get(str(addr))

    def remove(self, addr: Address) -> RestoreRecord | None:
        return self.restores.pop(str(addr), None)

    def addresses(self) -> list[Address]:
        return sorted(Address.parse(k) for k in self.restores)
