"""Diff: wanted restores vs state -> actions. A pure function, no I/O.

``+ restore`` not in state; ``~ re-restore`` other backup, target or disk map,
a failed earlier attempt, or ``--replace``; ``= unchanged`` same and succeeded;
``! reconcile`` started with unknown outcome (apply looks the task up first and
never restores it again blindly); ``- forget`` in state but no longer in the files.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from planner.plan.model import Action, BackupInfo, DiskMap, Restore, TargetInfo
from planner.state.model import RestoreRecord, State


def _short(x: str) -> str:
    return x[:8] if len(x) > 12 else x


def changes_between(rec: RestoreRecord, want: Restore) -> list[str]:
    out: list[str] = []
    if rec.target.id != want.target.id or rec.target.kind != want.target.kind:
        out.append(
            f"target {rec.target.kind} {rec.target.name or rec.target.id} -> "
            f"{want.target.kind} {want.target.name or want.target.id}"
        )
    if rec.backup.id != want.backup.id:
        old = rec.backup.name or _short(rec.backup.id)
        new = want.backup.name or _short(want.backup.id)
        out.append(
            f"backup {old} ({rec.backup.created_at:%Y-%m-%dT%H:%MZ}) -> {new}"
            + (f" ({want.backup.created_at:%Y-%m-%dT%H:%MZ})" if want.backup.created_at else "")
        )
    old_map = {(d.backup_id, d.volume_id) for d in rec.disks}
    new_map = {(d.backup_id, d.volume_id) for d in want.disks}
    if old_map != new_map and rec.backup.id == want.backup.id:
        for b, v in sorted(new_map - old_map):
            out.append(f"disk {_short(b)} -> volume {_short(v)} (new mapping)")
        for b, v in sorted(old_map - new_map):
            out.append(f"disk {_short(b)} -> volume {_short(v)} (no longer mapped)")
    if rec.destination_path != want.destination_path:
        out.append(f"destination_path {rec.destination_path!r} -> {want.destination_path!r}")
    return out


def as_started(rec: RestoreRecord, want: Restore) -> Restore:
    """The restore an earlier apply sent, as state recorded it, with what the
    current resolution knows of the same objects (names, sizes, statuses)."""
    same_target = want.target.id == rec.target.id and want.target.kind == rec.target.kind
    target = (
        want.target
        if same_target
        else TargetInfo(kind=rec.target.kind, id=rec.target.id, name=rec.target.name)
    )
    if want.backup.id == rec.backup.id:
        backup = want.backup
    else:
        backup = BackupInfo(
            id=rec.backup.id, name=rec.backup.name, created_at=rec.backup.created_at
        )
    known = {(d.backup_id, d.volume_id): d for d in want.disks}
    disks = [
        known.get((d.backup_id, d.volume_id))
        or DiskMap(backup_id=d.backup_id, volume_id=d.volume_id)
        for d in rec.disks
    ]
    return want.model_copy(
        update={
            "target": target,
            "backup": backup,
            "disks": disks,
            "power_on": rec.power_on,
            "destination_path": rec.destination_path,
        }
    )


def diff(
    wanted: Sequence[Restore],
    state: State,
    replace: Collection[str] = (),
    scope: Collection[str] | None = None,
) -> list[Action]:
    """Actions for every wanted restore, plus forgets for state entries no longer wanted.

    ``scope``: with --target, only these addresses are considered, and nothing
    outside them is forgotten.
    """
    actions: list[Action] = []
    wanted_addrs = {r.address for r in wanted}
    for want in wanted:
        if scope is not None and want.address not in scope:
            continue
        rec = state.restores.get(want.address)
        actions.append(_action_for(want, rec, want.address in replace))
    for addr, rec in sorted(state.restores.items()):
        if addr in wanted_addrs or (scope is not None and addr not in scope):
            continue
        actions.append(
            Action(
                address=addr,
                action="forget",
                reason="no longer in the plan files; state only, the cloud is not touched",
                changes=[
                    f"was {rec.status}: {rec.target.kind} {rec.target.name or rec.target.id} "
                    f"from backup {rec.backup.name or rec.backup.id}"
                ],
                task_id=rec.task_id,
            )
        )
    return actions


def _action_for(want: Restore, rec: RestoreRecord | None, replace: bool) -> Action:
    if rec is None:
        return Action(address=want.address, action="restore", reason="not in state", restore=want)
    if rec.status == "started":
        # The restore already sent is the one to track: re-resolving a selector now may
        # pick another backup (the one being restored from is busy), and recording that
        # one would make the next plan restore the target a second time.
        started = as_started(rec, want)
        moved = changes_between(rec, want)
        return Action(
            address=want.address,
            action="reconcile",
            reason="an earlier apply started this restore and did not see it finish; "
            "apply looks up its task before anything else and keeps the backup it sent",
            changes=[
                f"the plan files now want: {c} (plan again once this restore has ended)"
                for c in moved
            ]
            + (
                # never a second restore of a target whose first may still be running
                [
                    "--replace not applied: this restore's outcome is unknown; apply "
                    "looks its task up first (plan again with --replace once it has ended)"
                ]
                if replace
                else []
            ),
            restore=started,
            task_id=rec.task_id,
        )
    changes = changes_between(rec, want)
    if rec.status == "failed":
        why = (
            f"the last restore failed ({rec.error.code}: {rec.error.message})"
            if rec.error
            else ("the last restore failed")
        )
        return Action(
            address=want.address, action="re-restore", reason=why, changes=changes, restore=want
        )
    if replace:
        return Action(
            address=want.address,
            action="re-restore",
            reason="--replace",
            changes=changes,
            restore=want,
        )
    if changes:
        return Action(
            address=want.address,
            action="re-restore",
            reason="the plan now wants a different restore",
            changes=changes,
            restore=want,
        )
    return Action(address=want.address, action="unchanged", reason="already restored", restore=want)
