"""Cloud rules (DESIGN.md section 4): does the cloud accept each resolved restore?

Each rule is a function ``(Resolved, World) -> Iterable[Diagnostic]`` with a
stable code; the simulator enforces the same rules with the cloud's error
codes, named in each hint so a refusal at plan time and at the cloud read alike.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from planner.cloud.models import SERVER_BACKUP, VOLUME_BACKUP, World
from planner.diagnostics import Diagnostic, error, warning
from planner.resolve import Resolved

Rule = Callable[[Resolved, World], Iterable[Diagnostic]]

_BAD_SERVER = {
    "ERROR": "BackupService.2008",
    "DELETED": "BackupService.2007",
    "SOFT_DELETED": "BackupService.2007",
}


def backup_type_fits_target(r: Resolved, world: World) -> Iterable[Diagnostic]:
    want = {"server": SERVER_BACKUP, "volume": VOLUME_BACKUP}.get(r.restore.target.kind)
    b = world.backups[r.restore.backup.id]
    if want is not None and b.resource_type != want:
        yield error(
            "RP320",
            f"backup {b.id} is a {b.resource_type} backup; a {r.restore.target.kind} target needs {want}",
            "restore a server backup onto a `server:` and a disk backup onto a `volume:`",
            r.spec.range_of("backup"),
        )


def backup_is_restorable(r: Resolved, world: World) -> Iterable[Diagnostic]:
    b = world.backups[r.restore.backup.id]
    if b.status != "available":
        yield error(
            "RP321",
            f"backup {b.name or b.id} is {b.status}, not available",
            "only an available backup can be restored (cloud: BackupService.2005); wait for it "
            "or choose another",
            r.spec.range_of("backup"),
        )
    elif b.restore_mode == "na":
        yield error(
            "RP322",
            f"backup {b.name or b.id} cannot be restored (supported_restore_mode is na)",
            "choose another backup (cloud: BackupService.2005)",
            r.spec.range_of("backup"),
        )
    for child in b.children:
        if child.status not in ("available", ""):
            yield error(
                "RP321",
                f"disk backup {child.id} of {b.name or b.id} is {child.status}, not available",
                "every disk of a server backup must be available (cloud: BackupService.2005)",
                r.spec.range_of("backup"),
            )


def vault_is_available(r: Resolved, world: World) -> Iterable[Diagnostic]:
    b = world.backups[r.restore.backup.id]
    vault = world.vaults.get(b.vault_id)
    # billing.status enum: available, lock, frozen, deleting, error; "lock" restores
    # (cbr-facts sections 6 and 15). A vault answer without any status is not judged.
    if vault is not None and not vault.restorable and vault.status != "unknown":
        yield error(
            "RP323",
            f"vault {vault.name or vault.id} of backup {b.name or b.id} is {vault.status}",
            "restores need an available or locked vault (cloud: BackupService.6202); "
            "a frozen vault is usually unpaid: renew it, or choose a backup in another vault",
            r.spec.range_of("backup"),
        )


def server_backup_has_disks(r: Resolved, world: World) -> Iterable[Diagnostic]:
    b = world.backups[r.restore.backup.id]
    if r.restore.target.kind != "server" or b.resource_type != SERVER_BACKUP or b.children:
        return
    # refresh asked ShowBackup for it already (a listing may omit children): still none
    yield error(
        "RP339",
        f"server backup {b.name or b.id} lists no disk backups, so nothing can be mapped",
        "the cloud needs a mapping for each disk of the backup (an empty mappings list would "
        "restore nothing); check the backup in the console, or choose another backup",
        r.spec.range_of("backup"),
    )


def target_server_state(r: Resolved, world: World) -> Iterable[Diagnostic]:
    t = r.restore.target
    if t.kind != "server":
        return
    code = _BAD_SERVER.get(t.status)
    if code:
        yield error(
            "RP340",
            f"server {t.name or t.id} is {t.status}; the cloud refuses to restore it",
            f"repair or recreate the server first (cloud: {code})",
            r.spec.ranges.get("server") or r.spec.range_of("select"),
        )


def target_volume_state(r: Resolved, world: World) -> Iterable[Diagnostic]:
    t = r.restore.target
    if t.kind != "volume":
        return
    b = world.backups[r.restore.backup.id]
    where = r.spec.ranges.get("volume") or r.spec.range_of("select")
    if t.status == "restoring-backup":
        # busy, not attached: RP345 as for a server's disks, which a plan reconciling
        # the restore an earlier apply started (its own) does not refuse
        yield error(
            "RP345",
            f"volume {t.name or t.id} is being restored right now",
            "wait for that restore to finish (cloud: BackupService.2010)",
            where,
        )
    elif t.status != "available":
        yield error(
            "RP342",
            f"volume {t.name or t.id} is {t.status}; a disk restore needs it detached (available)",
            "stop the server and detach the volume, then plan again (cloud: BackupService.2011)",
            where,
        )
    if b.resource_type == VOLUME_BACKUP and b.resource_id != t.id:
        yield error(
            "RP343",
            f"backup {b.name or b.id} was taken from volume {b.resource_id}, not {t.name or t.id}",
            "a disk backup restores only onto its own volume; create a new volume from the "
            "backup instead (cloud: BackupService.2003)",
            r.spec.range_of("backup"),
        )


def disk_sizes_and_roles(r: Resolved, world: World) -> Iterable[Diagnostic]:
    if r.restore.target.kind != "server":
        return
    where = r.spec.ranges.get("disks") or r.spec.range_of("backup")
    server = world.servers.get(r.restore.target.id)
    attached = {v.id for v in server.volumes} if server else set()
    for d in r.restore.disks:
        vol = world.volumes.get(d.volume_id)
        if d.volume_id not in attached and vol is None:
            yield error(
                "RP335",
                f"volume {d.volume_id} (for disk {d.backup_id}) does not exist",
                "map the disk onto a volume attached to the target server (cloud: BackupService.7000)",
                where,
            )
            continue
        if d.volume_id not in attached:
            yield error(
                "RP336",
                f"volume {d.volume_name or d.volume_id} is not attached to server {r.restore.target.name}",
                "a server restore writes the server's own volumes; attach it or map another",
                where,
            )
        if d.volume_size_gb is not None and d.volume_size_gb < d.size_gb:
            yield error(
                "RP337",
                f"volume {d.volume_name or d.volume_id} is {d.volume_size_gb} GB, smaller than disk "
                f"backup {d.backup_id} ({d.size_gb} GB)",
                "a target volume must be at least as large as the disk it receives "
                "(cloud: BackupService.2001)",
                where,
            )
        if d.boot and d.source_boot is False:
            yield error(
                "RP338",
                f"data-disk backup {d.backup_id} is mapped onto the system disk {d.volume_name or d.volume_id}",
                "map data disks onto data volumes (cloud: BackupService.2013)",
                where,
            )


def cross_server(r: Resolved, world: World) -> Iterable[Diagnostic]:
    b = world.backups[r.restore.backup.id]
    t = r.restore.target
    if t.kind == "server" and b.resource_type == SERVER_BACKUP and b.resource_id != t.id:
        yield warning(
            "RP344",
            f"backup {b.name or b.id} was taken from server {b.resource_name or b.resource_id}, "
            f"not {t.name or t.id}",
            "the cloud normally refuses a restore onto another server (BackupService.2003); "
            "this plan will fail at apply unless the project allows it",
            r.spec.range_of("backup"),
        )


def not_busy(r: Resolved, world: World) -> Iterable[Diagnostic]:
    b = world.backups[r.restore.backup.id]
    where = r.spec.range_of("backup")
    if b.status == "restoring":
        yield error(
            "RP345",
            f"backup {b.name or b.id} is being restored right now",
            "wait for that restore to finish (cloud: BackupService.2010)",
            where,
        )
    for d in r.restore.disks:
        vol = world.volumes.get(d.volume_id)
        if vol is not None and vol.status == "restoring-backup":
            yield error(
                "RP345",
                f"volume {vol.name or vol.id} is being restored right now",
                "wait for that restore to finish (cloud: BackupService.2010)",
                where,
            )
    source = b.resource_id
    busy = [x for x in world.backups_by_source.get(source, []) if x.status == "protecting"]
    if busy:
        yield warning(
            "RP346",
            f"{b.resource_name or source} is being backed up right now ({busy[0].name or busy[0].id})",
            "the cloud refuses a restore until the backup finishes (BackupService.2002)",
            where,
        )


RULES: Sequence[Rule] = (
    backup_type_fits_target,
    backup_is_restorable,
    vault_is_available,
    server_backup_has_disks,
    target_server_state,
    target_volume_state,
    disk_sizes_and_roles,
    cross_server,
    not_busy,
)


# A restore an earlier apply started (state "started": the plan reconciles it) makes its
# own backup and volumes busy; that is not a reason to refuse the plan that tracks it.
_OWN_RESTORE_STATUSES = ("restoring", "waiting_restore", "restoring-backup")


def _caused_by_own_restore(d: Diagnostic) -> bool:
    return d.code == "RP345" or (
        d.code == "RP321" and any(f" is {s}, " in d.summary for s in _OWN_RESTORE_STATUSES)
    )


def check(
    resolved: Sequence[Resolved], world: World, started: Collection[str] = ()
) -> list[Diagnostic]:
    """``started``: addresses whose restore an earlier apply started and did not see end."""
    out: list[Diagnostic] = []
    for r in resolved:
        if r.restore.backup.id not in world.backups:
            continue
        own = r.restore.address in started
        for rule in RULES:
            out.extend(d for d in rule(r, world) if not (own and _caused_by_own_restore(d)))
    return out
