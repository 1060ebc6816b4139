"""The serialized execution plan: what `plan` prints, `--out` saves and `apply` runs.

Every renderer reads these models (never the YAML or the World), so `plan`,
`show` and `--format json` cannot disagree. A saved plan pins every resolved
id and the facts each action relies on, the state it was made against and a
digest of all of it (saving, loading and checking: ``planner.plan.planfile``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.defaults import DEFAULT_PARALLELISM

ActionKind = Literal["restore", "re-restore", "unchanged", "reconcile", "forget"]
ACTION_SYMBOLS: dict[str, str] = {
    "restore": "+",
    "re-restore": "~",
    "unchanged": "=",
    "reconcile": "!",
    "forget": "-",
}
# 2: the plan carries its digest, its state's location and identity, its cloud time
PLAN_FORMAT_VERSION = 2


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetInfo(_Model):
    kind: Literal["server", "volume", "resource"]
    id: str
    name: str = ""
    status: str = ""
    az: str = ""


class BackupInfo(_Model):
    id: str
    name: str = ""
    created_at: datetime | None = None
    status: str = ""
    size_gb: int = 0
    vault_id: str = ""
    source_id: str = ""  # the resource the backup was taken from


class DiskMap(_Model):
    backup_id: str  # child (disk-level) backup id
    volume_id: str  # target volume overwritten
    size_gb: int = 0  # child backup size
    volume_name: str = ""
    volume_size_gb: int | None = None
    device: str = ""
    boot: bool = False  # the target volume is the server's system (boot) disk
    source_boot: bool | None = None  # the child backup is of a system disk (None: unknown)


class Restore(_Model):
    """One concrete restore: every reference resolved to an id."""

    address: str
    target: TargetInfo
    backup: BackupInfo
    disks: list[DiskMap] = Field(default_factory=list)
    power_on: bool = True
    destination_path: str | None = None
    depends_on: list[str] = Field(default_factory=list)  # instance addresses
    wave: int | None = None

    @property
    def size_gb(self) -> int:
        if self.disks:
            return sum(d.size_gb for d in self.disks)
        return self.backup.size_gb

    def written_ids(self) -> list[str]:
        """Every cloud object this restore overwrites (for conflicts and exclusivity)."""
        ids = [self.target.id]
        ids.extend(d.volume_id for d in self.disks if d.volume_id != self.target.id)
        return ids


class Action(_Model):
    address: str
    action: ActionKind
    reason: str = ""  # why this action: "not in state", "backup a -> b", ...
    changes: list[str] = Field(default_factory=list)
    restore: Restore | None = None  # None only for forget
    batch: int | None = None
    estimate_s: float = 0.0
    task_id: str | None = None  # reconcile: the task to look up first
    # fact name -> value the action relies on; apply refuses the plan when one moved
    facts: dict[str, str] = Field(default_factory=dict)

    @property
    def symbol(self) -> str:
        return ACTION_SYMBOLS[self.action]


class StateRef(_Model):
    """The state a plan was made against; a saved plan applies to this state only."""

    lineage: str | None = None  # None: there was no state yet
    serial: int = 0
    path: str = ""  # as the command line named it (shown to the reader)
    location: str = ""  # resolved absolute path: where apply of the saved plan reads and writes
    identity: str = ""  # sha256 of the state's content as the plan saw it; "" without a state


class Estimate(_Model):
    makespan_s: float = 0.0
    total_work_s: float = 0.0
    critical_path_s: float = 0.0
    critical_path: list[str] = Field(default_factory=list)
    parallelism: int = DEFAULT_PARALLELISM
    restore_overhead_s: float = 60.0
    throughput_gb_per_min: float = 4.0


class Summary(_Model):
    restore: int = 0
    re_restore: int = Field(0, alias="re-restore")
    unchanged: int = 0
    reconcile: int = 0
    forget: int = 0
    targets_overwritten: int = 0
    total_gb: int = 0

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @property
    def changes(self) -> int:
        return self.restore + self.re_restore + self.reconcile + self.forget


class PlanWarning(_Model):
    code: str
    summary: str
    detail: str = ""
    location: str = ""


class ExecutionPlan(_Model):
    format_version: int = PLAN_FORMAT_VERSION
    tool_version: str = ""
    # sha256 over the canonical JSON of everything else in the saved plan (planfile.digest_of)
    digest: str = ""
    created_at: datetime
    # when it was made on the cloud's clock: apply looks for restores of its targets since then
    cloud_created_at: datetime | None = None
    config_digest: str = ""
    config_files: list[str] = Field(default_factory=list)
    region: str = ""
    project_id: str = ""
    state: StateRef = Field(default_factory=StateRef)
    partial: bool = False
    targets: list[str] = Field(default_factory=list)  # --target addresses when partial
    actions: list[Action] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    estimate: Estimate = Field(default_factory=Estimate)
    backup_skew_s: float | None = None
    batches: int = 0
    warnings: list[PlanWarning] = Field(default_factory=list)

    def action(self, address: str) -> Action | None:
        for a in self.actions:
            if a.address == address:
                return a
        return None

    @property
    def has_changes(self) -> bool:
        return self.summary.changes > 0
