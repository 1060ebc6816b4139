"""Refresh cost (DESIGN section 10): requests for a plan over N servers vs N/500 + 20.

Generates an N-server inventory with the simulator's generator, builds the
RefreshNeeds of a plan that restores every server from a ``before`` selector,
refreshes through the in-process simulator and prints the ratio; then the check
apply makes of the saved plan (the same servers, each newest available backup
pinned, its disks known from the plan's facts), against the same budget.

    .venv/bin/python bench/refresh_cost.py [--servers 10000] [--disks 2] [--listed-children nested|empty|flat|all] [--history DAYS]

``--history DAYS``: DAYS more nights of backups for every resource (the generator makes
3-5; a project that keeps weeks of them); apply's check of a saved plan then reads its
pinned backups newest first, down to the oldest one pinned.

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
from datetime import UTC, datetime, timedelta
from typing import Any

from planner.addresses import Address
from planner.clock import VirtualClock
from planner.cloud.client import CloudClient
from planner.cloud.settings import CloudSettings
from planner.cloud.world import RefreshNeeds, needs_for, refresh
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
    ap.add_argument("--history", type=int, default=0, help="older daily copies of every backup")
    args = ap.parse_args()
    shapes = SHAPES if args.listed_children == "all" else (args.listed_children,)
    for shape in shapes:
        _run(args.servers, args.disks, shape, args.history)


def _with_history(data: dict[str, Any], days: int) -> None:
    """``days`` more nights of backups for every resource: copies of its oldest backup,
    one a day before it, with ids of their own."""
    oldest: dict[str, dict[str, Any]] = {}
    for b in data["backups"]:
        if b["resource_id"] not in oldest or b["created_at"] < oldest[b["resource_id"]]["created_at"]:
            oldest[b["resource_id"]] = b
    older: list[dict[str, Any]] = []
    for b in oldest.values():
        created = datetime.fromisoformat(str(b["created_at"]).replace("Z", "+00:00"))
        for k in range(1, days + 1):
            copy = {**b, "id": f"{b['id']}-h{k}", "status": "available",
                    "created_at": (created - timedelta(days=k)).isoformat().replace("+00:00", "Z")}
            if b.get("children"):
                copy["children"] = [{**c, "id": f"{c['id']}-h{k}"} for c in b["children"]]
            older.append(copy)
    data["backups"] += older


def _run(servers_n: int, disks: int, shape: str, history: int = 0) -> None:
    data = generate_inventory(servers=servers_n, disks=disks, seed=1)
    if history:
        _with_history(data, history)
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

    async def go() -> tuple[int, int, int, int]:
        # max_rps high: the in-process simulator's rate limit runs on its virtual clock
        async with CloudClient(CloudSettings.from_env(env), sim.transport(), clock=sim.clock, max_rps=1e6) as c:
            world = await refresh(c, needs_for(config))
            planned = c.request_count
        newest: dict[str, tuple[datetime, str]] = {}
        for b in world.backups.values():
            if b.status == "available" and b.resource_id in world.servers:
                newest[b.resource_id] = max(newest.get(b.resource_id, (b.created_at, b.id)), (b.created_at, b.id))
        pinned = {bid for _, bid in newest.values()}
        saved = RefreshNeeds(server_ids=set(world.servers), backup_ids=pinned, children_known=pinned)
        async with CloudClient(CloudSettings.from_env(env), sim.transport(), clock=sim.clock, max_rps=1e6) as c:
            await refresh(c, saved)
            return planned, c.request_count, len(world.servers), len(world.backups)

    t0 = time.perf_counter()
    requests, checked, servers, backups = asyncio.run(go())
    wall = time.perf_counter() - t0
    n = servers_n
    budget = n / 500 + 20
    print(f"listed children {shape:6}: refresh requests: {requests} for {n} servers; "
          f"R / (N/500 + 20) = {requests / budget:.2f} (target <= 1.0)")
    print(f"  apply's check of the saved plan: {checked} requests; R / (N/500 + 20) = {checked / budget:.2f}")
    print(f"refresh and check wall time: {wall:.2f} s ({servers} servers, {backups} backups in the world)")


if __name__ == "__main__":
    main()
