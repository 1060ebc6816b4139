"""A baseline restore driver: what the Huawei Terraform provider's huaweicloud_cbr_restore does.

Each restore is a resource: POST the restore, wait 10 s, then GET its task
(``/operation-logs/{id}``) every 10 s until it succeeds or fails. Restores
start when their dependencies have succeeded (Terraform's graph walk), at most
``parallelism`` at a time, in plan order; a failed one skips its dependents.

Written as one loop over a heap of due times rather than one coroutine per
restore, so that it has a single sleeper and runs exactly on a VirtualClock.
Used by bench/apply_robustness.py as the comparison row; not part of the tool.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from planner.clock import Clock
from planner.cloud.client import CloudClient
from planner.cloud.errors import CloudError

FIRST_DELAY_S = 10.0
INTERVAL_S = 10.0


@dataclass
class Job:
    name: str
    backup_id: str
    body: dict[str, object]
    deps: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    noticed: dict[str, float] = field(default_factory=dict)  # name -> when the end was seen (cloud_now)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


async def drive(
    client: CloudClient,
    clock: Clock,
    jobs: list[Job],
    parallelism: int,
    cloud_now: Callable[[], float],
) -> Outcome:
    """Runs every job; ``cloud_now`` stamps the moment a task's end was seen (the bench
    passes the simulator's clock, so the lateness needs no conversion)."""
    out = Outcome()
    by_name = {j.name: j for j in jobs}
    waiting_on = {j.name: set(j.deps) for j in jobs}
    dependents: dict[str, list[str]] = {j.name: [] for j in jobs}
    for j in jobs:
        for d in j.deps:
            dependents[d].append(j.name)
    ready = [j.name for j in jobs if not j.deps]
    in_flight: dict[str, str] = {}  # name -> task id
    due: list[tuple[float, int, str]] = []
    seq = 0

    def skip(name: str) -> None:
        for d in dependents[name]:
            if d not in out.skipped:
                out.skipped.append(d)
                skip(d)

    while ready or in_flight:
        while ready and len(in_flight) < parallelism:
            name = ready.pop(0)
            job = by_name[name]
            try:
                task_id = await client.restore(job.backup_id, job.body)
            except CloudError:
                out.failed.append(name)
                skip(name)
                continue
            if task_id is None:
                out.failed.append(name)
                skip(name)
                continue
            in_flight[name] = task_id
            seq += 1
            heapq.heappush(due, (clock.now() + FIRST_DELAY_S, seq, name))
        if not due:
            break
        at, _, name = heapq.heappop(due)
        wait = at - clock.now()
        if wait > 0:
            await clock.sleep(wait)
        try:
            log = await client.get_operation_log(in_flight[name])
        except CloudError:
            log = None
        status = log.status if log is not None else "running"
        if status not in ("success", "failed", "timeout"):
            seq += 1
            heapq.heappush(due, (clock.now() + INTERVAL_S, seq, name))
            continue
        del in_flight[name]
        if status != "success":
            out.failed.append(name)
            skip(name)
            continue
        out.noticed[name] = cloud_now()
        for d in dependents[name]:
            waiting_on[d].discard(name)
            if not waiting_on[d] and d not in out.skipped:
                ready.append(d)
    return out
