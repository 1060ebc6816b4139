"""Guards: the plan's own safety limits (``guards:``), checked at plan time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from planner.cloud.models import World
from planner.config.spec import BackupSelector, PlanConfig
from planner.diagnostics import Diagnostic, Related, error
from planner.resolve import Resolved
from planner.timefmt import rfc3339_s


def _fmt(d: timedelta) -> str:
    secs = int(d.total_seconds())
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    parts = [f"{h}h" if h else "", f"{m}m" if m else "", f"{s}s" if s and not h else ""]
    return "".join(parts) or "0s"


def backup_skew(resolved: Sequence[Resolved]) -> timedelta | None:
    times = [r.restore.backup.created_at for r in resolved if r.restore.backup.created_at]
    if len(times) < 2:
        return None
    return max(times) - min(times)


def check(config: PlanConfig, resolved: Sequence[Resolved], world: World) -> list[Diagnostic]:
    g = config.guards
    out: list[Diagnostic] = []
    if g.deny_target_tags:
        deny = dict(g.deny_target_tags)
        for r in resolved:
            server = world.servers.get(r.restore.target.id)
            tags = server.tags if server else {}
            hit = sorted(k for k, v in deny.items() if tags.get(k) == v)
            if hit:
                where = r.spec.range_of(r.restore.target.kind) or r.spec.range_of("select")
                guard = config.ranges.get("guards.deny_target_tags")
                out.append(
                    error(
                        "RP350",
                        f"{r.restore.address}: target {r.restore.target.name or r.restore.target.id} "
                        f"carries {', '.join(f'{k}={tags[k]}' for k in hit)}, which guards.deny_target_tags forbids",
                        "this guard exists so that a plan can never overwrite such a server; "
                        "change the target, or the guard if this is really intended",
                        where,
                        [Related("guard defined here", guard)] if guard else [],
                    )
                )
    if g.max_restores is not None and len(resolved) > g.max_restores:
        out.append(
            error(
                "RP351",
                f"the plan has {len(resolved)} restores, more than guards.max_restores ({g.max_restores})",
                "split the plan or use --target, or raise the guard deliberately",
                config.ranges.get("guards.max_restores"),
            )
        )
    skew = backup_skew(resolved)
    if g.max_backup_skew is not None and skew is not None and skew > g.max_backup_skew:
        dated = [r for r in resolved if r.restore.backup.created_at is not None]
        oldest = min(dated, key=lambda r: r.restore.backup.created_at or 0)
        newest = max(dated, key=lambda r: r.restore.backup.created_at or 0)
        out.append(
            error(
                "RP352",
                f"chosen backups span {_fmt(skew)}, more than guards.max_backup_skew "
                f"({_fmt(g.max_backup_skew)})",
                f"oldest: {oldest.restore.address} {rfc3339_s(oldest.restore.backup.created_at)}; "
                f"newest: {newest.restore.address} {rfc3339_s(newest.restore.backup.created_at)}; "
                "restore from a common point in time",
                config.ranges.get("guards.max_backup_skew"),
            )
        )
    if g.max_backup_age is not None:
        for r in resolved:
            sel = r.spec.backup
            created = r.restore.backup.created_at
            if not isinstance(sel, BackupSelector) or sel.before is None or created is None:
                continue
            age = sel.before - created
            if age > g.max_backup_age:
                out.append(
                    error(
                        "RP353",
                        f"{r.restore.address}: newest backup before {rfc3339_s(sel.before)} is "
                        f"{_fmt(age)} older ({rfc3339_s(created)}), more than guards.max_backup_age "
                        f"({_fmt(g.max_backup_age)})",
                        "the recovery would lose more data than the guard allows; check the backup "
                        "policy of this target",
                        r.spec.range_of("backup"),
                    )
                )
    return out
