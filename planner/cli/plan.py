"""`restore-planner plan`: refresh, resolve, validate, diff; print (and save) the plan."""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from planner.cli import common
from planner.cli.context import Context, state_path
from planner.cli.options import Planning, PlanOptions
from planner.cli.output import color_enabled, write_out
from planner.plan import planfile
from planner.plan.model import ExecutionPlan, PlanWarning
from planner.plan.pipeline import load_config, make_plan
from planner.render.plan_json import plan_to_json
from planner.state import backend as state_backend


def render(
    plan: ExecutionPlan,
    fmt: str,
    no_color: bool,
    plan_file: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """``plan_file``: where the plan is saved, for the Markdown's "show FILE" note."""
    if fmt == "json":
        return plan_to_json(plan)
    if fmt == "markdown":
        from planner.render.plan_markdown import render_markdown

        return render_markdown(plan, plan_file=plan_file)
    from planner.render.plan_text import render_text

    return render_text(plan, color=color_enabled(no_color, env=env))


async def build_plan(path_arg: str, planning: Planning, ctx: Context) -> ExecutionPlan:
    path = state_path(planning.choice.state, path_arg)
    existed = path.exists()  # before loading: a missing state loads as a new one
    backend = ctx.open_state(path, planning.choice, path_arg)
    try:
        state = backend.store().load()
        held = state_backend.note_lock_held(backend)  # plan reads a whole state meanwhile
    finally:
        backend.close()
    if held:
        print(f"note: {held[0]}; {held[1]}", file=sys.stderr)
    if backend.kind != "local":
        existed, path = state.serial > 0, Path(backend.ref)
    req = common.plan_request(path_arg, planning)
    config = load_config(req)  # the plan's own problems first: they need no cloud
    async with ctx.client(region=config.region, project_id=config.project_id) as client:
        plan = await make_plan(req, client, state, backend.ref, config)
        if held:  # in the plan too: a reviewer of its PR comment or JSON sees why
            plan.warnings.insert(0, PlanWarning(code="RP371", summary=held[0], detail=held[1]))
        planfile.seal(plan, state, path, existed, planfile.cloud_now(client))
        return plan


def run(opts: PlanOptions, ctx: Context) -> int:
    if sys.stderr.isatty() and opts.format == "text":
        print("Refreshing from the cloud...", file=sys.stderr)
    plan = asyncio.run(build_plan(opts.path, opts.planning, ctx))
    text = render(plan, opts.format, opts.out.no_color, opts.out_file, ctx.env)
    write_out(text if text.endswith("\n") else text + "\n")
    if opts.out_file:
        planfile.save(plan, opts.out_file)
        print(
            f"\nSaved the plan to {opts.out_file}. To perform exactly these actions, run:\n"
            f"  restore-planner apply {_arg(opts.out_file)}",
            file=sys.stderr,
        )
    if opts.detailed_exitcode:
        return 2 if plan.has_changes else 0
    return 0


def _arg(path: str) -> str:
    """A path as it can be pasted: quoted for a shell, and never read as an option."""
    if path.startswith("-"):
        path = "./" + path
    return shlex.quote(path)
