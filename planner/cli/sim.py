"""`restore-planner sim serve|generate`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.errors import UserError


def run(args: argparse.Namespace) -> int:
    if args.sim_command == "serve":
        return _serve(args)
    if args.sim_command == "generate":
        return _generate(args)
    raise UserError("sim needs a subcommand: serve or generate", hint="restore-planner sim --help")


def _serve(args: argparse.Namespace) -> int:
    from planner.clock import ScaledClock, WallClock
    from planner.sim import Simulator, load_inventory
    from planner.sim.serve import serve_forever

    if args.time_scale <= 0:
        raise UserError(f"--time-scale must be positive, got {args.time_scale}")
    inv = load_inventory(args.inventory)
    sim = Simulator(inv, clock=ScaledClock(args.time_scale), faults=args.faults, seed=args.seed,
                    rate_clock=WallClock())
    try:
        return serve_forever(sim, args.host, args.port)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None


def _generate(args: argparse.Namespace) -> int:
    from planner.sim.generate import dump_inventory, generate_inventory

    if args.servers < 0 or args.disks < 0:
        raise UserError("--servers and --disks must not be negative")
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    if not tiers:
        raise UserError("--tiers needs at least one tier name, e.g. db,app,web")
    fmt = "json" if args.out and args.out.endswith(".json") else "yaml"
    text = dump_inventory(generate_inventory(args.servers, args.disks, args.seed, tiers), fmt)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0
