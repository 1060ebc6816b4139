"""The evaluated form of a plan: what expansion produces and later stages read.

No YAML objects and no templates live here: every string is rendered, every
for_each is expanded into instances, defaults are applied. Each value keeps the
source range it came from so later stages (graph, resolve, validate) can point
diagnostics at the line that caused them. ``select`` targets are still abstract
here (they expand against the cloud at plan time, in ``planner.resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from planner.addresses import Address
from planner.diagnostics import SourceRange

TargetKind = Literal["server", "volume", "resource"]


@dataclass(frozen=True)
class TargetRef:
    """A single target: by id, or by exact name (must match exactly one)."""

    kind: TargetKind
    id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class SelectRef:
    """``select:``: one instance per matching server/volume, keyed by its name."""

    kind: Literal["server", "volume"]
    tags: tuple[tuple[str, str], ...] = ()
    name: str | None = None  # glob


@dataclass(frozen=True)
class BackupSelector:
    """Newest available, restorable backup of ``source`` (default: the target)."""

    before: datetime | None = None
    not_before: datetime | None = None
    vault: str | None = None
    source: str | None = None  # a server/volume id whose backups to choose from


@dataclass(frozen=True)
class DiskMapEntry:
    backup: str  # child (disk-level) backup id
    volume: str  # target volume id
    range: SourceRange | None = None


@dataclass(frozen=True)
class DependencyRef:
    address: Address  # a block (all its instances) or one instance
    range: SourceRange | None = None


@dataclass(frozen=True)
class RestoreSpec:
    address: Address  # for a select block: the block address; resolve adds keys
    target: TargetRef | SelectRef
    backup: str | BackupSelector
    disks: tuple[DiskMapEntry, ...] | None = None  # None: derive from the cloud
    power_on: bool = True
    destination_path: str | None = None
    depends_on: tuple[DependencyRef, ...] = ()
    wave: int | None = None
    # where each field's value came from: keys "block" (the restore's name),
    # "server"/"volume"/"resource"/"select", "backup", "disks", "power_on",
    # "depends_on", "wave", "destination_path", "for_each"
    ranges: dict[str, SourceRange] = field(default_factory=dict, compare=False, hash=False)

    def range_of(self, key: str) -> SourceRange | None:
        return self.ranges.get(key) or self.ranges.get("block")


@dataclass(frozen=True)
class Guards:
    deny_target_tags: tuple[tuple[str, str], ...] = ()
    max_restores: int | None = None
    max_backup_skew: timedelta | None = None
    max_backup_age: timedelta | None = None


@dataclass(frozen=True)
class Estimates:
    """Duration model: overhead + size / throughput (DESIGN.md section 8)."""

    restore_overhead_s: float = 60.0
    throughput_gb_per_min: float = 4.0

    def duration_s(self, size_gb: float) -> float:
        return self.restore_overhead_s + size_gb / self.throughput_gb_per_min * 60.0


@dataclass(frozen=True)
class PlanConfig:
    files: tuple[str, ...]
    region: str | None = None
    project_id: str | None = None
    guards: Guards = Guards()
    estimates: Estimates = Estimates()
    restores: tuple[RestoreSpec, ...] = ()
    digest: str = ""  # sha256 over file contents and variables
    # ranges of top-level things: "cloud.region", "cloud.project_id",
    # "guards.deny_target_tags", "guards.max_restores", ...
    ranges: dict[str, SourceRange] = field(default_factory=dict, compare=False, hash=False)
