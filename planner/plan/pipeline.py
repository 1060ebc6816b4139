"""The plan pipeline: load -> evaluate -> graph -> (refresh -> resolve -> validate -> diff).

The one orchestration ``validate``, ``graph``, ``plan`` and ``apply PATH`` share.
``offline`` is everything that needs no cloud (files, schema, templates,
references, the graph's cycles and conflicts): every command runs it first and
reports the same problems, before it looks for cloud settings. ``make_plan`` goes
on: only ``refresh`` talks to the cloud; everything after it is a pure function
of (PlanConfig, World, State). Errors are collected across every stage that can
run and raised once as a DiagnosticsError, so one run reports every problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from planner import __version__
from planner.addresses import Address, AddressError
from planner.clock import to_datetime
from planner.cloud.client import CloudClient
from planner.cloud.models import World
from planner.cloud.world import needs_for, refresh
from planner.config.load import Evaluated, evaluate
from planner.config.spec import PlanConfig
from planner.diagnostics import Diagnostic, error
from planner.errors import DiagnosticsError, UserError
from planner.graph import RestoreGraph
from planner.graph.analysis import batches, critical_path, estimate_makespan
from planner.graph.build import GraphNode, build, node_from_spec
from planner.plan.diff import diff
from planner.plan.facts import facts_for
from planner.plan.model import (
    Action,
    Estimate,
    ExecutionPlan,
    PlanWarning,
    StateRef,
    Summary,
)
from planner.resolve import Resolved, Unresolved, resolve
from planner.state.model import State
from planner.validate import cloud, guards


@dataclass(kw_only=True)
class PlanRequest:
    path: str
    parallelism: int  # its default is the CLI's (planner.cli.options), defined once there
    var_files: list[str] = field(default_factory=list)
    var_args: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Offline:
    """What the plan files say without the cloud: the config (None when any error was
    found), the graph of the restores that evaluated, and every problem found."""

    config: PlanConfig | None
    graph: RestoreGraph | None
    diagnostics: list[Diagnostic]

    @property
    def failed(self) -> bool:
        return self.config is None or any(d.is_error for d in self.diagnostics)

    def require(self) -> tuple[PlanConfig, RestoreGraph]:
        """The config and graph, or every problem raised at once."""
        if self.failed or self.config is None or self.graph is None:
            raise DiagnosticsError(self.diagnostics)
        return self.config, self.graph


def offline(path: str, var_files: Sequence[str] = (), var_args: Sequence[str] = ()) -> Offline:
    """Load and evaluate the plan files, then build the graph of what evaluated."""
    ev = evaluate(path, list(var_files), list(var_args))
    diags = list(ev.diagnostics)
    graph: RestoreGraph | None = None
    if ev.specs or ev.failed_blocks or ev.config is not None:
        graph, graph_diags = build(_offline_nodes(ev))
        diags += graph_diags
    return Offline(ev.config, graph, diags)


def _offline_nodes(ev: Evaluated) -> list[GraphNode]:
    # a restore that did not evaluate still exists: references to it are not "unknown",
    # and its own plainly written depends_on is checked like anyone's
    placeholders = [
        GraphNode(
            Address(name), ev.failed_depends_on.get(name, ()), None, None,
            ev.failed_ranges.get(name), unexpanded=True,
        )
        for name in sorted(ev.failed_blocks)
    ]  # fmt: skip
    return [*(node_from_spec(s) for s in ev.specs), *placeholders]


def load_config(req: PlanRequest) -> PlanConfig:
    """The plan's offline problems, all of them, before anything needs the cloud."""
    config, _graph = offline(req.path, req.var_files, req.var_args).require()
    return config


def check_cloud_block(config: PlanConfig, region: str, project_id: str) -> list[Diagnostic]:
    out = []
    if config.region and config.region != region:
        out.append(
            error(
                "RP360",
                f"the plan is for region {config.region}, the environment for {region}",
                "a plan reviewed for one region never runs against another; set HW_REGION_NAME "
                "or fix cloud.region",
                config.ranges.get("cloud.region"),
            )
        )
    if config.project_id and config.project_id != project_id:
        out.append(
            error(
                "RP361",
                f"the plan is for project {config.project_id}, the environment for {project_id}",
                "a plan reviewed for one project never runs against another; set HW_PROJECT_ID "
                "or fix cloud.project_id",
                config.ranges.get("cloud.project_id"),
            )
        )
    return out


async def make_plan(
    req: PlanRequest,
    client: CloudClient,
    state: State,
    state_path: str,
    config: PlanConfig | None = None,
) -> ExecutionPlan:
    """``config``: the plan already loaded (offline errors come before cloud settings)."""
    config = config or load_config(req)
    diags = check_cloud_block(config, client.settings.region, client.settings.project_id)
    if diags:
        raise DiagnosticsError(diags)
    needs = needs_for(config)
    # a restore state records as started is reconciled with the backup it was sent
    # (which the plan files may no longer name): its facts need that backup too, or a
    # saved plan holding the reconcile is stale forever ("<missing> -> restoring")
    # and so do its target and the disks it writes, which the files may now point
    # elsewhere ("server ... state: <missing>", "disk ... is not a volume of server ...")
    for rec in state.restores.values():
        if rec.status == "started":
            needs.add_restore(
                rec.backup.id, rec.target.kind, rec.target.id, (d.volume_id for d in rec.disks)
            )
    world = await refresh(client, needs)
    return plan_from_world(config, world, state, state_path, req)


def plan_from_world(
    config: PlanConfig, world: World, state: State, state_path: str, req: PlanRequest
) -> ExecutionPlan:
    unresolved: list[Unresolved] = []
    resolved, diags = resolve(config, world, unresolved)
    started = {a for a, rec in state.restores.items() if rec.status == "started"}
    diags += cloud.check(resolved, world, started)
    diags += guards.check(config, resolved, world)
    # a restore whose backup did not resolve still writes its target: its conflicts are
    # reported now, not after its backup is fixed (its own error stops the plan anyway)
    graph, graph_diags = build(
        [_node(r) for r in resolved] + [_unresolved_node(u) for u in unresolved]
    )
    diags += graph_diags
    if any(d.is_error for d in diags):
        raise DiagnosticsError(diags)

    scope: set[str] | None = None
    if req.targets:
        wanted = _parse_targets(req.targets, [r.restore.address for r in resolved])
        chosen = {a for a in graph.nodes() if any(t.contains(a) for t in wanted)}
        scope = {str(a) for a in graph.closure(chosen)}
    # a block address replaces every instance of the block (for_each and select alike)
    replacing = _parse_targets(req.replace, [r.restore.address for r in resolved])
    replace = {
        r.restore.address
        for r in resolved
        if any(t.contains(Address.parse(r.restore.address)) for t in replacing)
    }
    restores = [r.restore for r in resolved]
    actions = diff(restores, state, replace, scope)

    batch_of = {str(a): i for i, level in enumerate(batches(graph), start=1) for a in level}
    est = config.estimates
    guarded = [key for key, _value in config.guards.deny_target_tags]
    weights: dict[Address, float] = {}
    for a in actions:
        if a.restore is None:
            continue
        a.batch = batch_of.get(a.address)
        a.estimate_s = round(est.duration_s(a.restore.size_gb), 1)
        a.facts = facts_for(a.restore, world, guarded)
    by_address = {a.address: a for a in actions}
    for node in graph.nodes():
        act = by_address.get(str(node))
        runs = act is not None and act.action in ("restore", "re-restore", "reconcile")
        weights[node] = act.estimate_s if runs and act is not None else 0.0
    cp_s, cp = critical_path(graph, weights)
    exclusive = {
        Address.parse(r.address): [f"backup:{r.backup.id}"]
        + [f"target:{x}" for x in r.written_ids()]
        for r in restores
    }
    makespan = (
        estimate_makespan(graph, weights, max(1, req.parallelism), exclusive) if weights else 0.0
    )
    plan = ExecutionPlan(
        tool_version=__version__,
        created_at=to_datetime(world.fetched_at.timestamp()) if world.fetched_at else _now(),
        config_digest=config.digest,
        config_files=list(config.files),
        region=world.region,
        project_id=world.project_id,
        state=StateRef(lineage=state.lineage, serial=state.serial, path=state_path),
        partial=scope is not None,
        targets=list(req.targets),
        actions=sorted(actions, key=lambda a: (a.batch or 0, Address.parse(a.address))),
        summary=_summary(actions),
        estimate=Estimate(
            makespan_s=round(makespan, 1),
            total_work_s=round(sum(weights.values()), 1),
            critical_path_s=round(cp_s, 1),
            critical_path=[str(a) for a in cp if weights.get(a, 0) > 0],
            parallelism=req.parallelism,
            restore_overhead_s=est.restore_overhead_s,
            throughput_gb_per_min=est.throughput_gb_per_min,
        ),
        backup_skew_s=_skew([a for a in actions if a.restore is not None]),
        batches=len(set(batch_of.values())),
        warnings=[_warning(d) for d in diags if not d.is_error],
    )
    if scope is not None:
        plan.warnings.insert(
            0,
            PlanWarning(
                code="RP370",
                summary="this plan is partial: --target limits it to "
                + ", ".join(req.targets)
                + " and their dependencies",
                detail="the rest of the files is ignored; do not rely on a partial plan for a full recovery",
            ),
        )
    return plan


def _now() -> datetime:
    return datetime.now(UTC)


def _node(r: Resolved) -> GraphNode:
    t = r.restore.target
    return GraphNode(
        address=Address.parse(r.restore.address),
        depends_on=r.spec.depends_on,
        wave=r.restore.wave,
        target=(t.kind, t.id),
        range=r.spec.range_of("block"),
        extra_targets=tuple(("volume", d.volume_id) for d in r.restore.disks),
    )


def _unresolved_node(u: Unresolved) -> GraphNode:
    return GraphNode(
        address=u.address,
        depends_on=u.spec.depends_on,
        wave=u.spec.wave,
        target=(u.target.kind, u.target.id),
        range=u.spec.range_of("block"),
    )


def _parse_targets(texts: Sequence[str], known: Sequence[str]) -> list[Address]:
    out = []
    blocks = {Address.parse(k).block for k in known}
    for text in texts:
        try:
            addr = Address.parse(text)
        except AddressError as exc:
            raise UserError(str(exc)) from None
        if addr.block not in blocks or (addr.key is not None and str(addr) not in known):
            close = difflib.get_close_matches(str(addr), sorted(set(known) | blocks), n=1)
            raise UserError(
                f"{text} is not a restore in this plan",
                f"did you mean {close[0]}?"
                if close
                else "see `restore-planner graph` for addresses",
            )
        out.append(addr)
    return out


def _summary(actions: Sequence[Action]) -> Summary:
    s = Summary()
    written: set[str] = set()
    for a in actions:
        if a.action == "re-restore":
            s.re_restore += 1
        else:
            setattr(s, a.action, getattr(s, a.action) + 1)
        if a.action in ("restore", "re-restore", "reconcile") and a.restore is not None:
            written.add(a.restore.target.id)  # a server with its disks is one target
            s.total_gb += a.restore.size_gb
    s.targets_overwritten = len(written)
    return s


def _skew(actions: Sequence[Action]) -> float | None:
    times = [
        a.restore.backup.created_at for a in actions if a.restore and a.restore.backup.created_at
    ]
    if len(times) < 2:
        return None
    return (max(times) - min(times)).total_seconds()


def _warning(d: Diagnostic) -> PlanWarning:
    return PlanWarning(code=d.code, summary=d.summary, detail=d.detail, location=str(d.range or ""))
