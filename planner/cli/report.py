"""``restore-planner report``: render the latest (or a given) run of a state as a drill report."""

from __future__ import annotations

from pathlib import Path

from planner.cli.context import Context, state_path
from planner.cli.options import ReportOptions
from planner.cli.output import write_out
from planner.errors import UserError
from planner.report import render
from planner.report.calibrate import calibrate, render_calibration
from planner.report.model import build_report
from planner.state.backend import Backend


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


def run(opts: ReportOptions, ctx: Context) -> int:
    wanted, path = opts.run_id, opts.path
    if wanted and Path(wanted).exists():
        # `report plans/`: a plan file or directory names the state beside it
        path, wanted = wanted, None
    backend = ctx.open_state(state_path(opts.choice.state, path), opts.choice, path)
    try:
        run_id = _run_id(backend, wanted)
        events = backend.read_run(run_id)
    finally:
        backend.close()
    report = build_report(events)
    report.run_id = report.run_id or run_id
    fmt = opts.format
    if opts.calibrate:
        cal = calibrate(report)
        text = (
            cal.model_dump_json(indent=2) + "\n"
            if fmt == "json"
            else render_calibration(report, cal)
        )
    else:
        text = render(report, fmt)
    out = opts.out_file
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
        what = "calibration" if opts.calibrate else f"{fmt} report"
        print(f"Wrote {what} of run {run_id} to {out}")
    else:
        write_out(text)
    return 0
