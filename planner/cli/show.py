"""`restore-planner show F`: render a saved plan (the same renderers as `plan`).

The plan is loaded like ``apply F`` loads it (``planner.plan.planfile``): a file
edited after it was made is refused here too, so what ``show`` prints is what
``apply`` would run; its digest is printed with it.
"""

from __future__ import annotations

import argparse
import sys

from planner.cli.plan import render
from planner.plan import planfile


def run(args: argparse.Namespace) -> int:
    plan = planfile.load(args.planfile)
    text = render(plan, args.format, args.no_color, args.planfile)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
