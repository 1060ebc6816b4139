"""`restore-planner apply [PATH | PLANFILE]`: confirm, execute, track, record.

With a saved plan it runs exactly that plan after checking it is not stale
(state lineage and serial, and every fingerprinted fact). With a path it plans
first, shows the plan and asks. The state lock is held from before planning
until the last restore is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from planner.apply.executor import ApplyResult, Executor, Sink
from planner.apply.journal import Journal, journal_path
from planner.apply.progress import JsonSink, PlainSink, RichSink
from planner.apply.runlog import RunLog
from planner.cli import common
from planner.cli.output import color_enabled
from planner.cli.plan import render
from planner.cloud.client import CloudClient
from planner.cloud.world import refresh
from planner.errors import StalePlanError, UserError
from planner.plan.facts import moved_facts
from planner.plan.model import ExecutionPlan
from planner.plan.pipeline import load_config, make_plan, needs_for_plan
from planner.state.lock import StateLock
from planner.state.model import State
from planner.state.store import StateStore


def run(args: argparse.Namespace) -> int:
    saved = common.load_saved_plan(args.path) if common.is_saved_plan(args.path) else None
    if saved is not None:
        _refuse_plan_options(args)
    path = common.state_path(args, saved)
    with StateLock(path, "apply"):
        return asyncio.run(_apply(args, saved, path))


def _refuse_plan_options(args: argparse.Namespace) -> None:
    """A saved plan is what was reviewed: options that would change it are refused, not
    ignored (an ignored --target would run the whole plan the operator meant to narrow)."""
    given = [
        flag
        for flag, value in (
            ("--target", args.target),
            ("--replace", args.replace),
            ("--var", args.var),
            ("--var-file", args.var_file),
        )
        if value
    ]
    if given:
        raise UserError(
            f"{', '.join(given)} cannot change a saved plan: it runs exactly as it was reviewed",
            "plan again with these options (`restore-planner plan PATH ... --out FILE`), review it, "
            "and apply that file",
        )


async def _apply(args: argparse.Namespace, saved: ExecutionPlan | None, path: Path) -> int:
    store = StateStore(path)
    state = store.load()
    req = common.plan_request(args)
    config = None if saved is not None else load_config(req)  # offline problems need no cloud
    region: str | None
    project_id: str | None
    if saved is not None:
        region, project_id = saved.region, saved.project_id
    else:
        assert config is not None
        region, project_id = config.region, config.project_id
    async with common.make_client(region=region, project_id=project_id) as client:
        if saved is not None:
            plan = saved
            await _check_fresh(plan, state, client)
            if args.format == "text":
                print(f"Applying the saved plan {args.path} (checked: not stale).")
        else:
            plan = await make_plan(req, client, state, str(path), config)
            if args.format == "text":
                sys.stdout.write(render(plan, "text", args.no_color))
        if not plan.has_changes:
            if args.format == "text":
                print("\nNothing to apply.")
            return 0
        if not _confirm(plan, args):
            print("Apply cancelled; nothing was changed.", file=sys.stderr)
            return 1
        return await _execute(args, plan, client, store, state, path)


async def _check_fresh(plan: ExecutionPlan, state: State, client: CloudClient) -> None:
    if (client.settings.region, client.settings.project_id) != (plan.region, plan.project_id):
        raise StalePlanError(
            f"the plan was made for {plan.region}/{plan.project_id}, the environment is "
            f"{client.settings.region}/{client.settings.project_id}",
            "a plan reviewed for one project never runs against another",
        )
    if plan.state.lineage and state.lineage != plan.state.lineage and state.restores:
        raise StalePlanError(
            f"the plan was made against state lineage {plan.state.lineage}, the state is {state.lineage}",
            "plan again against this state",
        )
    if state.serial != plan.state.serial and (state.lineage == plan.state.lineage or state.restores):
        raise StalePlanError(
            f"the state changed since the plan was made (serial {plan.state.serial} -> {state.serial})",
            "another apply or `state rm` ran in between; run plan again and review it",
        )
    world = await refresh(client, needs_for_plan(plan))
    moved = moved_facts(plan.actions, world)
    if moved:
        lines = "\n".join(f"  {addr}: {fact}: {old} -> {new}" for addr, fact, old, new in moved[:50])
        more = f"\n  ... and {len(moved) - 50} more" if len(moved) > 50 else ""
        raise StalePlanError(
            f"the saved plan is stale: {len(moved)} fact(s) it relies on changed\n{lines}{more}",
            "run plan again and review the new plan",
        )


def _confirm(plan: ExecutionPlan, args: argparse.Namespace) -> bool:
    if args.auto_approve:
        return True
    n = plan.summary.targets_overwritten
    if not sys.stdin.isatty():
        raise UserError(
            f"apply would overwrite {n} target(s) and needs confirmation, but stdin is not a terminal",
            "review the plan and pass --auto-approve (for example in CI, applying a saved plan)",
        )
    print(f"\nThis overwrites the data on {n} target(s); it cannot be undone.")
    answer = input(f"Overwrite {n} targets? Only 'yes' is accepted: ")
    return answer.strip() == "yes"


async def _execute(
    args: argparse.Namespace,
    plan: ExecutionPlan,
    client: CloudClient,
    store: StateStore,
    state: State,
    path: Path,
) -> int:
    total = sum(1 for a in plan.actions if a.action in ("restore", "re-restore", "reconcile"))
    sinks: list[Sink]
    if args.format == "json":
        sinks = [JsonSink()]
    elif sys.stdout.isatty() and color_enabled(args.no_color):
        sinks = [RichSink(total)]
    else:
        sinks = [PlainSink(total)]
    runlog = RunLog.create(path, clock=client.clock)
    with Journal(journal_path(path)) as journal, runlog:
        executor = Executor(
            plan,
            client,
            store,
            state,
            journal,
            runlog,
            client.clock,
            parallelism=args.parallelism,
            poll_interval=args.poll_interval,
            sinks=sinks,
        )
        loop = asyncio.get_running_loop()
        presses = [0]

        def on_interrupt() -> None:
            presses[0] += 1
            if presses[0] == 1:
                print(
                    "\nInterrupted: starting nothing new; waiting for restores in flight "
                    "(Ctrl-C again to stop tracking them).",
                    file=sys.stderr,
                )
                executor.stop_starting()
            else:
                executor.abandon()

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
        try:
            result = await executor.run()
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
    if args.format != "json":
        _summary(result, runlog.run_id, path)
    return result.exit_code


def _summary(r: ApplyResult, run_id: str, path: Path) -> None:
    out = sys.stdout
    out.write(
        f"\nApply {'interrupted' if r.interrupted else 'complete'}: {len(r.succeeded)} restored, "
        f"{len(r.failed)} failed, {len(r.skipped)} skipped, {len(r.unchanged)} unchanged"
        + (f", {len(r.forgotten)} forgotten" if r.forgotten else "")
        + ".\n"
    )
    for addr, (code, msg) in sorted(r.failed.items()):
        out.write(f"  failed   {addr}: {code}: {msg}\n")
    for addr, because in sorted(r.skipped.items()):
        out.write(f"  skipped  {addr}: dependency {', '.join(because)} failed\n")
    for addr in sorted(r.abandoned):
        out.write(f"  unknown  {addr}: still running; the next apply looks its task up\n")
    out.write(f"Run log: {path.parent / 'runs' / (run_id + '.jsonl')}  (restore-planner report)\n")
