"""Scale figures for the simulator (run by hand: python tests/sim/scale_check.py [N]).

Generates an N-server inventory with 2 data disks each (N=10,000 -> 30,000
volumes), loads it as JSON and as YAML, then pages every server through the
core with limit=1000. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from planner.clock import VirtualClock
from planner.sim import Simulator, dump_inventory, generate_inventory, load_inventory
from planner.sim.http import SimRequest


def main(n: int) -> None:
    inv_data = generate_inventory(n, 2, 1)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("json", "yaml"):
            path = Path(tmp) / f"inv.{fmt}"
            path.write_text(dump_inventory(inv_data, fmt))
            t0 = time.perf_counter()
            inv = load_inventory(path)
            sim = Simulator(inv, clock=VirtualClock())
            t1 = time.perf_counter()
            hdr = {"x-auth-token": sim.credentials.token}
            page, seen = 1, 0
            while True:
                q = [("limit", "1000"), ("offset", str(page))]
                body = sim.handle(SimRequest("GET", f"/v1/{inv.project_id}/cloudservers/detail", q, hdr)).body
                if not body["servers"]:
                    break
                seen += len(body["servers"])
                page += 1
            t2 = time.perf_counter()
            print(f"{fmt}: {len(inv.servers)} servers, {len(inv.volumes)} volumes, {len(inv.backups)} backups, "
                  f"{path.stat().st_size / 1e6:.1f} MB: load+index {t1 - t0:.2f}s, "
                  f"page {seen} servers in {page} requests {t2 - t1:.2f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
