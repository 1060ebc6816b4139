"""Facts each action relies on, for saved-plan staleness checks.

A fact is a named string value read from the World at plan time. ``apply F``
refreshes, recomputes the same facts and refuses the plan when one moved,
naming the action, the fact and old -> new. Facts are chosen so that normal
restore side effects (a server going SHUTOFF during its own restore) do not
make a plan stale, while anything that changes what a restore would do does.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from planner.cloud.models import World
from planner.plan.model import Action, Restore

MISSING = "<missing>"
_BAD_SERVER = {"ERROR", "DELETED", "SOFT_DELETED"}


NO_TAG = "<none>"


def _tag_fact_prefix(server_id: str) -> str:
    return f"server {server_id} tag "


def facts_for(restore: Restore, world: World, guarded_tags: Collection[str] = ()) -> dict[str, str]:
    """``guarded_tags``: the tag keys ``guards.deny_target_tags`` names. Each is a fact
    of a server target (its value, or ``<none>``): a guard is checked at plan time, so
    a server tagged ``env=prod`` after the plan was saved makes the saved plan stale
    instead of letting it overwrite what the guard protects."""
    out: dict[str, str] = {}
    b = world.backups.get(restore.backup.id)
    key = f"backup {restore.backup.id}"
    if b is None:
        out[f"{key} status"] = MISSING
    else:
        out[f"{key} status"] = b.status
        out[f"{key} source"] = b.resource_id
        if b.children:
            out[f"{key} disks"] = ",".join(
                f"{c.id}:{c.size_gb}GB" for c in sorted(b.children, key=lambda c: c.id)
            )
        vault = world.vaults.get(b.vault_id) if b.vault_id else None
        if vault is not None and vault.status != "unknown":
            # available and locked vaults both restore (BackupService.6202 otherwise)
            out[f"vault {vault.id} status"] = "restorable" if vault.restorable else vault.status
    t = restore.target
    if t.kind == "server":
        s = world.servers.get(t.id)
        if s is None:
            out[f"server {t.id} state"] = MISSING
        else:
            out[f"server {t.id} state"] = s.status if s.status in _BAD_SERVER else "restorable"
            out[f"server {t.id} volumes"] = ",".join(
                f"{v.device or '?'}={v.id}"
                for v in sorted(s.volumes, key=lambda v: (v.device, v.id))
            )
            for key in sorted(set(guarded_tags)):
                out[_tag_fact_prefix(t.id) + key] = s.tags.get(key, NO_TAG)
    elif t.kind == "volume":
        v = world.volumes.get(t.id)
        out[f"volume {t.id} status"] = v.status if v else MISSING
    for d in restore.disks:
        v = world.volumes.get(d.volume_id)
        if v is not None:
            out[f"volume {d.volume_id} size"] = f"{v.size_gb}GB"
    return out


# A reconcile tracks a restore already running: its own backup and volumes are busy
# because of it, and idle again once it ends. Neither is a fact that moved.
_OWN_RESTORE = {
    "restoring": "available",
    "waiting_restore": "available",
    "restoring-backup": "available",
    "in-use": "available",
}


def _settled(name: str, value: str) -> str:
    return _OWN_RESTORE.get(value, value) if name.endswith(" status") else value


def moved_facts(plan_actions: Sequence[Action], world: World) -> list[tuple[str, str, str, str]]:
    """(address, fact, old, new) for every fact that differs now.

    A backup's disk backups never change: where the world was refreshed without
    them (``RefreshNeeds.children_known``: listings may show ``"children": []``),
    the plan's record of them stands."""
    moved: list[tuple[str, str, str, str]] = []
    for a in plan_actions:
        if a.restore is None or not a.facts:
            continue
        prefix = _tag_fact_prefix(a.restore.target.id)
        guarded = [name[len(prefix) :] for name in a.facts if name.startswith(prefix)]
        now = facts_for(a.restore, world, guarded)
        b = world.backups.get(a.restore.backup.id)
        for name, old in sorted(a.facts.items()):
            new = now.get(name, MISSING)
            if new == MISSING and name.endswith(" disks") and b is not None and not b.children:
                continue
            if a.action == "reconcile" and _settled(name, new) == _settled(name, old):
                continue
            if new != old:
                moved.append((a.address, name, old, new))
    return moved


# Action kinds that call the cloud: a saved plan's action of these kinds must carry
# the facts its restore relies on, or its staleness could not be checked at all.
NEEDS_FACTS = frozenset({"restore", "re-restore", "reconcile"})


def required_facts(restore: Restore) -> list[str]:
    """Fact names ``facts_for`` always records for ``restore``, whatever the World held."""
    names = [f"backup {restore.backup.id} status"]
    t = restore.target
    if t.kind == "server":
        names.append(f"server {t.id} state")
    elif t.kind == "volume":
        names.append(f"volume {t.id} status")
    return names


def fact_problems(action: Action) -> list[str]:
    """Why ``action``'s facts cannot vouch for its restore ([] when they can).

    Beyond the names being present, the restore must agree with its own facts: the
    disks it writes are volumes of its server, and the disk backups are children of
    its backup, as recorded at plan time (a hand-edit that repoints a disk and keeps
    the facts would otherwise pass the staleness check untouched).
    """
    if action.action not in NEEDS_FACTS:
        return []
    r = action.restore
    if r is None:
        return ["it has no restore"]
    if not action.facts:
        return ["it carries no facts"]
    missing = [n for n in required_facts(r) if n not in action.facts]
    if missing:
        return [f"its facts lack {', '.join(repr(n) for n in missing)}"]
    out: list[str] = []
    if r.target.kind == "server" and r.disks:
        listed = action.facts.get(f"server {r.target.id} volumes")
        volumes = {pair.partition("=")[2] for pair in (listed or "").split(",") if pair}
        out += [
            f"disk volume {d.volume_id} is not a volume of server {r.target.id} in its facts"
            for d in r.disks
            if d.volume_id not in volumes
        ]
    children_fact = action.facts.get(f"backup {r.backup.id} disks")
    if r.disks and children_fact is not None:
        children = {pair.partition(":")[0] for pair in children_fact.split(",") if pair}
        out += [
            f"disk backup {d.backup_id} is not a disk of backup {r.backup.id} in its facts"
            for d in r.disks
            if d.backup_id not in children
        ]
    return out
