"""Resolution: abstract plan references -> concrete restores, against a World.

Owns target lookup (ids, exact names, ``select``), backup selectors and disk
maps. Pure: (PlanConfig, World) -> (restores, diagnostics). Rule checks that do
not change *what* is restored live in ``planner.validate``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from planner.addresses import Address
from planner.cloud.models import (
    SERVER_BACKUP,
    VOLUME_BACKUP,
    AttachedVolume,
    Backup,
    Server,
    Volume,
    World,
)
from planner.config.spec import BackupSelector, PlanConfig, RestoreSpec, SelectRef, TargetRef
from planner.diagnostics import Diagnostic, error
from planner.plan.model import BackupInfo, DiskMap, Restore, TargetInfo


@dataclass(frozen=True)
class Resolved:
    """A restore plus the spec it came from (for diagnostics' positions)."""

    restore: Restore
    spec: RestoreSpec


@dataclass(frozen=True)
class Unresolved:
    """A restore whose target was found but whose backup or disk map was not: it has its
    own diagnostic already, and it still writes its target (two restores of one server
    are a conflict whether or not the backup of one of them was found)."""

    address: Address
    target: TargetInfo
    spec: RestoreSpec


def resolve(
    config: PlanConfig, world: World, unresolved: list[Unresolved] | None = None
) -> tuple[list[Resolved], list[Diagnostic]]:
    """``unresolved`` (when given) collects the restores dropped after their target was
    found, so that the plan can still report what they conflict with."""
    diags: list[Diagnostic] = []
    dropped = unresolved if unresolved is not None else []
    targets: list[tuple[RestoreSpec, Address, TargetInfo]] = []
    for spec in config.restores:
        targets.extend((spec, addr, t) for addr, t in _targets(spec, world, diags))
    instances: dict[str, list[Address]] = {}
    for _, addr, _ in targets:
        instances.setdefault(addr.block, []).append(addr)
    out: list[Resolved] = []
    for spec, addr, target in targets:
        backup = _backup(spec, target, world, diags)
        if backup is None:
            dropped.append(Unresolved(addr, target, spec))
            continue
        if target.kind == "resource" and backup.resource_type in (SERVER_BACKUP, VOLUME_BACKUP):
            diags.append(
                error(
                    "RP320",
                    f"backup {backup.id} is a {backup.resource_type} backup; a resource target needs "
                    "a backup of that resource",
                    "restore a server backup onto a `server:` and a disk backup onto a `volume:`",
                    spec.range_of("backup"),
                )
            )
            dropped.append(Unresolved(addr, target, spec))
            continue
        disks = _disks(spec, target, backup, world, diags)
        if disks is None:
            dropped.append(Unresolved(addr, target, spec))
            continue
        restore = Restore(
            address=str(addr),
            target=target,
            backup=_backup_info(backup),
            disks=disks,
            power_on=spec.power_on,
            destination_path=spec.destination_path,
            depends_on=sorted(
                {str(a) for ref in spec.depends_on for a in _expand_ref(ref.address, instances)}
            ),
            wave=spec.wave,
        )
        out.append(Resolved(restore, spec))
    return out, diags


def _expand_ref(ref: Address, instances: dict[str, list[Address]]) -> list[Address]:
    if ref.key is None:
        return instances.get(ref.block, [])
    return [a for a in instances.get(ref.block, []) if a == ref]


# --- targets -----------------------------------------------------------------


def _server_info(s: Server) -> TargetInfo:
    return TargetInfo(kind="server", id=s.id, name=s.name, status=s.status, az=s.az)


def _volume_info(v: Volume) -> TargetInfo:
    return TargetInfo(kind="volume", id=v.id, name=v.name, status=v.status, az=v.az)


def _targets(
    spec: RestoreSpec, world: World, diags: list[Diagnostic]
) -> list[tuple[Address, TargetInfo]]:
    t = spec.target
    if isinstance(t, SelectRef):
        return _select(spec, t, world, diags)
    found = _single_target(spec, t, world, diags)
    return [] if found is None else [(spec.address, found)]


def _single_target(
    spec: RestoreSpec, t: TargetRef, world: World, diags: list[Diagnostic]
) -> TargetInfo | None:
    where = spec.range_of(t.kind)
    if t.kind == "resource":
        if t.id is None:
            # refresh lists servers and volumes only: there is no listing of file systems
            # to resolve a name against, and an unresolved name must never reach the cloud
            diags.append(
                error(
                    "RP306",
                    f"resource {t.name!r} cannot be found by name",
                    "restore-planner cannot list file systems (SFS Turbo) or other resources; "
                    "give the resource id: `resource: ID`",
                    where,
                )
            )
            return None
        return TargetInfo(kind="resource", id=t.id, name="")
    pool: dict[str, Server] | dict[str, Volume] = (
        world.servers if t.kind == "server" else world.volumes
    )
    info = _server_info if t.kind == "server" else _volume_info
    if t.id is not None:
        obj = pool.get(t.id)
        if obj is None:
            diags.append(
                error(
                    "RP301",
                    f"{t.kind} {t.id} does not exist in project {world.project_id or '?'}",
                    f"check the id, or name the {t.kind} with `{{name: ...}}`",
                    where,
                )
            )
            return None
        return info(obj)  # type: ignore[arg-type]
    matches = sorted((o for o in pool.values() if o.name == t.name), key=lambda o: o.id)
    if not matches:
        diags.append(
            error(
                "RP302",
                f"no {t.kind} is named {t.name!r}",
                f"names must match exactly; `select: {{kind: {t.kind}, name: 'glob*'}}` matches patterns",
                where,
            )
        )
        return None
    if len(matches) > 1:
        ids = ", ".join(o.id for o in matches)
        diags.append(
            error(
                "RP303",
                f"{len(matches)} {t.kind}s are named {t.name!r}: {ids}",
                "a name must match exactly one; use the id instead",
                where,
            )
        )
        return None
    return info(matches[0])  # type: ignore[arg-type]


def _select(
    spec: RestoreSpec, sel: SelectRef, world: World, diags: list[Diagnostic]
) -> list[tuple[Address, TargetInfo]]:
    pool: Sequence[Server | Volume] = list(
        world.servers.values() if sel.kind == "server" else world.volumes.values()
    )
    matched: list[Server | Volume] = []
    for obj in pool:
        tags = obj.tags if isinstance(obj, Server) else {}
        if any(tags.get(k) != v for k, v in sel.tags):
            continue
        if sel.name is not None and not fnmatch.fnmatchcase(obj.name, sel.name):
            continue
        matched.append(obj)
    where = spec.range_of("select")
    if not matched:
        crit = ", ".join(
            [f"{k}={v}" for k, v in sel.tags] + ([f"name={sel.name}"] if sel.name else [])
        )
        diags.append(
            error(
                "RP304",
                f"select matched no {sel.kind} ({crit})",
                "check the tags and name pattern; a select that matches nothing is an error so "
                "that a typo cannot silently drop part of a recovery",
                where,
            )
        )
        return []
    by_name: dict[str, list[str]] = {}
    for obj in matched:
        by_name.setdefault(obj.name, []).append(obj.id)
    out: list[tuple[Address, TargetInfo]] = []
    for obj in sorted(matched, key=lambda o: (o.name, o.id)):
        if len(by_name[obj.name]) > 1:
            continue
        info = _server_info(obj) if isinstance(obj, Server) else _volume_info(obj)
        out.append((Address(spec.address.block, obj.name), info))
    for name, ids in sorted(by_name.items()):
        if len(ids) > 1:
            diags.append(
                error(
                    "RP305",
                    f"select matched {len(ids)} {sel.kind}s named {name!r} ({', '.join(sorted(ids))})",
                    "instances are keyed by name, so names must be unique; rename one or narrow the select",
                    where,
                )
            )
    return out


# --- backups -----------------------------------------------------------------


def _backup_info(b: Backup) -> BackupInfo:
    return BackupInfo(
        id=b.id,
        name=b.name,
        created_at=b.created_at,
        status=b.status,
        size_gb=b.size_gb,
        vault_id=b.vault_id,
        source_id=b.resource_id,
    )


def _backup(
    spec: RestoreSpec, target: TargetInfo, world: World, diags: list[Diagnostic]
) -> Backup | None:
    where = spec.range_of("backup")
    if isinstance(spec.backup, str):
        b = world.backups.get(spec.backup)
        if b is None:
            diags.append(
                error(
                    "RP310",
                    f"backup {spec.backup} does not exist",
                    "check the id (CBR console: Backups), or choose by time with "
                    "`backup: {before: ...}`",
                    where,
                )
            )
        return b
    return _select_backup(spec.backup, target, world, diags, spec)


# A backup being restored from is still the newest restorable backup: a selector that
# skipped it would move to an older one while a restore from it runs (a re-plan after
# an interrupted apply would then restore the target twice, issue 10). Only backups
# that cannot be restored from (being taken, deleting, error, restore_mode na) are skipped;
# the rules then say why the chosen one cannot be restored right now (RP345).
SELECTABLE_STATUSES = frozenset({"available", "restoring", "waiting_restore"})


def selectable(b: Backup) -> bool:
    """Whether a backup selector may choose ``b``. Never a disk backup that is part of
    a server backup: refresh keeps those out of its listings, and one fetched because
    another restore pins it must not change what a selector picks."""
    return b.status in SELECTABLE_STATUSES and b.restore_mode != "na" and not b.parent_id


def _select_backup(
    sel: BackupSelector,
    target: TargetInfo,
    world: World,
    diags: list[Diagnostic],
    spec: RestoreSpec,
) -> Backup | None:
    source = sel.source or target.id
    window = []
    if sel.not_before:
        window.append(f"not before {sel.not_before.isoformat()}")
    if sel.before:
        window.append(f"at or before {sel.before.isoformat()}")
    if sel.vault:
        window.append(f"in vault {sel.vault}")
    candidates = [
        b
        for b in world.backups_by_source.get(source, [])
        if (sel.before is None or b.created_at <= sel.before)
        and (sel.not_before is None or b.created_at >= sel.not_before)
        and (sel.vault is None or b.vault_id == sel.vault)
    ]
    usable = [b for b in candidates if selectable(b)]
    if usable:
        return max(usable, key=lambda b: (b.created_at, b.id))
    name = target.name or target.id
    if candidates:
        seen = ", ".join(
            f"{b.name or b.id} {b.created_at:%Y-%m-%dT%H:%MZ} {b.status}"
            + (" restore_mode=na" if b.restore_mode == "na" else "")
            for b in sorted(candidates, key=lambda b: b.created_at, reverse=True)[:5]
        )
        detail = f"backups in the window exist but none is available and restorable: {seen}"
    else:
        later = world.backups_by_source.get(source, [])
        detail = (
            f"{source} has {len(later)} backup(s), none in the window; newest is "
            f"{max(later, key=lambda b: b.created_at).created_at:%Y-%m-%dT%H:%MZ}"
            if later
            else f"no backup of {source} was found"
        )
    diags.append(
        error(
            "RP311",
            f"no available backup of {name} {' '.join(window) or ''}".rstrip(),
            detail + "; widen the window or name a backup id",
            spec.range_of("backup"),
        )
    )
    return None


# --- disk maps ---------------------------------------------------------------


def _disks(
    spec: RestoreSpec, target: TargetInfo, backup: Backup, world: World, diags: list[Diagnostic]
) -> list[DiskMap] | None:
    where = spec.range_of("disks")
    if target.kind != "server" or backup.resource_type != SERVER_BACKUP:
        if spec.disks:
            diags.append(
                error(
                    "RP330",
                    f"disks: applies only to a server restore from a server backup ({backup.resource_type})",
                    "remove `disks:`; a disk backup restores onto its own volume",
                    where,
                )
            )
            return None
        if backup.resource_type == VOLUME_BACKUP and target.kind == "volume":
            vol = world.volumes.get(target.id)
            return [
                DiskMap(
                    backup_id=backup.id,
                    volume_id=target.id,
                    size_gb=backup.size_gb,
                    volume_name=vol.name if vol else "",
                    volume_size_gb=vol.size_gb if vol else None,
                )
            ]
        return []
    server = world.servers.get(target.id)
    attached = {v.id: v for v in server.volumes} if server else {}
    by_device = {v.device: v for v in server.volumes} if server else {}
    children = {c.id: c for c in backup.children}
    out: list[DiskMap] = []
    if spec.disks is not None:
        ok = True
        seen: set[str] = set()
        for entry in spec.disks:
            child = children.get(entry.backup)
            if child is None:
                ok = False
                diags.append(
                    error(
                        "RP331",
                        f"backup {entry.backup} is not a disk of server backup {backup.id}",
                        "its disks are: " + (", ".join(sorted(children)) or "(none)"),
                        entry.range or where,
                    )
                )
                continue
            if entry.backup in seen:
                ok = False
                diags.append(
                    error(
                        "RP332",
                        f"disk backup {entry.backup} is mapped twice",
                        "map each disk once",
                        entry.range or where,
                    )
                )
                continue
            seen.add(entry.backup)
            out.append(_map(child.id, child.size_gb, child.bootable, entry.volume, attached, world))
        missing = sorted(set(children) - seen)
        if missing:
            ok = False
            diags.append(
                error(
                    "RP333",
                    f"{len(missing)} disk(s) of backup {backup.id} are not mapped: {', '.join(missing)}",
                    "the cloud refuses a partial restore (BackupService.2012); map every disk, "
                    "or omit `disks:` to restore each disk in place",
                    where,
                )
            )
        return out if ok else None
    source = world.servers.get(backup.resource_id)
    source_devices = {v.id: v.device for v in source.volumes} if source else {}
    unmapped: list[str] = []
    for child in sorted(backup.children, key=lambda c: c.id):
        if child.resource_id in attached:
            vol_id = child.resource_id
        else:
            dev = source_devices.get(child.resource_id) or _volume_device(world, child.resource_id)
            match = by_device.get(dev) if dev else None
            if match is None:
                unmapped.append(
                    f"{child.id} (from volume {child.resource_id}{', ' + dev if dev else ''})"
                )
                continue
            vol_id = match.id
        out.append(_map(child.id, child.size_gb, child.bootable, vol_id, attached, world))
    if unmapped:
        diags.append(
            error(
                "RP334",
                f"cannot map {len(unmapped)} disk(s) of backup {backup.id} onto {target.name or target.id}: "
                + "; ".join(unmapped),
                "no attached volume has the same id or device; add an explicit `disks:` list "
                "mapping each disk backup to a target volume",
                spec.range_of("backup"),
            )
        )
        return None
    return out


def _volume_device(world: World, volume_id: str) -> str:
    vol = world.volumes.get(volume_id)
    if vol and vol.attachments:
        return vol.attachments[0].device
    return ""


def _map(
    child_id: str,
    size_gb: int,
    bootable: bool | None,
    volume_id: str,
    attached: dict[str, AttachedVolume],
    world: World,
) -> DiskMap:
    vol = world.volumes.get(volume_id)
    att = attached.get(volume_id)
    device = att.device if att else (vol.attachments[0].device if vol and vol.attachments else "")
    # the boot role is the server's bootIndex "0"; EVS `bootable` only says the disk can
    # boot (cbr-facts section 15), so a volume not attached here is no system disk of it
    boot = att.boot if att else False
    return DiskMap(
        backup_id=child_id,
        volume_id=volume_id,
        size_gb=size_gb,
        volume_name=vol.name if vol else "",
        volume_size_gb=vol.size_gb if vol else None,
        device=device,
        boot=boot,
        source_boot=bootable,
    )
