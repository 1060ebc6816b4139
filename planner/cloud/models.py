"""The planner's view of cloud objects, parsed tolerantly from API answers.

These are *our* shapes (snake_case, normalised types), not the wire shapes:
``planner.cloud.client`` converts API JSON into them, ignoring unknown fields
and accepting nulls. The World is an immutable-by-convention snapshot that the
pure pipeline stages (resolve, validate, diff) read.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

SERVER_BACKUP = "OS::Nova::Server"
VOLUME_BACKUP = "OS::Cinder::Volume"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AttachedVolume(_Model):
    id: str
    device: str = ""
    boot: bool = False


class Server(_Model):
    id: str
    name: str
    status: str  # ECS status enum: ACTIVE, SHUTOFF, ERROR, ...
    az: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    volumes: tuple[AttachedVolume, ...] = ()


class VolumeAttachment(_Model):
    server_id: str
    device: str = ""


class Volume(_Model):
    id: str
    name: str = ""
    size_gb: int = 0
    az: str = ""
    status: str = "available"  # EVS status enum: available, in-use, restoring-backup, ...
    # EVS ``bootable``: the disk *can* boot, not that it is attached as the boot disk
    # (that is the server's ``bootIndex`` "0", AttachedVolume.boot)
    bootable: bool = False
    attachments: tuple[VolumeAttachment, ...] = ()


class BackupChild(_Model):
    """A disk-level child of a server backup (restore mappings name these ids)."""

    id: str
    resource_id: str  # the source volume id
    size_gb: int = 0
    bootable: bool | None = None
    status: str = "available"


class Backup(_Model):
    id: str
    name: str = ""
    status: str  # available, protecting, restoring, error, ...
    resource_id: str
    resource_type: str  # OS::Nova::Server, OS::Cinder::Volume, ...
    resource_name: str = ""
    resource_az: str = ""
    size_gb: int = 0
    vault_id: str = ""
    created_at: datetime
    restore_mode: str | None = None  # extend_info.supported_restore_mode: backup|snapshot|na
    children: tuple[BackupChild, ...] = ()
    # set on a disk backup that is part of a server backup (fetched by id when pinned)
    parent_id: str = ""

    @property
    def restorable(self) -> bool:
        return self.status == "available" and self.restore_mode != "na"


class Vault(_Model):
    id: str
    name: str = ""
    status: str = "available"  # billing.status: available, lock, frozen, deleting, error
    locked: bool = False  # the vault's own lock flag (not billing status ``lock``)

    @property
    def restorable(self) -> bool:
        """Only backups in an available or locked vault can be restored (BackupService.6202)."""
        return self.status in ("available", "lock")


class OperationLog(NamedTuple):
    """A CBR task (operation log); restores are tracked through these.

    An immutable tuple, not a model or a frozen dataclass: every poll builds one per
    task in flight (a frozen dataclass's ``__init__`` cost four times as much), and
    ``planner.cloud.parse`` has normalized every field already."""

    id: str
    operation_type: str
    status: str  # waiting, running, success, failed, timeout, skipped
    progress: int = 0
    backup_id: str = ""
    backup_name: str = ""
    target_id: str = ""
    target_name: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error_code: str = ""
    error_message: str = ""

    @property
    def finished(self) -> bool:
        return self.status in ("success", "failed", "timeout", "skipped")


class World(_Model):
    """What refresh saw, keyed by id. Only what the plan needed is present."""

    region: str = ""
    project_id: str = ""
    fetched_at: datetime | None = None
    servers: dict[str, Server] = Field(default_factory=dict)
    volumes: dict[str, Volume] = Field(default_factory=dict)
    backups: dict[str, Backup] = Field(default_factory=dict)
    vaults: dict[str, Vault] = Field(default_factory=dict)
    # True when refresh listed every backup of the relevant sources (selectors can trust absence)
    complete_backups_for: frozenset[str] = frozenset()

    @cached_property
    def backups_by_source(self) -> dict[str, list[Backup]]:
        """Backups per source resource id: rules look these up once per restore."""
        out: dict[str, list[Backup]] = {}
        for b in self.backups.values():
            out.setdefault(b.resource_id, []).append(b)
        return out
