"""Helpers the planning commands share: state location, cloud client.

Saved plans (detecting, loading, where their state is) are ``planner.plan.planfile``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

from planner.clock import Clock
from planner.cloud.client import CloudClient
from planner.cloud.settings import CloudSettings
from planner.plan.pipeline import PlanRequest
from planner.state.store import default_state_path

# The demo (and tests) run the whole CLI against an in-process simulator by
# setting these before calling a command; real use never does.
TRANSPORT: httpx.AsyncBaseTransport | None = None
CLOCK: Clock | None = None


def state_path(args: argparse.Namespace) -> Path:
    """``--state``, or the default beside the plan files (a saved plan: planfile.state_location)."""
    if getattr(args, "state", None):
        return Path(args.state)
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
