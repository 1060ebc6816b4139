"""`restore-planner plan`: refresh, resolve, validate, diff; print (and save) the plan."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from planner.cli import common
from planner.cli.output import color_enabled
from planner.plan import planfile
from planner.plan.model import ExecutionPlan
from planner.plan.pipeline import load_config, make_plan
from planner.render.plan_json import plan_to_json
from planner.state import backend as state_backend


def render(plan: ExecutionPlan, fmt: str, no_color: bool, plan_file: str | None = None) -> str:
    """``plan_file``: where the plan is saved, for the Markdown's "show FILE" note."""
    if fmt == "json":
        return plan_to_json(plan)
    if fmt == "markdown":
        from planner.render.plan_markdown import render_markdown

        return render_markdown(plan, plan_file=plan_file)
    from planner.render.plan_text import render_text

    return render_text(plan, color=color_enabled(no_color))


async def build_plan(args: argparse.Namespace) -> ExecutionPlan:
    path = common.state_path(args)
    existed = path.exists()  # before loading: a missing state loads as a new one
    backend = state_backend.from_args(args, path)
    try:
        state = backend.store().load()
        held = state_backend.note_lock_held(backend)  # plan reads a whole state meanwhile
    finally:
        backend.close()
    if held:
        print(held, file=sys.stderr)
    if backend.kind != "local":
        existed, path = state.serial > 0, Path(backend.ref)
    req = common.plan_request(args)
    config = load_config(req)  # the plan's own problems first: they need no cloud
    async with common.make_client(region=config.region, project_id=config.project_id) as client:
        plan = await make_plan(req, client, state, backend.ref, config)
        planfile.seal(plan, state, path, existed, planfile.cloud_now(client))
        return plan


def run(args: argparse.Namespace) -> int:
    if sys.stderr.isatty() and args.format == "text":
        print("Refreshing from the cloud...", file=sys.stderr)
    plan = asyncio.run(build_plan(args))
    text = render(plan, args.format, args.no_color, args.out)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if args.out:
        planfile.save(plan, args.out)
        print(
            f"\nSaved the plan to {args.out}. To perform exactly these actions, run:\n"
            f"  restore-planner apply {args.out}",
            file=sys.stderr,
        )
    if args.detailed_exitcode:
        return 2 if plan.has_changes else 0
    return 0
