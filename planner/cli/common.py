"""What the planning commands share: the plan request built from their options.

Saved plans (detecting, loading, where their state is) are ``planner.plan.planfile``;
the cloud client and the state backend come from the command's ``Context``.
"""

from __future__ import annotations

from planner.cli.options import Planning
from planner.plan.pipeline import PlanRequest


def plan_request(path: str, planning: Planning) -> PlanRequest:
    return PlanRequest(
        path=path,
        parallelism=planning.parallelism,
        var_files=list(planning.vars.var_file),
        var_args=list(planning.vars.var),
        targets=list(planning.target),
        replace=list(planning.replace),
    )
