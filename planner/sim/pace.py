"""How long the simulated cloud takes: restores and backups being taken.

Pure functions of the inventory rules and a seed. Each draw has its own RNG
keyed by what it is about (the backup, the target, the how-many-th restore of
that backup), not by the order requests arrive in: the same restores take the
same time under any executor policy, faults or retries, so benchmarks compare
policies on the same work.
"""

from __future__ import annotations

import math
import random

from planner.sim.inventory import Rules


def pace_multiplier(rules: Rules, seed: int, key: str) -> float:
    """Log-uniform in ``rules.pace_spread``: as likely 2x slow as 2x fast."""
    lo, hi = rules.pace_spread
    if hi <= lo:
        return lo
    u = random.Random(f"pace:{seed}:{key}").random()
    return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))


def restore_seconds(
    rules: Rules, restore_mode: str, disks: int, size_gb: float, pace: float
) -> float:
    """A restore's duration on the cloud's clock, from accepted-and-started to ended."""
    if restore_mode == "snapshot":
        # restoring from a snapshot rolls the disks back in place: seconds, whatever the size
        return rules.snapshot_restore_s * pace
    work = (
        rules.restore_overhead_s
        + rules.per_disk_overhead_s * disks
        + size_gb / rules.throughput_gb_per_min * 60.0
    )
    return work * pace


def protecting_seconds(rules: Rules, seed: int, backup_id: str) -> float:
    """How much longer a backup being taken at the simulator's start still takes."""
    lo, hi = rules.protecting_s
    return lo + random.Random(f"protecting:{seed}:{backup_id}").random() * (hi - lo)
