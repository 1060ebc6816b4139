"""Restore request validation, in the cloud's order, with the cloud's codes.

``check_restore`` returns either an ``ApiError`` (CBR error code, HTTP status,
message) or an ``Accepted`` restore ready to become a task. Facts: cbr-facts.md
sections 2, 5 and 6; DESIGN section 4. Pure over SimState + TaskEngine.

Choices on UNCONFIRMED facts (documented in specs/cbr-openapi.yaml too):
- a disk backup restored onto a volume other than its own: BackupService.2003
  (the "different resource" code), always refused;
- a mapped volume not attached to the target server: BackupService.9900;
- every child of a server backup must be mapped (BackupService.2012).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planner.sim.inventory import SERVER_TYPE, VOLUME_TYPE
from planner.sim.state import BackupRec, SimState
from planner.sim.tasks import TaskEngine


@dataclass(frozen=True, slots=True)
class ApiError:
    status: int
    code: str
    message: str


@dataclass(slots=True)
class Accepted:
    backup: BackupRec
    target_kind: str
    target_id: str
    target_name: str
    power_on: bool
    mappings: list[tuple[str, str]] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    size_gb: int = 0


_DESTINATION_PATH = re.compile(r"[A-Za-z0-9:\\/]{1,255}")


def _bad(message: str) -> ApiError:
    return ApiError(400, "BackupService.9900", message)


def _e(code: int, message: str, status: int = 400) -> ApiError:
    return ApiError(status, f"BackupService.{code}", message)


def _parse_body(body: Any) -> dict[str, Any] | ApiError:
    if not isinstance(body, dict) or not isinstance(body.get("restore"), dict):
        return _bad("Invalid request body: the 'restore' object is required.")
    r: dict[str, Any] = body["restore"]
    for key in ("server_id", "volume_id", "resource_id"):
        if key in r and r[key] is not None and not isinstance(r[key], str):
            return _bad(f"Invalid parameter restore.{key}: must be a string.")
    if "power_on" in r and r["power_on"] is not None and not isinstance(r["power_on"], bool):
        return _bad("Invalid parameter restore.power_on: must be a boolean.")
    maps = r.get("mappings")
    if maps is not None:
        if not isinstance(maps, list):
            return _bad("Invalid parameter restore.mappings: must be an array.")
        for m in maps:
            if not (
                isinstance(m, dict)
                and isinstance(m.get("backup_id"), str)
                and isinstance(m.get("volume_id"), str)
            ):
                return _bad(
                    "Invalid parameter restore.mappings: each item needs backup_id and volume_id."
                )
    details = r.get("details")
    if details is not None:
        path = details.get("destination_path") if isinstance(details, dict) else None
        # 1 to 255 letters, digits, ':', '\\' and '/' [HW RestoreBackup; cbr-facts section 15]
        if not isinstance(path, str) or not _DESTINATION_PATH.fullmatch(path):
            return _bad(
                "Invalid parameter restore.details.destination_path: 1 to 255 characters "
                "of letters, digits, ':', '\\' and '/'."
            )
    return r


def check_restore(
    st: SimState, engine: TaskEngine, backup_id: str, body: Any
) -> Accepted | ApiError:
    r = _parse_body(body)
    if isinstance(r, ApiError):
        return r
    backup = st.backups.get(backup_id)
    if backup is None:
        return _e(6200, f"The backup {backup_id} does not exist.", 404)
    power_on = r.get("power_on")
    power_on = True if power_on is None else bool(power_on)
    if backup.resource_type == SERVER_TYPE:
        if not r.get("server_id") or not r.get("mappings"):
            return _bad(
                "Invalid request body: a server backup restore needs server_id and mappings."
            )
    elif backup.resource_type == VOLUME_TYPE and not r.get("volume_id"):
        return _bad("Invalid request body: a disk backup restore needs volume_id.")
    if backup.status in ("restoring", "waiting_restore"):
        return _busy()
    if backup.status != "available" or backup.restore_mode == "na":
        return _e(
            2005,
            f"The backup status ({backup.status}, restore mode {backup.restore_mode}) "
            "does not allow restoration.",
        )
    vault = st.vaults.get(backup.vault_id)
    if vault is None or vault.status not in ("available", "locked", "lock"):
        return _e(
            6202,
            "The vault is not available: only backups in an Available or Locked vault "
            "can be used for restoration.",
        )
    if backup.resource_type == SERVER_TYPE:
        acc = _check_server(st, backup, r, power_on)
    elif backup.resource_type == VOLUME_TYPE:
        acc = _check_volume(st, backup, r["volume_id"], power_on)
    else:
        acc = _check_resource(st, backup, r, power_on)
    if isinstance(acc, ApiError):
        return acc
    return _check_busy(st, engine, acc)


def _check_server(
    st: SimState, backup: BackupRec, r: dict[str, Any], power_on: bool
) -> Accepted | ApiError:
    server_id: str = r["server_id"]
    server = st.servers.get(server_id)
    if server is None:
        return _e(7100, f"The server {server_id} does not exist.", 404)
    status = st.server_status[server_id]
    if status in ("DELETED", "SOFT_DELETED"):
        return _e(2007, f"The server {server_id} has been deleted.")
    if status == "ERROR":
        return _e(2008, f"The server status ({status}) does not allow restoration.")
    if server_id != backup.resource_id and st.rules.cross_server_restore != "allow":
        return _e(
            2003,
            f"Restoring the backup of server {backup.resource_id} to a different "
            f"server ({server_id}) is not allowed.",
        )
    mappings = [(m["backup_id"], m["volume_id"]) for m in r["mappings"]]
    mapped = {b for b, _ in mappings}
    missing = [c for c in backup.children if c not in mapped]
    if missing:
        return _e(
            2012,
            "Restoring only some of the disks is not allowed: child backups "
            f"{', '.join(missing)} are not mapped.",
        )
    for child_id, _ in mappings:
        if child_id not in backup.children:
            return _bad(
                f"Invalid parameter restore.mappings: backup {child_id} is not a disk "
                f"backup of {backup.id}."
            )
    targets = [v for _, v in mappings]
    if len(set(targets)) != len(targets) or len(mapped) != len(mappings):
        return _bad("Invalid parameter restore.mappings: a backup or volume appears twice.")
    for child_id, vol_id in mappings:
        vol = st.volumes.get(vol_id)
        if vol is None:
            return _e(7000, f"The disk {vol_id} does not exist.", 404)
        att = st.attachments.get(vol_id)
        if att is None or att.server_id != server_id:
            return _bad(
                f"Invalid parameter restore.mappings: disk {vol_id} is not attached to "
                f"server {server_id}."
            )
        child = st.backups[child_id]
        if att.boot and not child.bootable:
            return _e(
                2013,
                f"The data disk backup {child_id} cannot be restored to the system disk {vol_id}.",
            )
        if vol.size_gb < child.size_gb:
            return _e(
                2001,
                f"The target disk {vol_id} ({vol.size_gb} GB) is smaller than the "
                f"backup {child_id} ({child.size_gb} GB).",
            )
    size = sum(st.backups[b].size_gb for b, _ in mappings)
    return Accepted(backup, "server", server_id, server.name, power_on, mappings, targets, size)


def _check_volume(
    st: SimState, backup: BackupRec, vol_id: str, power_on: bool
) -> Accepted | ApiError:
    vol = st.volumes.get(vol_id)
    if vol is None:
        return _e(7000, f"The disk {vol_id} does not exist.", 404)
    if vol.size_gb < backup.size_gb:
        return _e(
            2001,
            f"The target disk {vol_id} ({vol.size_gb} GB) is smaller than the backup "
            f"({backup.size_gb} GB).",
        )
    status = st.volume_status[vol_id]
    if status == "restoring-backup":
        return _busy()
    if status != "available":
        return _e(
            2011,
            f"The disk status ({status}) does not allow restoration: detach the disk "
            "so that it is available.",
        )
    if vol_id != backup.resource_id:
        return _e(
            2003,
            f"A disk backup can only be restored to its source disk "
            f"({backup.resource_id}), not to {vol_id}.",
        )
    return Accepted(backup, "volume", vol_id, vol.name, power_on, [], [vol_id], backup.size_gb)


def _check_resource(
    st: SimState, backup: BackupRec, r: dict[str, Any], power_on: bool
) -> Accepted | ApiError:
    target = r.get("resource_id") or backup.resource_id
    if target != backup.resource_id and st.rules.cross_server_restore != "allow":
        return _e(
            2003,
            f"Restoring the backup of {backup.resource_id} to a different resource "
            f"({target}) is not allowed.",
        )
    return Accepted(backup, "resource", target, target, power_on, [], [], backup.size_gb)


def _check_busy(st: SimState, engine: TaskEngine, acc: Accepted) -> Accepted | ApiError:
    for rid in [acc.target_id, *acc.volumes]:
        if st.protecting(rid):
            return _e(
                2002,
                f"The resource {rid} is being backed up. Restore it after the backup completes.",
            )
    if acc.backup.id in engine.busy_backups or any(
        rid in engine.busy_resources for rid in [acc.target_id, *acc.volumes]
    ):
        return _busy()
    return acc


def _busy() -> ApiError:
    return _e(2010, "The resource is being restored. Try again later.")
