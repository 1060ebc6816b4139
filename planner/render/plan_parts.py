"""What the text and Markdown plan renderers share: grouping, phrases, totals, risks.

Owns the words of a plan (``Plan: 3 to restore, ...``, batch titles, risk
sentences) so the terminal and the pull request say the same thing. Returns
plain, unescaped strings (control characters already neutralised); each
renderer adds its own colour or Markdown escaping. Reads only the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from planner.plan.model import Action, BackupInfo, ExecutionPlan, Restore, Summary, TargetInfo
from planner.render import fmt

LARGE_DISK_GB = 500
# Order in which counts are spoken, with the Terraform-like verb phrase.
_TOTALS = (
    ("restore", "to restore"),
    ("re-restore", "to re-restore"),
    ("unchanged", "unchanged"),
    ("reconcile", "to reconcile"),
    ("forget", "to forget"),
)
_NOUNS = {
    "restore": ("restore", "restores"),
    "re-restore": ("re-restore", "re-restores"),
    "unchanged": ("unchanged", "unchanged"),
    "reconcile": ("reconcile", "reconciles"),
    "forget": ("forget", "forgets"),
}


@dataclass
class Groups:
    batches: list[tuple[int, list[Action]]] = field(default_factory=list)
    unbatched: list[Action] = field(default_factory=list)  # changes outside any batch
    unchanged: list[Action] = field(default_factory=list)


@dataclass(frozen=True)
class Risk:
    kind: str  # short label: re-restore, stays off, large disk, reconcile, forget
    address: str
    text: str  # one sentence without the address


def group(plan: ExecutionPlan) -> Groups:
    """Change actions by batch (ascending, plan order within), then the rest."""
    groups = Groups()
    by_batch: dict[int, list[Action]] = {}
    for action in plan.actions:
        if action.action == "unchanged":
            groups.unchanged.append(action)
        elif action.batch is None:
            groups.unbatched.append(action)
        else:
            by_batch.setdefault(action.batch, []).append(action)
    groups.batches = sorted(by_batch.items())
    return groups


def batch_title(number: int, actions: list[Action]) -> str:
    """``Batch 1 (wave 1)``; ``(waves 1, 2)`` when a batch mixes waves."""
    waves = sorted({a.restore.wave for a in actions if a.restore and a.restore.wave is not None})
    if not waves:
        return f"Batch {number}"
    label = "wave" if len(waves) == 1 else "waves"
    return f"Batch {number} ({label} {', '.join(str(w) for w in waves)})"


def count_phrase(actions: list[Action]) -> str:
    """``40 restores`` or ``38 restores, 2 re-restores`` in the order of the totals line."""
    parts = []
    for kind, _ in _TOTALS:
        n = sum(1 for a in actions if a.action == kind)
        if n:
            one, many = _NOUNS[kind]
            parts.append(fmt.plural(n, one, many))
    return ", ".join(parts) or "no actions"


def totals(summary: Summary) -> str:
    counts = {
        "restore": summary.restore,
        "re-restore": summary.re_restore,
        "unchanged": summary.unchanged,
        "reconcile": summary.reconcile,
        "forget": summary.forget,
    }
    return ", ".join(f"{fmt.count(counts[k])} {phrase}" for k, phrase in _TOTALS) + "."


def overwrites(summary: Summary) -> str:
    return f"Overwrites {fmt.plural(summary.targets_overwritten, 'target')}, {fmt.size_gb(summary.total_gb)}."


def skew(plan: ExecutionPlan) -> str | None:
    """``12m (oldest db 2026-..., newest web["web-01"] 2026-...)``; None when not computed."""
    if plan.backup_skew_s is None:
        return None
    dated: list[tuple[datetime, str]] = [
        (a.restore.backup.created_at, a.address)
        for a in plan.actions
        if a.action != "forget" and a.restore and a.restore.backup.created_at is not None
    ]
    text = fmt.duration(plan.backup_skew_s)
    if len(dated) < 2:
        return text
    oldest = min(dated, key=lambda d: d[0])
    newest = max(dated, key=lambda d: d[0])
    return (
        f"{text} (oldest {fmt.clean(oldest[1])} {fmt.rfc3339(oldest[0])}, "
        f"newest {fmt.clean(newest[1])} {fmt.rfc3339(newest[0])})"
    )


def estimate(plan: ExecutionPlan) -> str | None:
    """``1h 20m with parallelism 10; critical path 45m: db -> app["app-01"]``."""
    est = plan.estimate
    if not plan.has_changes and est.makespan_s <= 0:
        return None
    text = f"{fmt.duration(est.makespan_s)} with parallelism {est.parallelism}"
    if est.critical_path:
        path = " -> ".join(fmt.clean(a) for a in est.critical_path)
        text += f"; critical path {fmt.duration(est.critical_path_s)}: {path}"
    return text


def targeting(plan: ExecutionPlan) -> tuple[str, str]:
    """Summary and detail of the partial-plan warning (cf. Terraform's resource targeting)."""
    targets = ", ".join(fmt.clean(t) for t in plan.targets) or "(none recorded)"
    summary = f"Targeting is in effect: --target {targets}"
    detail = (
        "This plan covers only the targeted restores and what they depend on; the "
        "other restores in the files are not planned, so it may not be everything "
        "the files ask for. Use --target to recover one part or finish an "
        "interrupted drill, not as routine."
    )
    return summary, detail


def target_phrase(target: TargetInfo) -> str:
    """``server db-01 (94eba8b2...)``, or ``server 94eba8b2...`` without a name."""
    if target.name:
        return f"{target.kind} {fmt.clean(target.name)} ({fmt.short_id(target.id)})"
    return f"{target.kind} {fmt.short_id(target.id)}"


def backup_phrase(backup: BackupInfo) -> str:
    if backup.name:
        return f"{fmt.clean(backup.name)} ({fmt.short_id(backup.id)})"
    return fmt.short_id(backup.id)


def volume_phrase(name: str, ident: str) -> str:
    return f"{fmt.clean(name)} ({fmt.short_id(ident)})" if name else fmt.short_id(ident)


def risks(plan: ExecutionPlan) -> list[Risk]:
    """Risky items, most dangerous kind first, plan order within a kind."""
    found: dict[str, list[Risk]] = {k: [] for k in ("~", "off", "big", "!", "-")}
    for action in plan.actions:
        addr = fmt.clean(action.address)
        restore = action.restore
        if action.action == "re-restore" and restore:
            why = "; ".join(fmt.clean(c) for c in action.changes) or fmt.clean(action.reason)
            text = f"overwrites {target_phrase(restore.target)} again"
            found["~"].append(Risk("re-restore", addr, f"{text} ({why})" if why else text))
        if action.action == "reconcile":
            task = fmt.clean(action.task_id or "unknown")
            found["!"].append(
                Risk(
                    "reconcile",
                    addr,
                    f"earlier restore task {task} has an unknown outcome; "
                    "it is looked up before anything is restored again",
                )
            )
        if action.action == "forget":
            held = f" (state held {target_phrase(restore.target)})" if restore else ""
            found["-"].append(
                Risk(
                    "forget",
                    addr,
                    f"removed from state only{held}; nothing in the cloud is touched",
                )
            )
        if restore is None or action.action not in ("restore", "re-restore", "reconcile"):
            continue
        if restore.target.kind == "server" and not restore.power_on:
            found["off"].append(
                Risk(
                    "stays off",
                    addr,
                    f"{target_phrase(restore.target)} is not powered on after the restore",
                )
            )
        found["big"].extend(Risk("large disk", addr, t) for t in _large_disks(restore))
    return [r for kind in found.values() for r in kind]


def _large_disks(restore: Restore) -> list[str]:
    if not restore.disks:
        if restore.backup.size_gb >= LARGE_DISK_GB:
            return [
                f"writes {fmt.size_gb(restore.backup.size_gb)} to {target_phrase(restore.target)}"
            ]
        return []
    return [
        f"writes {fmt.size_gb(d.size_gb)} to volume {volume_phrase(d.volume_name, d.volume_id)}"
        for d in restore.disks
        if max(d.size_gb, d.volume_size_gb or 0) >= LARGE_DISK_GB
    ]
