"""``restore-planner demo``: the bundled drill, end to end, on the in-process simulator.

Writes a generated inventory and the example plan into a directory, then runs
the four commands a user would type there (validate, plan --out, apply the
saved plan, report), each under a heading and through the real CLI entry point,
so what the demo shows is exactly what those commands print. During the apply
the simulator runs on a ScaledClock, fast enough that the drill's estimated
hours take about a minute of wall time, while the client keeps this machine's
clock: it learns the simulated cloud's time and pace only from the answers'
Date headers and task times, as it would against a real cloud.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from planner.apply.runlog import list_runs, read_run
from planner.cli.context import Connection, Context
from planner.cli.options import DemoOptions
from planner.cli.output import color_enabled
from planner.clock import Clock, ScaledClock, VirtualClock, WallClock
from planner.demo import DEMO_START, DRILL_PLAN, Workspace, demo_inventory, prepare, write
from planner.demo import workspace as ws_files
from planner.demo.cloud import connection
from planner.errors import UserError
from planner.plan import planfile
from planner.render.fmt import duration
from planner.report.model import build_report
from planner.report.text import noticing_line
from planner.sim import Simulator, dump_inventory, load_inventory

TARGET_WALL_S = 60.0  # how long the apply should take on screen
MIN_SERVERS = 3  # one per tier
MAX_SERVERS = 1000  # the bundled plan's guards.max_restores
STEPS = 4
_APPLY_TITLE = "apply the saved plan, exactly as reviewed, with live progress"
_REPORT_TITLE = "the drill report: per restore and per wave, estimate vs actual, a timeline"


def run(args: DemoOptions, ctx: Context) -> int:
    if args.servers < MIN_SERVERS:
        raise UserError(
            f"--servers must be at least {MIN_SERVERS} (one per tier), not {args.servers}"
        )
    if args.servers > MAX_SERVERS:
        raise UserError(
            f"--servers must be at most {MAX_SERVERS} (the demo plan's guards.max_restores), "
            f"not {args.servers}",
            "for larger drills write an inventory with `restore-planner sim generate` and serve it",
        )
    if args.time_scale < 0:
        raise UserError(
            f"--time-scale must be positive, or 0 to choose one, not {args.time_scale:g}"
        )
    return _Demo(args, ctx).run()


def choose_scale(makespan_s: float, requested: float = 0.0) -> float:
    """The clock speed-up: ``requested`` if set, else one that fits the apply in TARGET_WALL_S."""
    if requested > 0:
        return requested
    return max(1.0, makespan_s / TARGET_WALL_S)


class _Demo:
    def __init__(self, args: DemoOptions, ctx: Context) -> None:
        self.args = args
        self.ctx = ctx
        self.root = Path(args.dir)
        self.color = color_enabled(args.out.no_color, env=ctx.env)
        self.extra = ["--no-color"] if args.out.no_color else []
        self._note = ""  # printed under the next step's heading

    def run(self) -> int:
        ws = prepare(self.root)
        self._write_files(ws)
        self._intro(ws.reused)
        with contextlib.chdir(self.root):
            plan_clock = VirtualClock(start=DEMO_START)
            cloud = self._cloud(plan_clock)
            rc = self._step(
                1, "check the plan offline (no cloud access)", ["validate", "plans/"], cloud
            )
            rc = rc or self._step(
                2,
                "plan: read the cloud, choose backups, show what would be overwritten",
                ["plan", "plans/", "--out", ws_files.SAVED_PLAN, "--state", ws_files.STATE_FILE],
                cloud,
            )
            if rc:
                return self._stopped(rc)
            # Planning ran on a virtual clock (it only reads); the apply gets a
            # fresh simulator of the same inventory on a clock scaled from the
            # saved plan's estimate, continuing from where planning left off.
            # The client does not share it: it runs on this machine's clock and learns the
            # simulator's time, pace and offset only from its answers, as against a real cloud.
            clock = self._apply_clock(plan_clock.now())
            cloud = self._cloud(clock, client=WallClock())
            rc = self._step(
                3, _APPLY_TITLE, ["apply", ws_files.SAVED_PLAN, "--auto-approve"], cloud
            )
            if rc:
                return self._stopped(rc)
            rc = self._step(
                4,
                _REPORT_TITLE,
                ["report", "--format", "html", "--out", ws_files.REPORT_HTML],
                cloud,
            )
            rc = rc or self._step(
                4, "", ["report", "--format", "markdown", "--out", ws_files.REPORT_MD], cloud
            )
            if rc:
                return self._stopped(rc)
            summary = self._drill_summary()
        self._outro(summary)
        return 0

    # ---- the steps ---------------------------------------------------------------

    def _write_files(self, ws: Workspace) -> None:
        from planner.cli.schema import schema_text

        write(ws, ws_files.INVENTORY_FILE, dump_inventory(demo_inventory(self.args.servers)))
        write(ws, ws_files.PLAN_FILE, DRILL_PLAN)
        write(ws, ws_files.SCHEMA_FILE, schema_text())

    def _intro(self, reused: bool) -> None:
        d = self.root
        out = sys.stdout
        self._heading(
            f"restore-planner demo: a disaster-recovery drill of {self.args.servers} servers "
            "on the built-in cloud simulator"
        )
        if reused:
            out.write(f"{d}/ holds an earlier demo; starting afresh.\n")
        out.write(
            f"Wrote {d / ws_files.INVENTORY_FILE}: the simulated cloud: {self.args.servers} servers in "
            "3 tiers (db, app, web),\n  their disks and nightly backups; ERROR servers and servers "
            "with a backup in progress are tagged env=quarantine.\n"
            f"Wrote {d / ws_files.PLAN_FILE}: the drill: databases first (left powered off), then "
            "app servers, then web servers,\n  each from its newest backup before the point in time.\n"
            f"\nEvery command below runs in {d}/ exactly as you would type it there. Nothing leaves "
            "this machine:\nHW_ENDPOINT, HW_REGION_NAME, HW_PROJECT_ID and HW_AUTH_TOKEN point at "
            "the simulator.\n"
        )

    def _apply_clock(self, start: float) -> Clock:
        plan = planfile.load(ws_files.SAVED_PLAN)
        makespan = plan.estimate.makespan_s
        scale = choose_scale(makespan, self.args.time_scale)
        how = (
            "--time-scale"
            if self.args.time_scale > 0
            else "chosen so the apply takes about a minute"
        )
        wall = makespan / scale
        lasts = "under a second" if wall < 1 else f"about {duration(wall)}"
        plain = not (sys.stdout.isatty() and self.color)  # what apply itself decides
        self._note = (
            f"The plan estimates the drill takes {duration(makespan)}. The simulator's clock runs "
            f"{scale:,.0f}x real time ({how}),\nso this takes {lasts}"
            + ("; the timestamps below are simulated time.\n" if plain else ".\n")
        )
        return ScaledClock(scale, start=start)

    def _cloud(self, clock: Clock, client: Clock | None = None) -> Connection:
        """A fresh simulator of the demo's inventory on ``clock``, reached in process;
        ``client``: the client's own clock (default: the same one)."""
        sim = Simulator(load_inventory(ws_files.INVENTORY_FILE), clock=clock)
        return connection(sim, client or clock, base=self.ctx.env)

    def _step(self, n: int, title: str, argv: Sequence[str], cloud: Connection) -> int:
        from planner.cli.main import main

        if title:
            self._heading(f"Step {n} of {STEPS}: {title}")
        if self._note:
            sys.stdout.write(self._note)
            self._note = ""
        command = ["restore-planner", *argv, *self.extra]
        sys.stdout.write(self._style(f"$ {' '.join(command)}", "1") + "\n")
        sys.stdout.flush()
        rc = main([*argv, *self.extra], env=cloud.env, transport=cloud.transport, clock=cloud.clock)
        sys.stdout.flush()
        return rc

    def _stopped(self, rc: int) -> int:
        sys.stdout.flush()
        why = (
            "interrupted"
            if rc == 130
            else f"that command exited with code {rc}; this is a bug in the demo"
        )
        print(f"\nThe demo stopped: {why}. The files are in {self.root}/.", file=sys.stderr)
        return rc

    def _drill_summary(self) -> str:
        """How long the drill took against its estimate, and how soon apply saw each end
        (from the run log, as ``report`` reads it)."""
        if not list_runs(Path(ws_files.STATE_FILE)):
            return ""
        r = build_report(read_run(Path(ws_files.STATE_FILE)))
        if r.makespan_s is None:
            return ""
        line = f"\nThe drill took {duration(r.makespan_s)}"
        if r.estimated_makespan_s:
            line += f" against {duration(r.estimated_makespan_s)} estimated"
        if r.noticing is not None:
            line += f"; ends were noticed {noticing_line(r)}"
        return line + ".\n"

    def _outro(self, summary: str = "") -> None:
        d = self.root
        out = sys.stdout
        out.write(summary)
        out.write("\nReports:\n")
        out.write(
            f"  {d / ws_files.REPORT_HTML}  open it in a browser (self-contained, with a timeline)\n"
        )
        out.write(f"  {d / ws_files.REPORT_MD}    Markdown, as it would appear on a pull request\n")
        self._heading("What next")
        out.write(
            f"  Look around {d}/: plans/drill.yaml is the plan, drill.plan the reviewed plan, "
            ".restore-planner/ the state and run log.\n"
            "  Drive the simulator over HTTP from a shell (sim.env gets the HW_* exports once it listens):\n"
            f"    cd {d}\n"
            "    restore-planner sim serve --inventory inventory.yaml --time-scale 600 "
            "--env-file sim.env > /dev/null 2> sim.log &\n"
            "    restore-planner sim wait sim.env && . ./sim.env\n"
            "    restore-planner plan plans/ --state .restore-planner/state.json   "
            "# all unchanged: the state remembers the drill\n"
            "    kill %1\n"
            "  Run it against Huawei Cloud: set HW_REGION_NAME, HW_PROJECT_ID and credentials; "
            "see README.md.\n"
            "  Keep plans in Git, plan on pull requests, apply from CI: examples/gitops/ in the "
            "source repository.\n"
        )
        out.flush()

    # ---- presentation ------------------------------------------------------------

    def _heading(self, text: str) -> None:
        sys.stdout.write("\n" + self._style(f"== {text} ==", "1;36") + "\n")
        sys.stdout.flush()

    def _style(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.color else text
