"""The simulator's inventory: the YAML file of DESIGN section 9, validated.

Owns the source form (pydantic models, extra keys refused, clear messages for a
bad file) and the deterministic credential defaults. It does not own any
runtime state: ``planner.sim.state`` builds mutable indexes from it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from planner.errors import UserError

SERVER_TYPE = "OS::Nova::Server"
VOLUME_TYPE = "OS::Cinder::Volume"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attachment(_Strict):
    id: str
    device: str = ""
    boot: bool = False


class ServerItem(_Strict):
    id: str
    name: str
    status: str = "ACTIVE"
    az: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    volumes: list[Attachment] = Field(default_factory=list)


class VolumeItem(_Strict):
    id: str
    name: str = ""
    size_gb: int = Field(ge=1)
    az: str = ""
    status: str = "available"


class VaultItem(_Strict):
    id: str
    name: str = ""
    status: str = "available"


class ChildItem(_Strict):
    id: str
    resource_id: str
    size_gb: int = Field(default=0, ge=0)
    device: str = ""
    bootable: bool = False


class BackupItem(_Strict):
    id: str
    name: str = ""
    resource_id: str
    resource_type: str = SERVER_TYPE
    status: str = "available"
    created_at: datetime
    size_gb: int = Field(default=0, ge=0)
    vault_id: str = ""
    restore_mode: Literal["backup", "snapshot", "na"] = "backup"
    children: list[ChildItem] = Field(default_factory=list)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Rules(_Strict):
    """How the simulated cloud behaves. The pace defaults differ from the client's
    estimator (60 s + size / 4 GB/min, planner/config/spec.py) on purpose: apply
    must keep pace with a cloud that does not run at its estimate."""

    cross_server_restore: Literal["deny", "allow"] = "deny"
    quota: int = Field(default=20, ge=1)
    rate_per_s: float = Field(default=50.0, gt=0)
    # a restore of a `backup`-mode backup takes
    #   (restore_overhead_s + per_disk_overhead_s * disks + size / throughput) * pace
    # with pace drawn log-uniformly from pace_spread, per restore, from the seed
    restore_overhead_s: float = Field(default=45.0, ge=0)
    per_disk_overhead_s: float = Field(default=20.0, ge=0)
    throughput_gb_per_min: float = Field(default=5.0, gt=0)
    pace_spread: tuple[float, float] = (0.7, 1.4)
    snapshot_restore_s: float = Field(default=4.0, ge=0)  # `snapshot` mode, before the pace
    # a backup `protecting` (being taken) in the inventory becomes available this long
    # (drawn uniformly from the seed, per backup) after the simulator starts
    protecting_s: tuple[float, float] = (300.0, 1800.0)
    progress_step: int = Field(default=1, ge=1, le=100)  # reported progress is a multiple of this
    # every time the simulator returns is this far ahead of its clock (ten years at most)
    clock_skew_s: float = Field(default=0.0, ge=-315_360_000, le=315_360_000, allow_inf_nan=False)
    # ListBackups: "empty" shows a server backup with "children": [] as the documented
    # example does (ShowBackup and parent_id= listings fill them); "nested" fills them;
    # "flat" shows "children": [] and lists every child as a top-level item too (whether
    # the real cloud does is UNCONFIRMED, cbr-facts 3.3)
    listed_children: Literal["empty", "nested", "flat"] = "empty"
    # ListOpLogs' start_time/end_time: on each task's creation ("created"), or on its start
    # ("started": a task waiting behind the quota has no started_at and matches no time
    # window; the SDK describes both parameters as the task's start time, cbr-facts 15)
    oplog_time_filter: Literal["created", "started"] = "created"

    @field_validator("pace_spread", "protecting_s")
    @classmethod
    def _range(cls, value: tuple[float, float], info: ValidationInfo) -> tuple[float, float]:
        lo, hi = value
        if info.field_name == "pace_spread" and lo <= 0:
            raise ValueError("the pace multipliers must be positive, e.g. [0.7, 1.4]")
        if lo < 0 or hi < lo:
            raise ValueError(f"expected [low, high] with 0 <= low <= high, got [{lo:g}, {hi:g}]")
        return value


class Credentials(_Strict):
    """Every field defaults to a value derived from the project id (see ``with_defaults``)."""

    token: str = ""
    access_key: str = ""
    secret_key: str = ""
    user: str = ""
    password: str = ""
    domain: str = ""

    @property
    def ak(self) -> str:
        return self.access_key

    @property
    def sk(self) -> str:
        return self.secret_key


class Inventory(_Strict):
    project_id: str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    region: str = "sim-1"
    servers: list[ServerItem] = Field(default_factory=list)
    volumes: list[VolumeItem] = Field(default_factory=list)
    vaults: list[VaultItem] = Field(default_factory=list)
    backups: list[BackupItem] = Field(default_factory=list)
    rules: Rules = Field(default_factory=Rules)
    credentials: Credentials = Field(default_factory=Credentials)

    def model_post_init(self, _context: Any) -> None:
        if not self.vaults:
            self.vaults.append(default_vault(self.project_id))
        self.credentials = with_defaults(self.credentials, self.project_id)


def _digest(project_id: str, purpose: str) -> str:
    return hashlib.sha256(f"restore-planner-sim:{project_id}:{purpose}".encode()).hexdigest()


def default_vault(project_id: str) -> VaultItem:
    h = _digest(project_id, "vault")
    return VaultItem(id=f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}", name="vault-default")


def with_defaults(creds: Credentials, project_id: str) -> Credentials:
    """Fill unset credentials deterministically, so tests and `sim serve` agree on them."""
    return Credentials(
        token=creds.token or "simtoken-" + _digest(project_id, "token")[:40],
        access_key=creds.access_key or "SIMAK" + _digest(project_id, "ak")[:15].upper(),
        secret_key=creds.secret_key or _digest(project_id, "sk")[:40],
        user=creds.user or "sim-user",
        password=creds.password or "sim-pw-" + _digest(project_id, "pw")[:12],
        domain=creds.domain or "sim-domain",
    )


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:20]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {loc}: {err['msg']}")
    more = exc.error_count() - 20
    if more > 0:
        lines.append(f"  ... and {more} more")
    return f"{source}: invalid simulator inventory:\n" + "\n".join(lines)


def parse_inventory(data: Any, source: str = "<inventory>") -> Inventory:
    if not isinstance(data, dict):
        raise UserError(f"{source}: an inventory must be a YAML mapping, got {type(data).__name__}")
    try:
        inv = Inventory.model_validate(data)
    except ValidationError as exc:
        raise UserError(_format_errors(source, exc), hint="see DESIGN section 9") from None
    _check_references(inv, source)
    return inv


def _check_references(inv: Inventory, source: str) -> None:
    problems: list[str] = []
    for kind, items in (("server", inv.servers), ("volume", inv.volumes), ("vault", inv.vaults)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                problems.append(f"  {kind} id {item.id} is defined twice")
            seen.add(item.id)
    volume_ids = {v.id for v in inv.volumes}
    vault_ids = {v.id for v in inv.vaults}
    for server in inv.servers:
        for att in server.volumes:
            if att.id not in volume_ids:
                problems.append(
                    f"  server {server.name}: attached volume {att.id} is not in volumes"
                )
    backup_ids: set[str] = set()
    for b in inv.backups:
        for bid in [b.id, *(c.id for c in b.children)]:
            if bid in backup_ids:
                problems.append(f"  backup id {bid} is defined twice")
            backup_ids.add(bid)
        if b.vault_id and b.vault_id not in vault_ids:
            problems.append(f"  backup {b.id}: vault {b.vault_id} is not in vaults")
    if problems:
        shown = problems[:20] + (
            [f"  ... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        raise UserError(f"{source}: invalid simulator inventory:\n" + "\n".join(shown))


def load_inventory(path: str | Path) -> Inventory:
    """Read and validate an inventory file; raises UserError naming every problem."""
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read inventory {p}: {exc.strerror}") from None
    data: Any = None
    if text.lstrip()[:1] == b"{":
        # JSON is YAML too, and json parses a large inventory ~50x faster than
        # PyYAML's CSafeLoader (whose construction step is pure Python).
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    if data is None:
        try:
            data = yaml.load(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError as exc:
            raise UserError(f"{p}: not valid YAML: {exc}") from None
    return parse_inventory(data, str(p))
