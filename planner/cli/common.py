"""Helpers the planning commands share: state location, cloud client, plan files."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import httpx

from planner.clock import Clock
from planner.cloud.client import CloudClient
from planner.cloud.settings import CloudSettings
from planner.errors import UserError
from planner.plan.model import ExecutionPlan
from planner.plan.pipeline import PlanRequest
from planner.render.plan_json import plan_from_json
from planner.state.store import default_state_path

# The demo (and tests) run the whole CLI against an in-process simulator by
# setting these before calling a command; real use never does.
TRANSPORT: httpx.AsyncBaseTransport | None = None
CLOCK: Clock | None = None


def state_path(args: argparse.Namespace, plan: ExecutionPlan | None = None) -> Path:
    if getattr(args, "state", None):
        return Path(args.state)
    if plan is not None and plan.state.path:
        return Path(plan.state.path)
    return default_state_path(getattr(args, "path", "."))


def plan_request(args: argparse.Namespace) -> PlanRequest:
    return PlanRequest(
        path=args.path,
        var_files=list(args.var_file),
        var_args=list(args.var),
        targets=list(getattr(args, "target", [])),
        replace=list(getattr(args, "replace", [])),
        parallelism=int(getattr(args, "parallelism", 10)),
    )


def make_client(
    max_rps: float = 50.0, region: str | None = None, project_id: str | None = None
) -> CloudClient:
    """From HW_* variables; region and project default to the plan's (``cloud:``)."""
    settings = CloudSettings.from_env(os.environ, region, project_id)
    return CloudClient(settings, transport=TRANSPORT, clock=CLOCK, max_rps=max_rps)


def is_saved_plan(path: str) -> bool:
    p = Path(path)
    if not p.is_file() or p.suffix in (".yaml", ".yml"):
        return False
    with p.open("rb") as f:
        head = f.read(1)
    return head == b"{"


def load_saved_plan(path: str) -> ExecutionPlan:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read saved plan {path}: {exc.strerror}") from None
    try:
        json.loads(text)
        return plan_from_json(text)
    except (ValueError, UserError) as exc:
        raise UserError(
            f"{path} is not a saved plan ({exc})",
            "a saved plan is the file written by `restore-planner plan --out FILE`",
        ) from None
