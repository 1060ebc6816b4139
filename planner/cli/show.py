"""`restore-planner show F`: render a saved plan (the same renderers as `plan`)."""

from __future__ import annotations

import argparse
import sys

from planner.cli import common
from planner.cli.plan import render


def run(args: argparse.Namespace) -> int:
    plan = common.load_saved_plan(args.planfile)
    text = render(plan, args.format, args.no_color)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
