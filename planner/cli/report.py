"""``restore-planner report``: render the latest (or a given) run of a state as a drill report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.errors import UserError
from planner.report import render
from planner.report.calibrate import calibrate, render_calibration
from planner.report.model import build_report
from planner.state import backend as state_backend
from planner.state.backend import Backend
from planner.state.store import default_state_path


def _state_path(args: argparse.Namespace) -> Path:
    state = getattr(args, "state", None)
    return Path(state) if state else default_state_path(getattr(args, "path", None) or ".")


def _run_id(backend: Backend, wanted: str | None) -> str:
    runs = backend.list_runs()
    where = ("beside " if backend.kind == "local" else "in ") + backend.describe()
    if not runs:
        raise UserError(f"no runs recorded {where}", hint="run restore-planner apply first")
    if wanted is None:
        return runs[-1]
    if wanted not in runs:
        shown = ", ".join(runs[-10:]) + (f" (and {len(runs) - 10} older)" if len(runs) > 10 else "")
        raise UserError(f"no run {wanted} {where}; recorded runs: {shown}")
    return wanted


def run(args: argparse.Namespace) -> int:
    wanted = getattr(args, "run_id", None)
    if wanted and Path(wanted).exists():
        # `report plans/`: a plan file or directory names the state beside it
        args.path, wanted = wanted, None
    backend = state_backend.from_args(args, _state_path(args))
    try:
        run_id = _run_id(backend, wanted)
        events = backend.read_run(run_id)
    finally:
        backend.close()
    report = build_report(events)
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
