"""The pull-request plan: Markdown for a PR comment, kept under a size cap.

Renders an ExecutionPlan to GitHub-flavoured Markdown: title and one-line
summary, the targeting warning, risks first, plan warnings, a table of counts,
then one ``<details>`` block per batch. When the whole would exceed
``max_chars`` (GitHub refuses comments over 65,536), it keeps the most important
rows: unchanged ones go first, then the last rows of the last batches, and a
closing note says exactly what was left out. Every name from the cloud or the
files is escaped (pipes, HTML, emphasis) so it cannot break a table or inject
markup. It does not post anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.plan.model import Action, ExecutionPlan
from planner.render import fmt, plan_parts

RISKS_SHOWN_MAX = 50
_MD_SPECIALS = "\\`*_[]|~"
_COLUMNS = ("Address", "Action", "Target", "Backup", "Created", "Disks", "power_on", "Estimate")


@dataclass
class _Block:
    title: str  # plain text, escaped at render time
    short: str  # how the cut note names it: "in Batch 3", "unchanged"
    actions: list[Action]
    order: int = 0  # priority index of this block's first row


def md_text(text: str) -> str:
    """Escape a plain string for Markdown text and table cells (no markup survives)."""
    text = fmt.clean(text)
    text = "".join("\\" + c if c in _MD_SPECIALS else c for c in text)
    # "<" and "&" are all HTML needs to stay text; ">" alone opens nothing mid-line.
    return text.replace("&", "&amp;").replace("<", "&lt;")


def md_code(text: str) -> str:
    """An inline code span that survives backticks and table pipes."""
    text = fmt.clean(text).replace("|", "\\|")
    if "`" not in text:
        return f"`{text}`"
    return f"`` {text} ``"


def render_markdown(
    plan: ExecutionPlan, max_chars: int = 60000, *, plan_file: str | None = None
) -> str:
    """``plan_file``: the file the plan was saved as (the cut notes say to ``show`` it)."""
    blocks = _blocks(plan)
    total = sum(len(b.actions) for b in blocks)
    for risk_cap in (RISKS_SHOWN_MAX, 10, 0):
        if len(_render(plan, blocks, 0, risk_cap, plan_file)) <= max_chars:
            break
    low, high = 0, total  # largest row count that fits (length grows with rows)
    while low < high:
        mid = (low + high + 1) // 2
        if len(_render(plan, blocks, mid, risk_cap, plan_file)) <= max_chars:
            low = mid
        else:
            high = mid - 1
    text = _render(plan, blocks, low, risk_cap, plan_file)
    if len(text) > max_chars:  # even the head does not fit: cut at a line, say so
        note = f"\n\n_… output cut to fit; {_show_hint(plan_file)} for the whole plan_\n"
        head = text[: max(0, max_chars - len(note))]
        text = head[: head.rfind("\n") + 1].rstrip("\n") + note
    return text


def _blocks(plan: ExecutionPlan) -> list[_Block]:
    groups = plan_parts.group(plan)
    blocks: list[_Block] = []
    for number, actions in groups.batches:
        title = f"{plan_parts.batch_title(number, actions)}: {plan_parts.count_phrase(actions)}"
        blocks.append(_Block(title, f"in Batch {number}", actions))
    if groups.unbatched:
        title = f"Outside batches: {plan_parts.count_phrase(groups.unbatched)}"
        blocks.append(_Block(title, "outside batches", groups.unbatched))
    if groups.unchanged:
        title = f"Unchanged: {fmt.plural(len(groups.unchanged), 'restore')}"
        blocks.append(_Block(title, "unchanged", groups.unchanged))
    order = 0
    for block in blocks:
        block.order = order
        order += len(block.actions)
    return blocks


def _show_hint(plan_file: str | None) -> str:
    if plan_file:
        return f"run restore-planner show {md_code(plan_file)}"
    return "save it with `restore-planner plan --out FILE` and run `restore-planner show FILE`"


def _render(
    plan: ExecutionPlan, blocks: list[_Block], keep: int, risk_cap: int, plan_file: str | None
) -> str:
    out = _head(plan)
    out += _risks(plan, risk_cap)
    out += _warnings(plan)
    out += _counts(plan)
    body: list[str] = []
    cut: list[tuple[str, int]] = []
    for block in blocks:
        shown = max(0, min(len(block.actions), keep - block.order))
        if shown < len(block.actions):
            cut.append((block.short, len(block.actions) - shown))
        if shown == 0:
            continue
        summary = md_text(block.title)
        if shown < len(block.actions):
            summary += f" ({fmt.count(shown)} shown)"
        body += [f"<details><summary>{summary}</summary>", "", _table_head()]
        body += [_row(a) for a in block.actions[:shown]]
        body += ["", "</details>", ""]
    if body or cut:
        out += ["### Actions", "", *body]
    if cut:
        missing = sum(n for _, n in cut)
        where = ", ".join(f"{fmt.count(n)} {name}" for name, n in cut)
        out += [
            f"_… {fmt.count(missing)} more actions not shown ({md_text(where)}); "
            f"{_show_hint(plan_file)} for all_",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def _head(plan: ExecutionPlan) -> list[str]:
    s = plan.summary
    if plan.has_changes:
        line = f"**{plan_parts.totals(s)}** {plan_parts.overwrites(s)}"
        est = plan.estimate
        if est.makespan_s > 0:
            line += f" Estimated duration {fmt.duration(est.makespan_s)}."
    else:
        line = "**No changes.** Every restore in the plan is already done."
    st = plan.state
    state = f"state serial {st.serial}" + (
        f" (lineage {md_code(fmt.short_id(st.lineage))})" if st.lineage else ""
    )
    if where := fmt.state_where(st.path, st.location):
        state += f" at {md_code(where)}"  # where apply reads and writes
    config = md_code(fmt.short_digest(plan.config_digest) or "-")
    if plan.config_files:
        config += " from " + ", ".join(md_code(f) for f in plan.config_files)
    context = (
        f"Region {md_code(plan.region or '-')}, project {md_code(plan.project_id or '-')}, "
        f"{state}, config {config}; made {fmt.rfc3339(plan.created_at)}"
    )
    if plan.tool_version:
        context += f" by restore-planner {md_text(plan.tool_version)}"
    out = ["## Restore plan", "", line, "", context + ".", ""]
    if plan.digest:
        # what a reviewer approves: CI applies with --require-digest and this value
        out += [f"Plan digest: {md_code(plan.digest)}", ""]
    if plan.partial:
        summary, detail = plan_parts.targeting(plan)
        out += ["> [!WARNING]", f"> **{md_text(summary)}**", ">", f"> {md_text(detail)}", ""]
    return out


def _risks(plan: ExecutionPlan, cap: int) -> list[str]:
    risks = plan_parts.risks(plan)
    if not risks:
        return []
    out = ["### Risks", ""]
    out += [f"- **{r.kind}** {md_code(r.address)}: {md_text(r.text)}" for r in risks[:cap]]
    if len(risks) > cap:
        out.append(f"- _… {fmt.count(len(risks) - cap)} more risky items; see the actions below_")
    return [*out, ""]


def _warnings(plan: ExecutionPlan) -> list[str]:
    if not plan.warnings:
        return []
    out = ["### Warnings", ""]
    for w in plan.warnings:
        line = f"- **{md_text(w.code)}** {md_text(w.summary)}"
        if w.location:
            line += f" ({md_code(w.location)})"
        if w.detail:
            line += f": {md_text(w.detail)}"
        out.append(line)
    return [*out, ""]


def _counts(plan: ExecutionPlan) -> list[str]:
    s = plan.summary
    rows = [
        ("`+` restore", fmt.count(s.restore)),
        ("`~` re-restore", fmt.count(s.re_restore)),
        ("`=` unchanged", fmt.count(s.unchanged)),
        ("`!` reconcile", fmt.count(s.reconcile)),
        ("`-` forget", fmt.count(s.forget)),
        ("targets overwritten", fmt.count(s.targets_overwritten)),
        ("data restored", fmt.size_gb(s.total_gb)),
    ]
    out = ["### Summary", "", "| | count |", "| --- | ---: |"]
    out += [f"| {name} | {value} |" for name, value in rows]
    out.append("")
    skew = plan_parts.skew(plan)
    if skew:
        out += [f"Backup skew: {md_text(skew)}", ""]
    est = plan_parts.estimate(plan)
    if est:
        out += [f"Estimated duration: {md_text(est)}", ""]
    return out


def _table_head() -> str:
    return "| " + " | ".join(_COLUMNS) + " |\n" + "|" + " --- |" * len(_COLUMNS)


def _row(action: Action) -> str:
    what = f"{action.symbol} {action.action}"
    extra = [md_text(c) for c in action.changes]
    if action.action == "reconcile":
        extra.append(f"task {md_code(action.task_id or 'unknown')}")
    if extra:
        what += "<br>" + "<br>".join(extra)
    r = action.restore
    if r is None:
        held = "" if action.changes else "_state held no details_"  # else shown under what
        cells = [md_code(action.address), what, held, "", "", "", "", ""]
        return "| " + " | ".join(cells) + " |"
    target = md_text(plan_parts.target_phrase(r.target))
    if r.target.status:
        target += f" {md_text(r.target.status)}"
    forget = action.action == "forget"  # what state held; nothing will run
    power = str(r.power_on).lower() if r.target.kind == "server" and not forget else "-"
    if power == "false":
        power = "**false**"
    cells = [
        md_code(action.address),
        what,
        target,
        md_text(plan_parts.backup_phrase(r.backup)),
        fmt.rfc3339(r.backup.created_at),
        _disks_cell(action),
        power,
        "-" if forget else fmt.duration(action.estimate_s),
    ]
    return "| " + " | ".join(cells) + " |"


def _disks_cell(action: Action) -> str:
    r = action.restore
    if r is None:
        return ""
    if not r.disks:
        return fmt.size_gb(r.backup.size_gb)
    parts = []
    for d in r.disks:
        name = md_text(d.device) if d.device else md_code(fmt.short_id(d.volume_id))
        parts.append(f"{name} {fmt.size_gb(d.size_gb)}" + (" (boot)" if d.boot else ""))
    return ", ".join(parts)
