"""Apply: run exactly the actions of an ExecutionPlan, track them, record them.

Owns the safety-critical loop: never two restores of one target, never a
restore twice. The order of writes around every restore POST is

    state "started" (batched) -> journal intent (fsync) -> POST -> journal accepted

so a kill at any point leaves enough on disk for the next apply to look the task
up instead of sending the restore again. Completion is tracked with one
paginated operation-log listing per poll for everything in flight, polled when
a task is due (by its progress and estimate), never more often than
``poll_interval``. Scheduling decisions belong to ``planner.graph.scheduler``;
this module only drives it.

One coroutine does all waiting (through the Clock), so a VirtualClock runs hours
of simulated restores in moments and the decisions are reproducible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from planner.addresses import Address
from planner.apply.body import body_digest, restore_body
from planner.apply.progress import JsonSink, RichSink
from planner.clock import Clock, to_datetime
from planner.cloud.client import CloudClient
from planner.cloud.errors import CloudAPIError, CloudError, CloudTransportError
from planner.cloud.models import OperationLog
from planner.cloud.parse import Json, restore_backup_id
from planner.config.spec import DependencyRef
from planner.errors import UserError
from planner.graph import RestoreGraph
from planner.graph.analysis import remaining_path
from planner.graph.build import GraphNode, build
from planner.graph.scheduler import Scheduler
from planner.plan.model import Action, ExecutionPlan, Restore
from planner.state.backend import JournalLike, RunLogLike, StateStoreLike
from planner.state.model import (
    BackupInfo,
    DiskPair,
    RecordError,
    RestoreRecord,
    RestoreStatus,
    State,
    TargetInfo,
)

Sink = Callable[[dict[str, Any]], None]
# Ordering among ready restores: (graph, estimate per restore) -> priority, highest
# first. The default is the longest remaining critical path (DESIGN section 7);
# bench/apply_makespan.py swaps in FIFO to compare.
PriorityPolicy = Callable[[RestoreGraph, Mapping[Address, float]], Mapping[Address, float]]

# The cloud's clock and ours may differ; search this far back for a lost task.
CLOCK_SLACK = timedelta(minutes=15)
LOST_GRACE_S = 10.0  # wait this long before looking for the task of a lost POST
MAX_POST_ATTEMPTS = 5
# Poll coalescing: a poll due at t waits for tasks due shortly after, by at most this
# many seconds and this share of the restore's estimate (DESIGN: poll when due).
COALESCE_S = 60.0
COALESCE_SHARE = 0.05
# A new task's first check, which learns its pace: early (half its estimate, at most
# 5 min) when few restores are in flight, since a task faster than estimated would
# otherwise be noticed late; with many in flight, every poll for the others sees it
# too, so its own first check waits for its estimated end (at most 15 min).
FIRST_CHECK_S = 300.0
FIRST_CHECK_BUSY_S = 900.0
# A restore nothing depends on frees its slot when its task succeeds; its server's
# power-on is then confirmed in batches (a check every poll would cost a request).
VERIFY_BATCH = 20
VERIFY_MAX_WAIT_S = 600.0
POWER_ON_TIMEOUT_S = 1800.0  # a restored server not ACTIVE by then is reported failed
MISSING_POLLS = 2  # listings without a tracked task before it is fetched by id
PROGRESS_STEP = 25  # percent between restore_progress events (a live display sees every poll)
BUSY_RETRY_S = 60.0  # BackupService.2010: the resource is being restored by someone
# BackupService.2002: the target is being backed up; the cloud asks to restore after
# the backup finishes. The refusal created nothing, so waiting and sending again is safe.
BACKING_UP_RETRY_S = 300.0
BACKING_UP_MAX_WAITS = 12
_TERMINAL_FAIL = ("failed", "timeout", "skipped")


@dataclass
class Flight:
    """A restore the cloud may be working on."""

    action: Action
    restore: Restore
    addr: Address
    posted_at: float  # our clock, when the (latest) POST went out
    estimate_s: float
    task_id: str | None = None
    lost: bool = False  # POST answer lost: look for the task before sending again
    attempts: int = 1
    progress: int = 0
    task_started: datetime | None = None
    task_ended: datetime | None = None
    awaiting_power_on: bool = False
    due: float = 0.0
    backing_up_waits: int = 0
    slot_released: bool = False  # task succeeded, only the power-on check is left
    verify_since: float = 0.0
    succeeded_at: float | None = None  # when the task's success was seen
    created_cloud: datetime | None = None  # the task's created_at, on the cloud's clock
    missing: int = 0  # consecutive listings that did not show this task


@dataclass
class ApplyResult:
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    interrupted: bool = False
    abandoned: list[str] = field(default_factory=list)  # left "started" by a second Ctrl-C

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failed or self.abandoned else 0


class Executor:
    def __init__(
        self,
        plan: ExecutionPlan,
        client: CloudClient,
        store: StateStoreLike,
        state: State,
        journal: JournalLike,
        runlog: RunLogLike,
        clock: Clock,
        *,
        parallelism: int = 10,
        poll_interval: float = 5.0,
        sinks: Sequence[Sink] = (),
        priority: PriorityPolicy = remaining_path,
    ) -> None:
        self.plan = plan
        self.client = client
        self.store = store
        self.state = state
        self.journal = journal
        self.runlog = runlog
        self.clock = clock
        self.parallelism = max(1, parallelism)
        self.poll_interval = max(0.0, poll_interval)
        self.sinks = list(sinks)
        # displays that show every percentage, not only the run log's steps
        self._live = [s.live for s in self.sinks if isinstance(s, RichSink)]
        self._priority = priority
        self.result = ApplyResult()
        self._flights: dict[Address, Flight] = {}
        self._claimed: set[str] = {r.task_id for r in state.restores.values() if r.task_id}
        self._retry_at: dict[Address, float] = {}
        self._pending_retry: dict[Address, Flight] = {}
        self._verify: dict[Address, Flight] = {}  # leaves awaiting power-on, slot released
        self._last_poll = -1e18
        self._stopping = False
        self._abandon = False
        self._dirty = False
        self._removed = False  # a removal needs a full write; updates go to the state log
        self._changed: dict[str, RestoreRecord] = {}
        self._actions = {Address.parse(a.address): a for a in plan.actions}
        self._scheduler = self._make_scheduler()

    # -- setup ------------------------------------------------------------------

    def _make_scheduler(self) -> Scheduler:
        runnable = [a for a in self.plan.actions if a.restore is not None]
        known = {a.address for a in runnable}
        nodes = [
            GraphNode(
                address=Address.parse(a.address),
                # dependencies outside the plan (a --target plan) were done before
                depends_on=tuple(
                    DependencyRef(Address.parse(d)) for d in a.restore.depends_on if d in known
                ),
                wave=a.restore.wave,
                target=None,
                range=None,
            )
            for a in runnable
            if a.restore is not None
        ]
        graph, problems = build(nodes)
        if any(d.is_error for d in problems):
            raise UserError(
                "the saved plan's dependencies do not form a valid graph: "
                + "; ".join(d.summary for d in problems if d.is_error)
            )
        weights = {Address.parse(a.address): max(a.estimate_s, 1.0) for a in runnable}
        exclusive = {
            Address.parse(a.address): [f"backup:{a.restore.backup.id}"]
            + [f"target:{x}" for x in a.restore.written_ids()]
            for a in runnable
            if a.restore is not None
        }
        self._leaves = {n for n in graph.nodes() if graph.dag.out_degree(n) == 0}
        sched = Scheduler(graph, self._priority(graph, weights), exclusive, self.parallelism)
        done = [Address.parse(a.address) for a in runnable if a.action == "unchanged"]
        sched.mark_succeeded(done)
        self.result.unchanged = [str(a) for a in done]
        return sched

    # -- control ----------------------------------------------------------------

    def stop_starting(self) -> None:
        """First Ctrl-C: start nothing new, keep tracking what is in flight."""
        self._stopping = True
        self.result.interrupted = True
        self._scheduler.cancel_pending()

    def abandon(self) -> None:
        """Second Ctrl-C: stop tracking; what is in flight stays "started" in state."""
        self.stop_starting()
        self._abandon = True

    def _emit(self, kind: str, **fields: Any) -> None:
        event = self.runlog.event(kind, **fields)
        for sink in self.sinks:
            if isinstance(sink, JsonSink):
                sink.line(self.runlog.last_line)
            else:
                sink(event)

    # -- main loop --------------------------------------------------------------

    async def run(self) -> ApplyResult:
        s = self.plan.summary
        self._emit(
            "run_started",
            run_id=self.runlog.run_id,
            parallelism=self.parallelism,
            summary=s.model_dump(by_alias=True),
            plan_estimate_s=self.plan.estimate.makespan_s,
            critical_path=self.plan.estimate.critical_path,
        )
        self._forget()
        await self._reconcile()
        while not self._abandon:
            if not self._stopping:
                await self._launch_ready()
            if not self._flights and not self._retry_at and not self._verify:
                if self._scheduler.done or self._stopping or not self._scheduler.ready():
                    break
                continue
            await self.clock.sleep(max(0.0, self._next_wake() - self.clock.now()))
            if self._abandon:
                break
            await self._retry_due()
            if self._flights or self._verify:
                await self._poll()
        self._finish()
        return self.result

    def _next_wake(self) -> float:
        now = self.clock.now()
        flights = sorted(self._flights.values(), key=lambda f: f.due)
        candidates = list(self._retry_at.values())
        if flights:
            first = flights[0]
            window = min(COALESCE_S, COALESCE_SHARE * first.estimate_s)
            candidates.append(max(f.due for f in flights if f.due <= first.due + window))
        if self._verify and not self._flights:
            candidates.append(now)  # nothing else to wait for: confirm them now
        elif self._verify:
            candidates.append(min(f.verify_since for f in self._verify.values()) + VERIFY_MAX_WAIT_S)
        wake = min(candidates) if candidates else now + self.poll_interval
        return max(wake, self._last_poll + self.poll_interval, now)

    # -- forgetting and reconciling ------------------------------------------------

    def _forget(self) -> None:
        for a in self.plan.actions:
            if a.action == "forget":
                self.state.remove(Address.parse(a.address))
                self.result.forgotten.append(a.address)
                self._dirty = True
                self._removed = True
        self._flush_state()

    async def _reconcile(self) -> None:
        """Look up tasks an earlier apply started before anything else happens."""
        pending = {str(e.address): e for e in self.journal.pending()}
        todo = [a for a in self.plan.actions if a.action == "reconcile" and a.restore is not None]
        todo += [
            a
            for a in self.plan.actions
            if a.address in pending and a.action != "reconcile" and a.restore is not None
        ]
        if not todo:
            return
        logs = await self._list_logs(to_datetime(self.clock.now() - 30 * 86400) - CLOCK_SLACK)
        for a in todo:
            assert a.restore is not None
            addr = Address.parse(a.address)
            rec = self.state.restores.get(a.address)
            entry = pending.get(a.address)
            task_id = a.task_id or (rec.task_id if rec else None) or (entry.task_id if entry else None)
            since = entry.at if entry else (rec.started_at if rec else None)
            log = logs.get(task_id) if task_id else None
            if log is None:
                log = self._match(a.restore, logs.values(), since)
            if log is None:
                # No task exists: the earlier POST never took effect. It runs now like any restore.
                self.journal.finished(addr, "void", self.clock.now())
                continue
            self._claimed.add(log.id)
            flight = Flight(a, a.restore, addr, self.clock.now(), a.estimate_s, task_id=log.id)
            self._scheduler.started(addr)
            self._flights[addr] = flight
            self._emit("restore_started", **self._start_fields(a, adopted=True))
            self._emit("restore_accepted", address=a.address, task_id=log.id)
            self._apply_log(flight, log)
        self._settle_finished()

    def _match(
        self, r: Restore, logs: Any, since: datetime | None
    ) -> OperationLog | None:
        floor = (since - CLOCK_SLACK) if since else None
        found = [
            log
            for log in logs
            if log.backup_id == r.backup.id
            and log.target_id == r.target.id
            and log.id not in self._claimed
            and (floor is None or log.created_at is None or log.created_at >= floor)
        ]
        return min(found, key=lambda x: (x.created_at or datetime.min.replace(tzinfo=UTC), x.id)) if found else None

    # -- starting restores ----------------------------------------------------------

    async def _launch_ready(self) -> None:
        free = self.parallelism - len(self._flights) - len(self._retry_at)
        if free <= 0:
            return
        ready = self._scheduler.ready(limit=free)
        if not ready:
            return
        now = self.clock.now()
        flights = []
        for addr in ready:
            a = self._actions[addr]
            assert a.restore is not None
            self._scheduler.started(addr)
            self._record(a.restore, "started", task_id=None, started=now)
            flights.append(Flight(a, a.restore, addr, now, a.estimate_s))
            self._emit("restore_started", **self._start_fields(a))
        self._flush_state()  # "started" is durable before any POST leaves
        await self._post_all(flights)

    def _start_fields(self, a: Action, adopted: bool = False) -> dict[str, Any]:
        assert a.restore is not None
        r = a.restore
        return {
            "address": a.address,
            "backup_id": r.backup.id,
            "target": {"kind": r.target.kind, "id": r.target.id, "name": r.target.name},
            "batch": a.batch,
            "wave": r.wave,
            "estimate_s": a.estimate_s,
            "depends_on": r.depends_on,
            "size_gb": r.size_gb,
            "adopted": adopted,
        }

    async def _post_all(self, flights: list[Flight]) -> None:
        """Every intent is durable (one fsync for the lot) before any POST leaves."""
        bodies = []
        for f in flights:
            body = restore_body(f.restore)
            self.journal.intent(
                self.runlog.run_id, f.addr, f.restore.backup.id, f.restore.target.id, body_digest(body),
                self.clock.now(), sync=False,
            )
            bodies.append(body)
        self.journal.sync()
        await asyncio.gather(*(self._post(f, body) for f, body in zip(flights, bodies, strict=True)))

    async def _post(self, f: Flight, body: dict[str, Any]) -> None:
        f.posted_at = self.clock.now()
        try:
            job_id = await self.client.restore(f.restore.backup.id, body)
        except CloudTransportError as exc:
            if getattr(exc, "maybe_sent", True):
                self._lost(f)
            else:
                self._retry_later(f, 2.0 ** f.attempts, str(exc))
            return
        except CloudAPIError as exc:
            if exc.status == 429:
                self._retry_later(f, 2.0 ** f.attempts, str(exc))
            elif exc.status >= 500:
                self._lost(f)  # the cloud may have created the task before failing
            elif exc.code == "BackupService.2002" and f.backing_up_waits < BACKING_UP_MAX_WAITS:
                f.backing_up_waits += 1
                self._flights.pop(f.addr, None)
                self._retry_at[f.addr] = self.clock.now() + BACKING_UP_RETRY_S
                self._pending_retry[f.addr] = f
                self._emit(
                    "restore_waiting",
                    address=str(f.addr),
                    reason=f"{exc.code}: {exc.message}",
                    retry_in_s=BACKING_UP_RETRY_S,
                )
            elif exc.code == "BackupService.2010":
                self._lost(f, grace=BUSY_RETRY_S)  # maybe ours (an earlier lost POST); look first
            else:
                self.journal.finished(f.addr, "failed", self.clock.now())
                self._fail(f, exc.code or f"HTTP {exc.status}", exc.message)
            return
        except CloudError as exc:
            self.journal.finished(f.addr, "failed", self.clock.now())
            self._fail(f, "RP501", str(exc))
            return
        if job_id is None:
            self._lost(f, grace=0.0)  # empty 202 body: find the task in the operation logs
            return
        self._accepted(f, job_id)

    def _accepted(self, f: Flight, task_id: str) -> None:
        f.task_id = task_id
        f.lost = False
        self._claimed.add(task_id)
        self.journal.accepted(f.addr, task_id, self.clock.now())
        self._record(f.restore, "started", task_id=task_id, started=f.posted_at)
        self._flights[f.addr] = f
        if len(self._flights) * 2 >= self.parallelism and len(self._flights) >= 4:
            first = min(max(f.estimate_s, 1.0), FIRST_CHECK_BUSY_S)
        else:
            first = min(max(f.estimate_s * 0.5, 1.0), FIRST_CHECK_S)
        f.due = self.clock.now() + first
        self._emit("restore_accepted", address=str(f.addr), task_id=task_id)

    def _lost(self, f: Flight, grace: float = LOST_GRACE_S) -> None:
        f.lost = True
        f.due = self.clock.now() + grace
        self._flights[f.addr] = f

    def _retry_later(self, f: Flight, delay: float, why: str) -> None:
        if f.attempts >= MAX_POST_ATTEMPTS:
            self.journal.finished(f.addr, "failed", self.clock.now())
            self._fail(f, "RP502", f"gave up after {f.attempts} attempts: {why}")
            return
        f.attempts += 1
        self._flights.pop(f.addr, None)
        self._retry_at[f.addr] = self.clock.now() + min(delay, 120.0)
        self._pending_retry[f.addr] = f

    async def _retry_due(self) -> None:
        now = self.clock.now()
        due = [a for a, t in self._retry_at.items() if t <= now]
        flights = []
        for addr in due:
            del self._retry_at[addr]
            flights.append(self._pending_retry.pop(addr))
        if flights:
            await self._post_all(flights)

    # -- tracking -------------------------------------------------------------------

    async def _list_logs(self, start: datetime, only_tracked: bool = False) -> dict[str, OperationLog]:
        keep = None
        if only_tracked:
            ids = {f.task_id for f in self._flights.values() if f.task_id}
            lost = {f.restore.backup.id for f in self._flights.values() if f.task_id is None}

            def keep(row: Json) -> bool:
                return str(row.get("id")) in ids or (bool(lost) and restore_backup_id(row) in lost)

        logs = await self.client.list_operation_logs(
            operation_type="restore", start_time=start, keep=keep
        )
        return {log.id: log for log in logs}

    async def _poll(self) -> None:
        self._last_poll = self.clock.now()
        if not self._flights:
            await self._check_power_on()
            self._settle_finished()
            return
        # from the oldest task in flight: its creation time on the cloud's clock once a
        # listing showed it, else our send time less the slack for clock skew
        earliest = min(
            f.created_cloud or (to_datetime(f.posted_at) - CLOCK_SLACK) for f in self._flights.values()
        )
        try:
            logs = await self._list_logs(earliest, only_tracked=True)
        except CloudError:
            for f in self._flights.values():
                f.due = self.clock.now() + max(self.poll_interval, 5.0)
            return
        now = self.clock.now()
        for f in list(self._flights.values()):
            if f.task_id is None:
                if f.due > now:
                    continue
                log = self._match(f.restore, logs.values(), to_datetime(f.posted_at))
                if log is not None:
                    self._accepted(f, log.id)
                    self._apply_log(f, log)
                elif f.attempts < MAX_POST_ATTEMPTS:
                    # Nothing was created: sending again cannot restore twice.
                    self._retry_later(f, 0.0, "restore request lost")
                else:
                    self.journal.finished(f.addr, "failed", now)
                    self._fail(f, "RP502", f"restore request lost {f.attempts} times")
                continue
            log = logs.get(f.task_id)
            if log is not None:
                f.missing = 0
                self._apply_log(f, log)
            else:
                f.missing += 1
                f.due = now + max(self.poll_interval, 5.0)
        await self._look_up_missing()
        await self._check_power_on()
        self._settle_finished()

    async def _look_up_missing(self) -> None:
        """A tracked task absent from two listings in a row is fetched by id: the
        listing's time filter may mean something else on a real cloud (UNCONFIRMED),
        and an apply must never wait forever for a task it cannot see."""
        for f in [f for f in self._flights.values() if f.task_id and f.missing >= MISSING_POLLS]:
            assert f.task_id is not None
            try:
                log = await self.client.get_operation_log(f.task_id)
            except CloudError:
                continue
            f.missing = 0
            if log is not None:
                self._apply_log(f, log)
            else:
                self.journal.finished(f.addr, "failed", self.clock.now())
                self._fail(
                    f,
                    "BackupService.6500",
                    f"task {f.task_id} of this restore no longer exists in the cloud; "
                    "check the target before planning again",
                )

    def _apply_log(self, f: Flight, log: OperationLog) -> None:
        now = self.clock.now()
        if log.progress // PROGRESS_STEP != f.progress // PROGRESS_STEP:
            # every poll sees every task: one event per step, not per poll, keeps
            # the run log and the client's CPU in proportion to the restores
            self._emit("restore_progress", address=str(f.addr), progress=log.progress)
        elif log.progress != f.progress:
            for live in self._live:
                live(str(f.addr), log.progress)
        f.progress = log.progress
        f.task_started = log.started_at or f.task_started
        f.created_cloud = f.created_cloud or log.created_at
        if log.status == "success":
            f.task_ended = log.ended_at
            if f.succeeded_at is None:
                f.succeeded_at = now
            f.awaiting_power_on = f.restore.power_on and f.restore.target.kind == "server"
            if not f.awaiting_power_on:
                self._succeed(f)
            elif f.addr in self._leaves and not f.slot_released:
                f.slot_released = True
                f.verify_since = now
                self._scheduler.succeeded(f.addr)
                self._flights.pop(f.addr, None)
                self._verify[f.addr] = f
            return
        if log.status in _TERMINAL_FAIL:
            f.task_ended = log.ended_at
            self.journal.finished(f.addr, "failed", now)
            self._fail(f, log.error_code or f"task {log.status}", log.error_message or log.status)
            return
        f.due = now + self._time_left(f, log)

    def _time_left(self, f: Flight, log: OperationLog) -> float:
        if log.status == "running" and log.started_at is not None and log.progress > 0:
            elapsed = max(1.0, self.clock.now() - log.started_at.timestamp())
            total = elapsed * 100.0 / log.progress
            return max(total - elapsed, self.poll_interval)
        if log.status == "running":
            return max(f.estimate_s, self.poll_interval)
        # waiting in the cloud's queue: check back in a while
        return max(min(f.estimate_s, 600.0), self.poll_interval)

    async def _check_power_on(self) -> None:
        waiting = [f for f in self._flights.values() if f.awaiting_power_on]
        now = self.clock.now()
        leaves = list(self._verify.values())
        if waiting or len(leaves) >= VERIFY_BATCH or not self._flights or any(
            now - f.verify_since >= VERIFY_MAX_WAIT_S for f in leaves
        ):
            waiting += leaves  # a check is made anyway, or the batch is due
        if not waiting:
            return
        try:
            servers = await self.client.list_servers(server_ids=[f.restore.target.id for f in waiting])
        except CloudError:
            return
        status = {s.id: s.status for s in servers}
        for f in waiting:
            state = status.get(f.restore.target.id, "missing")
            if state == "ACTIVE":
                self._succeed(f)
            elif now - (f.succeeded_at or now) >= POWER_ON_TIMEOUT_S:
                self.journal.finished(f.addr, "failed", now)
                self._fail(
                    f,
                    "RP503",
                    f"the restore task succeeded but server {f.restore.target.name or f.restore.target.id} "
                    f"is {state}, not ACTIVE, {POWER_ON_TIMEOUT_S / 60:.0f} minutes later",
                )
            else:
                f.due = now + max(self.poll_interval, 5.0)

    # -- outcomes -------------------------------------------------------------------

    def _succeed(self, f: Flight) -> None:
        f.awaiting_power_on = False
        self._flights.pop(f.addr, None)
        self._verify.pop(f.addr, None)
        if not f.slot_released:
            self._scheduler.succeeded(f.addr)
        self.journal.finished(f.addr, "succeeded", self.clock.now())
        self._record(f.restore, "succeeded", f.task_id, f.posted_at, ended=self.clock.now())
        self.result.succeeded.append(str(f.addr))
        self._emit(
            "restore_succeeded",
            address=str(f.addr),
            task_id=f.task_id,
            started_at=f.task_started,
            ended_at=f.task_ended,
            size_gb=f.restore.size_gb,
        )

    def _fail(self, f: Flight, code: str, message: str) -> None:
        self._flights.pop(f.addr, None)
        self._verify.pop(f.addr, None)
        self._record(f.restore, "failed", f.task_id, f.posted_at, ended=self.clock.now(), error=(code, message))
        self.result.failed[str(f.addr)] = (code, message)
        self._emit(
            "restore_failed",
            address=str(f.addr),
            task_id=f.task_id,
            error_code=code,
            error_message=message,
            started_at=f.task_started,
            ended_at=f.task_ended,
        )
        # a leaf whose slot was released has nothing left to skip
        newly_skipped = [] if f.slot_released else self._scheduler.failed(f.addr)
        for skipped in newly_skipped:
            self.result.skipped[str(skipped)] = [str(f.addr)]
            a = self._actions.get(skipped)
            r = a.restore if a else None
            self._emit(
                "restore_skipped",
                address=str(skipped),
                because=[str(f.addr)],
                wave=r.wave if r else None,
                batch=a.batch if a else None,
                estimate_s=a.estimate_s if a else None,
                depends_on=r.depends_on if r else [],
            )

    def _settle_finished(self) -> None:
        # Outcomes and task ids reach state with the next write (before the next
        # POST, at the latest at the end): the journal already holds every task id,
        # and a restore left "started" is looked up by the next apply, never re-sent.
        # One state write per launch instead of three keeps the client cheap.
        if self._flights or self._retry_at:
            return
        self._flush_state()

    def _finish(self) -> None:
        for f in [*self._flights.values(), *self._verify.values()]:
            self.result.abandoned.append(str(f.addr))
        self._flush_state()
        self.state = self.store.compact(self.state)
        if not self._flights and not self.journal.pending():
            self.journal.compact()
        r = self.result
        self._emit(
            "run_finished",
            counts={
                "succeeded": len(r.succeeded),
                "failed": len(r.failed),
                "skipped": len(r.skipped),
                "unchanged": len(r.unchanged),
                "abandoned": len(r.abandoned),
            },
            exit_code=r.exit_code,
            interrupted=r.interrupted,
        )

    # -- state ----------------------------------------------------------------------

    def _record(
        self,
        r: Restore,
        status: RestoreStatus,
        task_id: str | None,
        started: float,
        ended: float | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        prev = self.state.restores.get(r.address)
        if prev is not None and prev.run_id == self.runlog.run_id and prev.backup.id == r.backup.id:
            # this run's own record of this restore: only the outcome fields move
            # (a copy, not a re-validation: thousands of these per drill)
            self.state.record(
                prev.model_copy(
                    update={
                        "task_id": task_id,
                        "status": status,
                        "error": RecordError(code=error[0], message=error[1]) if error else None,
                        "started_at": to_datetime(started),
                        "ended_at": to_datetime(ended) if ended is not None else None,
                    }
                )
            )
            self._changed[r.address] = self.state.restores[r.address]
            self._dirty = True
            return
        created = r.backup.created_at or datetime(1970, 1, 1, tzinfo=UTC)
        self.state.record(
            RestoreRecord(
                address=r.address,
                target=TargetInfo(kind=r.target.kind, id=r.target.id, name=r.target.name),
                backup=BackupInfo(id=r.backup.id, name=r.backup.name, created_at=created),
                disks=[DiskPair(backup_id=d.backup_id, volume_id=d.volume_id) for d in r.disks],
                power_on=r.power_on,
                destination_path=r.destination_path,
                task_id=task_id,
                status=status,
                error=RecordError(code=error[0], message=error[1]) if error else None,
                started_at=to_datetime(started),
                ended_at=to_datetime(ended) if ended is not None else None,
                run_id=self.runlog.run_id,
            )
        )
        self._changed[r.address] = self.state.restores[r.address]
        self._dirty = True

    def _flush_state(self) -> None:
        if self._dirty:
            if self._removed:
                self.state = self.store.write(self.state)
            else:
                self.state = self.store.append(self.state, list(self._changed.values()))
            self._dirty = self._removed = False
            self._changed.clear()

