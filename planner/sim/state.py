"""Mutable runtime state of the simulated cloud, indexed by id.

Built once from an Inventory; statuses change as restores run. Owns the
indexes (servers, volumes, backups incl. children, vaults, attachments) and
nothing about HTTP, auth or time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from planner.sim.inventory import (
    VOLUME_TYPE,
    BackupItem,
    Inventory,
    ServerItem,
    VaultItem,
    VolumeItem,
)


@dataclass(slots=True)
class BackupRec:
    """A backup or a child disk backup (``parent`` set), flattened for lookups."""

    id: str
    name: str
    resource_id: str
    resource_type: str
    status: str
    created_at: float
    size_gb: int
    vault_id: str
    restore_mode: str
    checkpoint_id: str
    parent: str = ""
    device: str = ""
    bootable: bool = False
    children: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Attach:
    server_id: str
    device: str
    boot: bool


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "restore-planner-sim/" + "/".join(parts)))


class SimState:
    def __init__(self, inv: Inventory) -> None:
        self.project_id = inv.project_id
        self.region = inv.region
        self.rules = inv.rules
        self.servers: dict[str, ServerItem] = {s.id: s for s in inv.servers}
        self.volumes: dict[str, VolumeItem] = {v.id: v for v in inv.volumes}
        self.vaults: dict[str, VaultItem] = {v.id: v for v in inv.vaults}
        self.server_order = [s.id for s in inv.servers]
        self.volume_order = [v.id for v in inv.volumes]
        self.server_status = {s.id: s.status for s in inv.servers}
        self.volume_status = {v.id: v.status for v in inv.volumes}
        self.attachments: dict[str, Attach] = {}
        for s in inv.servers:
            for a in s.volumes:
                self.attachments[a.id] = Attach(s.id, a.device, a.boot)
        self.backups: dict[str, BackupRec] = {}
        self.top_backups: list[str] = []
        default_vault = inv.vaults[0].id
        for b in inv.backups:
            self._add_backup(b, default_vault)
        # resource -> backups of it being taken (they finish in the engine's time);
        # protecting_resources may also hold resources a test marks busy by hand
        self.protecting_by_resource: dict[str, set[str]] = {}
        for r in self.backups.values():
            if r.status == "protecting":
                self.protecting_by_resource.setdefault(r.resource_id, set()).add(r.id)
        self.protecting_resources = set(self.protecting_by_resource)

    def _add_backup(self, b: BackupItem, default_vault: str) -> None:
        cp = stable_uuid("checkpoint", b.id)
        vault = b.vault_id or default_vault
        rec = BackupRec(
            id=b.id,
            name=b.name or f"manualbk_{b.id[:4]}",
            resource_id=b.resource_id,
            resource_type=b.resource_type,
            status=b.status,
            created_at=b.created_at.timestamp(),
            size_gb=b.size_gb or sum(c.size_gb for c in b.children),
            vault_id=vault,
            restore_mode=b.restore_mode,
            checkpoint_id=cp,
            children=[c.id for c in b.children],
        )
        if b.resource_type == VOLUME_TYPE and not b.size_gb and b.resource_id in self.volumes:
            rec.size_gb = self.volumes[b.resource_id].size_gb
        self.backups[b.id] = rec
        self.top_backups.append(b.id)
        for c in b.children:
            self.backups[c.id] = BackupRec(
                id=c.id,
                name=rec.name,
                resource_id=c.resource_id,
                resource_type=VOLUME_TYPE,
                status=b.status,
                created_at=rec.created_at,
                size_gb=c.size_gb,
                vault_id=vault,
                restore_mode=b.restore_mode,
                checkpoint_id=cp,
                parent=b.id,
                device=c.device,
                bootable=c.bootable,
            )

    def protecting(self, resource_id: str) -> bool:
        """True while a backup of this server or volume is being taken (inventory status)."""
        return resource_id in self.protecting_resources

    def finish_protecting(self, backup_id: str) -> None:
        """A backup being taken is done: it becomes available, its resources free."""
        rec = self.backups[backup_id]
        if rec.status != "protecting":
            return
        self.set_backup_status(backup_id, "available")
        for rid, bid in [
            (rec.resource_id, rec.id),
            *((self.backups[c].resource_id, c) for c in rec.children),
        ]:
            taking = self.protecting_by_resource.get(rid)
            if taking is None:
                continue
            taking.discard(bid)
            if not taking:
                del self.protecting_by_resource[rid]
                self.protecting_resources.discard(rid)

    def set_backup_status(self, backup_id: str, status: str) -> None:
        rec = self.backups[backup_id]
        rec.status = status
        for child in rec.children:
            self.backups[child].status = status
