"""`restore-planner apply [PATH | PLANFILE]`: confirm, execute, track, record.

With a saved plan it runs exactly that plan, without asking (the plan was the
review), after ``planner.plan.planfile`` checked it: not modified since it was
made (digest), made against this state, and not stale (every fingerprinted
fact; no restore of its targets since). With a path it plans first, shows the
plan and asks. The state lock is held from before planning until the last
restore is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from pathlib import Path

from planner.apply.executor import ApplyResult, Executor, Sink
from planner.apply.progress import JsonSink, PlainSink, RichSink
from planner.cli import common
from planner.cli.context import Context, state_path
from planner.cli.options import ApplyOptions
from planner.cli.output import color_enabled, write_out
from planner.cli.plan import render
from planner.cloud.client import CloudClient
from planner.errors import UserError
from planner.gcpolicy import lean_gc
from planner.plan import planfile
from planner.plan.model import ExecutionPlan
from planner.plan.pipeline import load_config, make_plan
from planner.state.backend import Backend, LocalBackend, RunLogLike, StateStoreLike
from planner.state.model import State
from planner.state.store import STATE_DIR, STATE_FILE


def run(opts: ApplyOptions, ctx: Context) -> int:
    saved = planfile.load(opts.path) if planfile.is_saved_plan(opts.path) else None
    required = opts.require_digest
    choice = opts.planning.choice
    # `is not None`: an empty value (a CI variable that expanded to nothing) is refused
    # as a bad digest, never taken for no --require-digest at all
    if saved is not None:
        _refuse_plan_options(opts)
        if required is not None:
            _require_digest(saved, required)
        path = planfile.state_location(saved, choice.state)
    else:
        if required is not None:
            raise UserError(
                "--require-digest applies to a saved plan only",
                "save the plan with `restore-planner plan ... --out FILE` and apply FILE",
            )
        path = state_path(choice.state, opts.path)
    backend = ctx.open_state(
        path, choice, opts.path, saved.state.path if saved is not None else None
    )
    try:
        if saved is not None:
            planfile.check_backend(
                saved, backend.kind, str(path) if backend.kind == "local" else backend.ref
            )
        with backend.lock("apply"), lean_gc():
            return asyncio.run(_apply(opts, ctx, saved, path, backend))
    finally:
        backend.close()


def _require_digest(plan: ExecutionPlan, required: str) -> None:
    """CI applies only the plan a reviewer saw: its digest, given on the command line."""
    want = planfile.parse_digest(required)
    if plan.digest != want:
        raise UserError(
            f"the saved plan's digest is {plan.digest}, not the required {want}",
            "this is not the plan that was reviewed; apply the reviewed plan file, or review this one",
        )


def _refuse_plan_options(opts: ApplyOptions) -> None:
    """A saved plan is what was reviewed: options that would change it are refused, not
    ignored (an ignored --target would run the whole plan the operator meant to narrow)."""
    given = [
        flag
        for flag, value in (
            ("--target", opts.planning.target),
            ("--replace", opts.planning.replace),
            ("--var", opts.planning.vars.var),
            ("--var-file", opts.planning.vars.var_file),
        )
        if value
    ]
    if given:
        raise UserError(
            f"{', '.join(given)} cannot change a saved plan: it runs exactly as it was reviewed",
            "plan again with these options (`restore-planner plan PATH ... --out FILE`), review it, "
            "and apply that file",
        )


async def _apply(
    opts: ApplyOptions, ctx: Context, saved: ExecutionPlan | None, path: Path, backend: Backend
) -> int:
    existed = path.exists()  # before loading: a missing state loads as a new one
    store = backend.store()
    state = store.load()
    if backend.kind != "local":
        existed = state.serial > 0  # a workspace not yet written loads as a new state
        path = Path(backend.ref)
    req = common.plan_request(opts.path, opts.planning)
    config = None
    region: str | None
    project_id: str | None
    if saved is not None:
        # offline checks first: a plan for another state is refused before any cloud call
        planfile.check_state(saved, state, path, existed)
        region, project_id = saved.region, saved.project_id
    else:
        config = load_config(req)  # offline problems need no cloud
        region, project_id = config.region, config.project_id
    async with ctx.client(region=region, project_id=project_id) as client:
        if saved is not None:
            plan = saved
            await planfile.check_fresh(plan, client, state.known_tasks())
            _announce(opts, plan)
        else:
            plan = await make_plan(req, client, state, backend.ref, config)
            planfile.seal(plan, state, path, existed, planfile.cloud_now(client))
            if opts.format == "text":
                write_out(render(plan, "text", opts.out.no_color, env=ctx.env))
        if not plan.has_changes:
            if opts.format == "text":
                print("\nNothing to apply.")
            return 0
        # a saved plan was the review (Terraform's convention): it is not asked about again
        if saved is None and not _confirm(plan, opts):
            print("Apply cancelled; nothing was changed.", file=sys.stderr)
            return 1
        return await _execute(opts, ctx, plan, client, store, state, backend)


def _announce(opts: ApplyOptions, plan: ExecutionPlan) -> None:
    """What a saved plan is about to do, before it does it (the JSON stream stays on stdout)."""
    out = sys.stdout if opts.format == "text" else sys.stderr
    lines = [
        f"Applying the saved plan {opts.path} (checked: not modified, not stale).",
        f"Plan digest: {plan.digest}",
        *planfile.overwrite_lines(plan),
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _confirm(plan: ExecutionPlan, opts: ApplyOptions) -> bool:
    if opts.auto_approve:
        return True
    n = plan.summary.targets_overwritten
    if sys.stdin is None or not sys.stdin.isatty():
        raise UserError(
            f"apply would overwrite {n} target(s) and needs confirmation, but stdin is not a terminal",
            "review the plan and pass --auto-approve (for example in CI), or save it with "
            "`plan --out FILE` and apply FILE, which asks nothing",
        )
    print(f"\nThis overwrites the data on {n} target(s); it cannot be undone.")
    # Ctrl-C here ends apply at once, before anything is sent: asyncio's own handler would
    # only cancel the run later, inside its first POST (abandoning a restore just sent)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        answer = input(f"Overwrite {n} targets? Only 'yes' is accepted: ")
    except EOFError:  # Ctrl-D: no answer is no
        print()
        return False
    except KeyboardInterrupt:
        print("\nInterrupted at the prompt: nothing was sent, state is unchanged.", file=sys.stderr)
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
    return answer.strip() == "yes"


async def _execute(
    opts: ApplyOptions,
    ctx: Context,
    plan: ExecutionPlan,
    client: CloudClient,
    store: StateStoreLike,
    state: State,
    backend: Backend,
) -> int:
    total = sum(1 for a in plan.actions if a.action in ("restore", "re-restore", "reconcile"))
    sinks: list[Sink]
    if opts.format == "json":
        sinks = [JsonSink()]
    elif sys.stdout.isatty() and color_enabled(opts.out.no_color, env=ctx.env):
        sinks = [RichSink(total)]
    else:
        sinks = [PlainSink(total)]
    # the run is timed on the cloud's clock, learned from its answers (skew, time scale)
    runlog = backend.runlog(clock=client.cloud_clock)
    result = await _run_executor(opts, plan, client, store, state, backend, runlog, sinks)
    if opts.format != "json":
        _summary(
            result, backend.run_location(runlog.run_id), report_command(backend, runlog.run_id)
        )
    if result.io_error is not None:
        raise result.io_error  # the first one: main names it, with a hint
    return result.exit_code


async def _run_executor(
    opts: ApplyOptions,
    plan: ExecutionPlan,
    client: CloudClient,
    store: StateStoreLike,
    state: State,
    backend: Backend,
    runlog: RunLogLike,
    sinks: list[Sink],
) -> ApplyResult:
    """The executor's run, with the journal and the run log closed after it; an error
    closing them (a full disk) is the result's ``io_error`` unless an earlier one is."""
    stack = contextlib.ExitStack()
    result: ApplyResult | None = None
    try:
        journal = stack.enter_context(backend.journal())
        stack.enter_context(runlog)
        executor = Executor(
            plan,
            client,
            store,
            state,
            journal,
            runlog,
            client.cloud_clock,
            parallelism=opts.planning.parallelism,
            poll_interval=opts.poll_interval,
            sinks=sinks,
        )
        loop = asyncio.get_running_loop()
        presses = [0]
        main = asyncio.current_task()

        def on_interrupt() -> None:
            presses[0] += 1
            if presses[0] == 1:
                print(
                    "\nInterrupted: starting nothing new; waiting for restores in flight "
                    "(Ctrl-C again to stop tracking them).",
                    file=sys.stderr,
                )
                executor.stop_starting()
            elif presses[0] == 2:
                print(
                    "\nInterrupted again: no longer tracking; restores in flight stay recorded "
                    "as started, and the next apply looks their tasks up.",
                    file=sys.stderr,
                )
                executor.abandon()
                # a request in progress (up to its timeout) must not hold the exit back
                if main is not None:
                    loop.call_later(INTERRUPT_GRACE_S, lambda: main.done() or main.cancel())

        def on_terminate() -> None:
            # a CI runner cancelling the job (SIGTERM), a closed terminal (SIGHUP): stop
            # as a second Ctrl-C does, with what is in flight recorded as started
            presses[0] = max(presses[0], 1)
            on_interrupt()

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
            loop.add_signal_handler(signal.SIGTERM, on_terminate)
            loop.add_signal_handler(signal.SIGHUP, on_terminate)
        try:
            result = await executor.run()
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                    loop.remove_signal_handler(sig)
    finally:
        if result is None:  # an error of the run itself goes on; the closing's would hide it
            with contextlib.suppress(OSError):
                stack.close()
    try:
        stack.close()
    except OSError as exc:
        result.io_error = result.io_error or exc
    return result


NOT_STARTED_SHOWN = 20  # listed by name in the summary; the run log and report have all
INTERRUPT_GRACE_S = 0.75  # after a second Ctrl-C, a request in progress is cut off after this
# (the exit then takes a few tenths more: state and journal written, connections closed)


def report_command(backend: Backend, run_id: str) -> str:
    """The command that reports this run, as it can be pasted where apply ran: the state
    named unless it is the default one of the current directory."""
    args = ["restore-planner", "report", run_id]
    if isinstance(backend, LocalBackend):
        try:
            state = (
                Path(os.path.relpath(backend.path)) if backend.path.is_absolute() else backend.path
            )
        except OSError:  # the working directory is gone: the absolute path still works
            state = backend.path
        if str(state).startswith(".." + os.sep):
            state = backend.path
        if state != Path(STATE_DIR, STATE_FILE):
            args += ["--state", str(state)]
    else:
        args += ["--backend", backend.kind]
        workspace = getattr(backend, "workspace", None)
        if isinstance(workspace, str):
            args += ["--workspace", workspace]
    return " ".join(shlex.quote(a) for a in args)


def _summary(r: ApplyResult, run_log: str, report: str = "restore-planner report") -> None:
    out = sys.stdout
    how = "interrupted" if r.interrupted else "stopped" if r.io_error else "complete"
    out.write(
        f"\nApply {how}: {len(r.succeeded)} restored, "
        f"{len(r.failed)} failed, {len(r.skipped)} skipped, {len(r.unchanged)} unchanged"
        + (f", {len(r.forgotten)} forgotten" if r.forgotten else "")
        + (f", {len(r.not_started)} not started" if r.not_started else "")
        + ".\n"
    )
    for addr, (code, msg) in sorted(r.failed.items()):
        out.write(f"  failed   {addr}: {code}: {msg}\n")
    for addr, because in sorted(r.skipped.items()):
        out.write(f"  skipped  {addr}: dependency {', '.join(because)} failed\n")
    stopped = "stopped" if r.io_error and not r.interrupted else "interrupted"
    for addr in r.not_started[:NOT_STARTED_SHOWN]:
        out.write(f"  not started  {addr}: the apply was {stopped} first; the next plan shows it\n")
    if len(r.not_started) > NOT_STARTED_SHOWN:
        out.write(
            f"  ... and {len(r.not_started) - NOT_STARTED_SHOWN} more not started (the run log lists each)\n"
        )
    for addr in sorted(r.abandoned):
        out.write(f"  unknown  {addr}: still running; the next apply looks its task up\n")
    for addr in sorted(r.withdrawn):
        out.write(f"  not sent {addr}: the cloud never accepted it; state unchanged\n")
    out.write(f"Run log: {run_log}\nReport:  {report}\n")
