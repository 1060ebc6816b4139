"""`restore-planner sim serve|generate`."""

from __future__ import annotations

import time
from pathlib import Path

from planner.cli.context import Context
from planner.cli.options import SimGenerateOptions, SimServeOptions, SimWaitOptions
from planner.cli.output import write_out
from planner.errors import UserError

MAX_SKEW_S = 315_360_000.0  # ten years: beyond that a skew is a typo, and dates overflow soon after


def serve(args: SimServeOptions, ctx: Context) -> int:
    from planner.clock import ScaledClock, WallClock
    from planner.sim import Simulator, load_inventory
    from planner.sim.serve import serve_forever

    if args.time_scale <= 0:
        raise UserError(f"--time-scale must be positive, got {args.time_scale}")
    skew = args.clock_skew
    if skew is not None and not abs(skew) <= MAX_SKEW_S:  # also refuses nan
        raise UserError(
            f"--clock-skew must be a number of seconds within ±{MAX_SKEW_S:g}, got {skew}"
        )
    env_file = Path(args.env_file) if args.env_file else None
    if env_file is not None:
        env_file.unlink(missing_ok=True)  # from an earlier run: waiting on it would not wait
    inv = load_inventory(args.inventory)
    sim = Simulator(
        inv,
        clock=ScaledClock(args.time_scale),
        faults=args.faults,
        seed=args.seed,
        rate_clock=WallClock(),
        clock_skew_s=skew,
    )
    try:
        return serve_forever(sim, args.host, args.port, env_file)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None


def generate(args: SimGenerateOptions, ctx: Context) -> int:
    from planner.sim.generate import dump_inventory, generate_inventory

    if args.servers < 0 or args.disks < 0:
        raise UserError("--servers and --disks must not be negative")
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    if not tiers:
        raise UserError("--tiers needs at least one tier name, e.g. db,app,web")
    fmt = "json" if args.out_file and args.out_file.endswith(".json") else "yaml"
    inv = generate_inventory(
        args.servers,
        args.disks,
        args.seed,
        tiers,
        region=args.region,
        project_id=args.project,
        for_examples=args.for_examples,
    )
    text = dump_inventory(inv, fmt)
    if args.out_file:
        Path(args.out_file).write_text(text)
    else:
        write_out(text)
    return 0


def wait(args: SimWaitOptions, ctx: Context) -> int:
    # polls without importing the simulator: this runs beside it, in a script
    path, deadline = Path(args.env_file), time.monotonic() + args.timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not path.exists():
        raise UserError(
            f"{args.env_file} did not appear within {args.timeout:g} s",
            hint="is `restore-planner sim serve --env-file` running? a large inventory takes longer: --timeout",
        )
    return 0
