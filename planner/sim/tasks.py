"""Restore tasks: FIFO queue beyond the quota, lazy progress from the clock.

Nothing runs in the background. Every request first calls ``advance(now)``,
which processes finish events in time order up to ``now`` (a heap of finish
times) and starts queued tasks at the moment a slot frees. So a VirtualClock
works, and thousands of concurrent tasks cost a heap operation each. Backups
being taken (``protecting``) finish the same way, from a second heap.
Owns task bookkeeping and the status changes a restore causes; not validation
and not durations (``planner.sim.pace``).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from planner.sim.state import SimState

FAIL_AT = 0.5  # a faulted task fails halfway through its expected duration
FAIL_CODE = "BackupService.9910"
FAIL_MESSAGE = "Restore failed: the storage backend reported an error while writing the disk."


@dataclass(slots=True)
class Task:
    id: str
    backup_id: str
    target_kind: str  # server | volume | resource
    target_id: str
    target_name: str
    mappings: list[tuple[str, str]]
    volumes: list[str]
    power_on: bool
    duration: float
    fail: bool
    accepted_at: float
    request_id: str
    status: str = "waiting"
    started_at: float | None = None
    ended_at: float | None = None
    prev_volume_status: dict[str, str] = field(default_factory=dict)
    step: int = 1  # progress is reported in multiples of this (the cloud's is coarse)
    # when an answer first showed it ended (the ledger's; benches measure how soon a
    # client saw an end by it, on this clock, not by the client's model of this clock)
    reported_at: float | None = None

    def progress(self, now: float) -> int:
        if self.status == "success":
            return 100
        if self.status == "failed":
            return int(FAIL_AT * 100)
        if self.status != "running" or self.started_at is None:
            return 0
        frac = (now - self.started_at) / self.duration if self.duration > 0 else 1.0
        pct = max(0, min(99, int(frac * 100)))
        return pct - pct % self.step

    def error_info(self) -> dict[str, str]:
        if self.status == "failed":
            return {"code": FAIL_CODE, "message": FAIL_MESSAGE}
        return {"code": "", "message": ""}


class TaskEngine:
    def __init__(self, state: SimState) -> None:
        self._state = state
        self.tasks: dict[str, Task] = {}
        self.order: list[str] = []
        # every task accepted no earlier than the one before it (a listing by creation
        # time may stop at the first task before its window)
        self.in_order = True
        self._waiting: deque[str] = deque()
        self._running = 0
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._backup_heap: list[
            tuple[float, str]
        ] = []  # (done at, backup id) of backups being taken
        self.busy_resources: set[str] = set()  # servers and volumes of waiting/running tasks
        self.busy_backups: set[str] = set()

    def submit(self, task: Task, now: float) -> None:
        if self.order and task.accepted_at < self.tasks[self.order[-1]].accepted_at:
            self.in_order = False
        self.tasks[task.id] = task
        self.order.append(task.id)
        self.busy_backups.add(task.backup_id)
        self.busy_resources.update([task.target_id, *task.volumes])
        if self._running < self._state.rules.quota:
            self._start(task, now)
        else:
            self._state.set_backup_status(task.backup_id, "waiting_restore")
            self._waiting.append(task.id)

    def schedule_backup_done(self, backup_id: str, at: float) -> None:
        heapq.heappush(self._backup_heap, (at, backup_id))

    def advance(self, now: float) -> None:
        # a backup finishing changes nothing a task depends on (a restore of a busy
        # resource is refused, never queued), so the two kinds need no interleaving
        while self._backup_heap and self._backup_heap[0][0] <= now:
            self._state.finish_protecting(heapq.heappop(self._backup_heap)[1])
        while self._heap and self._heap[0][0] <= now:
            end, _, task_id = heapq.heappop(self._heap)
            self._finish(self.tasks[task_id], end)
            while self._waiting and self._running < self._state.rules.quota:
                self._start(self.tasks[self._waiting.popleft()], end)

    def _start(self, task: Task, at: float) -> None:
        st = self._state
        task.status = "running"
        task.started_at = at
        self._running += 1
        st.set_backup_status(task.backup_id, "restoring")
        for vid in task.volumes:
            task.prev_volume_status[vid] = st.volume_status[vid]
            st.volume_status[vid] = "restoring-backup"
        if task.target_kind == "server":
            st.server_status[task.target_id] = "SHUTOFF"
        end = at + task.duration * (FAIL_AT if task.fail else 1.0)
        self._seq += 1
        heapq.heappush(self._heap, (end, self._seq, task.id))

    def _finish(self, task: Task, at: float) -> None:
        st = self._state
        task.status = "failed" if task.fail else "success"
        task.ended_at = at
        self._running -= 1
        st.set_backup_status(task.backup_id, "available")
        for vid in task.volumes:
            st.volume_status[vid] = "error_restoring" if task.fail else task.prev_volume_status[vid]
        if task.target_kind == "server":
            ok = not task.fail and task.power_on
            st.server_status[task.target_id] = "ACTIVE" if ok else "SHUTOFF"
        self.busy_backups.discard(task.backup_id)
        self.busy_resources.difference_update([task.target_id, *task.volumes])
