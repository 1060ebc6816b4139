"""``restore-planner report``: render the latest (or a given) run of a state as a drill report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.apply.runlog import list_runs, read_run
from planner.errors import UserError
from planner.report import render
from planner.report.calibrate import calibrate, render_calibration
from planner.report.model import build_report
from planner.state.store import default_state_path


def _state_path(args: argparse.Namespace) -> Path:
    state = getattr(args, "state", None)
    return Path(state) if state else default_state_path(getattr(args, "path", None) or ".")


def _run_id(state_path: Path, wanted: str | None) -> str:
    runs = list_runs(state_path)
    if not runs:
        raise UserError(
            f"no runs recorded beside {state_path}", hint="run restore-planner apply first"
        )
    if wanted is None:
        return runs[-1]
    if wanted not in runs:
        shown = ", ".join(runs[-10:]) + (f" (and {len(runs) - 10} older)" if len(runs) > 10 else "")
        raise UserError(f"no run {wanted} beside {state_path}; recorded runs: {shown}")
    return wanted


def run(args: argparse.Namespace) -> int:
    wanted = getattr(args, "run_id", None)
    if wanted and Path(wanted).exists():
        # `report plans/`: a plan file or directory names the state beside it
        args.path, wanted = wanted, None
    state_path = _state_path(args)
    run_id = _run_id(state_path, wanted)
    report = build_report(read_run(state_path, run_id))
    report.run_id = report.run_id or run_id
    fmt = getattr(args, "format", None) or "markdown"
    if getattr(args, "calibrate", False):
        cal = calibrate(report)
        text = (
            cal.model_dump_json(indent=2) + "\n"
            if fmt == "json"
            else render_calibration(report, cal)
        )
    else:
        text = render(report, fmt)
    out = getattr(args, "out", None)
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
        what = "calibration" if getattr(args, "calibrate", False) else f"{fmt} report"
        print(f"Wrote {what} of run {run_id} to {out}")
    else:
        sys.stdout.write(text)
    return 0
