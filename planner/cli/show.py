"""`restore-planner show F`: render a saved plan (the same renderers as `plan`).

The plan is loaded like ``apply F`` loads it (``planner.plan.planfile``): a file
edited after it was made is refused here too, so what ``show`` prints is what
``apply`` would run; its digest is printed with it.
"""

from __future__ import annotations

from planner.cli.context import Context
from planner.cli.options import ShowOptions
from planner.cli.output import write_out
from planner.cli.plan import render
from planner.plan import planfile


def run(opts: ShowOptions, ctx: Context) -> int:
    plan = planfile.load(opts.planfile)
    text = render(plan, opts.format, opts.out.no_color, opts.planfile, ctx.env)
    write_out(text if text.endswith("\n") else text + "\n")
    return 0
