"""What the demo writes: the example drill plan and the inventory it fits.

The plan is a string constant, not package data, so it ships inside the wheel
with nothing to configure and reads in one place. The inventory comes from the
simulator's generator (the same as ``sim generate``) with one adjustment,
explained in ``demo_inventory``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from planner.sim.inventory import SERVER_TYPE

SEED = 0
DATA_DISKS = 2
# The generator's backups are nightly before its epoch; with seed 0 that epoch
# is this instant, which the plan uses as its point in time. The drill itself
# "starts" six hours later on the simulator's clock.
POINT_IN_TIME = "2026-11-20T00:00:00Z"
DEMO_START = datetime(2026, 11, 20, 6, tzinfo=UTC).timestamp()
QUARANTINE = "quarantine"

DRILL_PLAN = f"""\
# yaml-language-server: $schema=../plan.schema.json
# A disaster-recovery drill of a three-tier application: every server tagged
# env=drill is restored in place to its newest backup before the point in time,
# databases first, then app servers, then web servers.
version: 1
vars:
  point_in_time: "{POINT_IN_TIME}"   # override: --var point_in_time=...
defaults:
  power_on: true
guards:
  deny_target_tags: {{env: prod}}     # this plan must never overwrite production
  max_restores: 1000
  # The simulated nightly backups sometimes fail or are still running: the
  # selector then takes the night before. These bounds allow for that; a real
  # drill with healthy backups would pin them tighter (e.g. 30m and 26h).
  max_backup_skew: 3d
  max_backup_age: 4d
restores:
  db:
    select: {{kind: server, tags: {{tier: db, env: drill}}}}
    backup: {{before: "{{{{ point_in_time }}}}"}}
    power_on: false                 # a DBA checks the data before starting it
    wave: 1
  app:
    select: {{kind: server, tags: {{tier: app, env: drill}}}}
    backup: {{before: "{{{{ point_in_time }}}}"}}
    wave: 2
  web:
    select: {{kind: server, tags: {{tier: web, env: drill}}}}
    backup: {{before: "{{{{ point_in_time }}}}"}}
    wave: 3
"""


def demo_inventory(servers: int) -> dict[str, Any]:
    """``sim generate --servers N --disks 2 --seed 0``, with unrestorable servers set aside.

    The generator makes a few servers ERROR and leaves a few backups still
    ``protecting``; the cloud refuses to restore onto either. A drill team takes
    such servers out of the drill, so they are re-tagged ``env=quarantine`` and
    the plan's ``env: drill`` selectors skip them.
    """
    from planner.sim.generate import generate_inventory

    inv = generate_inventory(servers, DATA_DISKS, seed=SEED)
    busy = {
        b["resource_id"]
        for b in inv["backups"]
        if b["resource_type"] == SERVER_TYPE and b["status"] == "protecting"
    }
    for server in inv["servers"]:
        if server["status"] == "ERROR" or server["id"] in busy:
            server["tags"]["env"] = QUARANTINE
    return inv
