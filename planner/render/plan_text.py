"""The terminal plan: what ``plan`` and ``show`` print, in Terraform's manner.

Renders an ExecutionPlan (in practice one loaded from its JSON view) to a
string: header, symbol legend, actions by batch, warnings, totals. Colour is
ANSI and only when asked; without it the output holds no escape code at all,
even when a cloud name carries one (``fmt.clean``). Deciding whether to colour
is the CLI's business (``planner.cli.output.color_enabled``).
"""

from __future__ import annotations

from planner.plan.model import ACTION_SYMBOLS, Action, ExecutionPlan, PlanWarning
from planner.render import fmt, plan_parts

UNCHANGED_LISTED_MAX = 10
_ADDRESS_WIDTH_MAX = 32
_COLORS = {"+": "32", "~": "33", "-": "31", "!": "36", "=": "2"}
_LEGEND = {
    "restore": "restore (overwrites the target)",
    "re-restore": "re-restore (overwrites the target again)",
    "reconcile": "reconcile (look up an earlier task first; never restore twice)",
    "forget": "forget (remove from state only)",
    "unchanged": "unchanged (already done)",
}
_INDENT = " " * 6
_LABEL = 8


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self(text, "1")


def render_text(plan: ExecutionPlan, color: bool = False) -> str:
    paint = _Paint(color)
    groups = plan_parts.group(plan)
    out = _header(plan, paint)
    if not plan.has_changes:
        out += ["", paint.bold("No changes.") + " Every restore in the plan is already done."]
        out += _warnings(plan, paint)
        out += _digest(plan)
        return "\n".join(out) + "\n"
    shown = [a for _, acts in groups.batches for a in acts] + groups.unbatched
    if len(groups.unchanged) <= UNCHANGED_LISTED_MAX:
        shown += groups.unchanged
    width = min(_ADDRESS_WIDTH_MAX, max((len(fmt.clean(a.address)) for a in shown), default=0))
    out += ["", *_legend(plan, paint), "", "restore-planner will perform these actions:"]
    for number, actions in groups.batches:
        out += ["", paint.bold(plan_parts.batch_title(number, actions))]
        out += _actions(actions, width, paint)
    if groups.unbatched:
        out += ["", paint.bold("Outside batches (no restore call)")]
        out += _actions(groups.unbatched, width, paint)
    if groups.unchanged:
        out += ["", paint.bold("Unchanged"), ""]
        if len(groups.unchanged) <= UNCHANGED_LISTED_MAX:
            out += [_head_line(a, width, paint) for a in groups.unchanged]
        else:
            line = f"  = {fmt.plural(len(groups.unchanged), 'restore')} unchanged (already done; not listed)"
            out.append(paint(line, _COLORS["="]))
    out += _warnings(plan, paint)
    out += ["", *_totals(plan, paint), *_digest(plan)]
    return "\n".join(out) + "\n"


def _digest(plan: ExecutionPlan) -> list[str]:
    """Last, whole, alone on its line: what `apply --require-digest` takes."""
    return [f"Plan digest: {fmt.clean(plan.digest)}"] if plan.digest else []


def _header(plan: ExecutionPlan, paint: _Paint) -> list[str]:
    region = fmt.clean(plan.region) or "(no region)"
    project = fmt.clean(plan.project_id) or "(no project)"
    st = plan.state
    if st.lineage:
        state = f"serial {st.serial}, lineage {fmt.short_id(st.lineage)}"
    else:
        state = f"serial {st.serial}, no state yet"
    # where apply of this saved plan reads and writes (``state.location``), not only the
    # name it was given: a reviewer sees the place a resealed plan would point apply at
    where = fmt.state_where(st.path, st.location)
    if where:
        state += f" ({fmt.clean(where)})"
    config = fmt.short_digest(plan.config_digest) or "-"
    if plan.config_files:
        config += f" ({', '.join(fmt.clean(f) for f in plan.config_files)})"
    made = fmt.rfc3339(plan.created_at)
    if plan.tool_version:
        made += f" by restore-planner {fmt.clean(plan.tool_version)}"
    return [
        paint.bold(f"Restore plan: region {region}, project {project}"),
        f"  {'state':<{_LABEL}} {state}",
        f"  {'config':<{_LABEL}} {config}",
        f"  {'created':<{_LABEL}} {made}",
    ]


def _legend(plan: ExecutionPlan, paint: _Paint) -> list[str]:
    present = {a.action for a in plan.actions}
    lines = ["Actions are shown with these symbols:"]
    for kind, words in _LEGEND.items():
        if kind in present:
            symbol = ACTION_SYMBOLS[kind]
            lines.append(f"  {paint(symbol, _COLORS[symbol])} {words}")
    return lines


def _actions(actions: list[Action], width: int, paint: _Paint) -> list[str]:
    lines: list[str] = []
    for action in actions:
        lines += ["", _head_line(action, width, paint), *_detail_lines(action)]
    return lines


def _head_line(action: Action, width: int, paint: _Paint) -> str:
    color = _COLORS[action.symbol]
    address = fmt.clean(action.address).ljust(width)
    # a forget carries no restore (nothing runs): what state recorded is in its changes
    what = fmt.clean(action.changes[0]) if action.changes else "(state held no details)"
    restore = action.restore
    if restore:
        # A forget's status is what state remembered, possibly long ago: leave it out.
        shown = () if action.action == "forget" else (restore.target.status, restore.target.az)
        extras = [fmt.clean(x) for x in shown if x]
        what = " ".join([plan_parts.target_phrase(restore.target), *extras])
    if action.action == "unchanged":
        return paint(f"  = {address}  {action.action:<10}  {what}", color)
    return (
        f"  {paint(action.symbol, color)} {address}  {paint(f'{action.action:<10}', color)}  {what}"
    )


def _detail_lines(action: Action) -> list[str]:
    rows: list[tuple[str, str]] = []
    if action.action == "re-restore":
        rows += [("changes", fmt.clean(c)) for c in action.changes]
        if not action.changes and action.reason:
            rows.append(("reason", fmt.clean(action.reason)))
    if action.action == "reconcile":
        task = fmt.clean(action.task_id or "unknown")
        rows.append(("task", f"{task} (look it up first; restore only if the cloud has none)"))
        # what the files now want instead: applied by the plan after this one
        rows += [("changes", fmt.clean(c)) for c in action.changes]
    restore = action.restore
    if restore:
        b = restore.backup
        parts = [plan_parts.backup_phrase(b), fmt.rfc3339(b.created_at) if b.created_at else ""]
        parts.append(fmt.clean(b.status))
        if not restore.disks:
            parts.append(fmt.size_gb(b.size_gb))
        rows.append(("backup", " ".join(p for p in parts if p)))
        rows += [("disks" if i == 0 else "", d) for i, d in enumerate(_disk_lines(action))]
        if restore.destination_path:
            rows.append(("path", fmt.clean(restore.destination_path)))
    if action.action == "forget":
        rows.append(("state", "entry removed; nothing in the cloud is touched"))
        if action.reason:
            rows.append(("reason", fmt.clean(action.reason)))
        return _format_rows(rows)
    rows.append(_last_row(action))
    return _format_rows(rows)


def _last_row(action: Action) -> tuple[str, str]:
    restore = action.restore
    deps = ", ".join(fmt.clean(d) for d in restore.depends_on) if restore else ""
    tail = f"estimate {fmt.duration(action.estimate_s)}   depends on: {deps or '-'}"
    if restore and restore.target.kind == "server":
        return ("power_on", f"{str(restore.power_on).lower()}   {tail}")
    label, _, rest = tail.partition(" ")
    return (label, rest)


def _disk_lines(action: Action) -> list[str]:
    if not action.restore:
        return []
    cells = [
        (
            f"{fmt.short_id(d.backup_id)} -> {plan_parts.volume_phrase(d.volume_name, d.volume_id)}",
            fmt.clean(d.device) or "-",
            # a volume restored in place is not re-read at plan time: its size is unknown
            fmt.size_gb(d.size_gb)
            + (f" -> {fmt.size_gb(d.volume_size_gb)}" if d.volume_size_gb is not None else "")
            + (" (boot)" if d.boot else ""),
        )
        for d in action.restore.disks
    ]
    w0 = max((len(c[0]) for c in cells), default=0)
    w1 = max((len(c[1]) for c in cells), default=0)
    return [f"{a:<{w0}} {b:<{w1}}  {c}" for a, b, c in cells]


def _format_rows(rows: list[tuple[str, str]]) -> list[str]:
    return [f"{_INDENT}{label:<{_LABEL}} {value}".rstrip() for label, value in rows]


def _warnings(plan: ExecutionPlan, paint: _Paint) -> list[str]:
    lines: list[str] = []
    if plan.partial:
        summary, detail = plan_parts.targeting(plan)
        lines += ["", _warning_title(summary, paint), "", *_wrap(detail)]
    for w in plan.warnings:
        lines += ["", *_plan_warning(w, paint)]
    return lines


def _plan_warning(w: PlanWarning, paint: _Paint) -> list[str]:
    lines = [_warning_title(f"[{fmt.clean(w.code)}] {fmt.clean(w.summary)}", paint)]
    if w.location:
        lines.append(f"  at {fmt.clean(w.location)}")
    if w.detail:
        lines += ["", *_wrap(fmt.clean(w.detail))]
    return lines


def _warning_title(text: str, paint: _Paint) -> str:
    return f"{paint('Warning:', '1;33')} {paint.bold(text)}"


def _wrap(text: str, width: int = 78) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width - 2:
            lines.append("  " + current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append("  " + current)
    return lines


def _totals(plan: ExecutionPlan, paint: _Paint) -> list[str]:
    lines = [
        f"{paint.bold('Plan:')} {plan_parts.totals(plan.summary)}",
        plan_parts.overwrites(plan.summary),
    ]
    skew = plan_parts.skew(plan)
    if skew:
        lines.append(f"Backup skew: {skew}")
    est = plan_parts.estimate(plan)
    if est:
        lines.append(f"Estimated duration: {est}")
    return lines
