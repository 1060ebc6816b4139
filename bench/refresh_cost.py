"""Refresh cost (DESIGN section 10): requests for a plan over N servers vs N/500 + 20.

Generates an N-server inventory with the simulator's generator, builds the
RefreshNeeds of a plan that restores every server from a ``before`` selector,
refreshes through the in-process simulator and prints the ratio.

    .venv/bin/python bench/refresh_cost.py [--servers 10000] [--disks 2] [--listed-children nested|empty|flat|all]

``--listed-children``: how the simulated ListBackups shows a server backup's children
(``all``: one row per shape). ``empty`` is the documented example's shape
(``"children": []``, cbr-facts section 15) with no child listed anywhere else: the
client then reads each chosen server backup again with ShowBackup, one request each,
so that row costs N more. ``flat`` also shows ``"children": []`` but lists every disk
backup as a top-level item (UNCONFIRMED of the real cloud): the client reads them with
one listing of disk backups around the chosen backups' times, N * (disks + 1) / 1000
pages for a nightly policy.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from planner.addresses import Address
from planner.clock import VirtualClock
from planner.cloud.client import CloudClient
from planner.cloud.settings import CloudSettings
from planner.cloud.world import needs_for, refresh
from planner.config.spec import BackupSelector, PlanConfig, RestoreSpec, TargetRef
from planner.sim import Simulator, generate_inventory, parse_inventory

SHAPES = ("nested", "empty", "flat")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=10_000)
    ap.add_argument("--disks", type=int, default=2)
    ap.add_argument(
        "--listed-children", choices=["nested", "empty", "flat", "all"], default="nested"
    )
    args = ap.parse_args()
    shapes = SHAPES if args.listed_children == "all" else (args.listed_children,)
    for shape in shapes:
        _run(args.servers, args.disks, shape)


def _run(servers_n: int, disks: int, shape: str) -> None:
    data = generate_inventory(servers=servers_n, disks=disks, seed=1)
    data["rules"] = {**data.get("rules", {}), "listed_children": shape}
    inventory = parse_inventory(data)
    sim = Simulator(inventory, clock=VirtualClock())
    before = datetime(2100, 1, 1, tzinfo=UTC)
    config = PlanConfig(
        files=("bench.yaml",),
        restores=tuple(
            RestoreSpec(Address("fleet", s.name), TargetRef("server", id=s.id), BackupSelector(before=before))
            for s in inventory.servers
        ),
    )
    env = {
        "HW_REGION_NAME": sim.region,
        "HW_PROJECT_ID": sim.project_id,
        "HW_ENDPOINT": "http://127.0.0.1:1",
        "HW_AUTH_TOKEN": sim.credentials.token,
    }

    async def go() -> tuple[int, int, int]:
        # max_rps high: the in-process simulator's rate limit runs on its virtual clock
        async with CloudClient(CloudSettings.from_env(env), sim.transport(), clock=sim.clock, max_rps=1e6) as c:
            world = await refresh(c, needs_for(config))
            return c.request_count, len(world.servers), len(world.backups)

    t0 = time.perf_counter()
    requests, servers, backups = asyncio.run(go())
    wall = time.perf_counter() - t0
    n = servers_n
    budget = n / 500 + 20
    print(f"listed children {shape:6}: refresh requests: {requests} for {n} servers; "
          f"R / (N/500 + 20) = {requests / budget:.2f} (target <= 1.0)")
    print(f"refresh wall time: {wall:.2f} s ({servers} servers, {backups} backups in the world)")


if __name__ == "__main__":
    main()
