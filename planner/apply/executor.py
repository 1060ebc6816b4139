"""Apply: run exactly the actions of an ExecutionPlan, track them, record them.

Owns the safety-critical loop: never two restores of one target, never a
restore twice. The order of writes around every restore POST is

    state "started" (fsync, one per batch) -> journal intent (written) -> POST -> accepted

so a kill at any point leaves enough on disk for the next apply to look the task
up instead of sending the restore again, and so does a power cut, by the state's
record alone (the next plan shows it as reconcile; ``planner.apply.journal``).
A POST the cloud refused created nothing: its intent is closed ("void") and its
state record put back, so state says exactly what the cloud accepted.

Every restore the executor has started is in one table, ``_flights``, with one
``Phase``; scheduling decisions belong to ``planner.graph.scheduler`` and the
decision of when to look at tasks to ``planner.apply.policy``. Completion is
tracked with one paginated operation-log listing per poll for everything in
flight.

Time: ``clock`` is the cloud's (``planner.cloud.cloudclock.CloudClock``, learned
from the cloud's answers), so every duration, lateness and poll decision is in
the cloud's time, whatever its skew or pace against ours; ``--poll-interval``
too. One coroutine does all waiting (through the clock), so a VirtualClock runs
hours of simulated restores in moments and the decisions are reproducible.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from planner.addresses import Address
from planner.apply import events as ev
from planner.apply.body import body_digest, restore_body
from planner.apply.journal import close_forgotten
from planner.apply.policy import (
    PaceModel,
    Prediction,
    TaskHistory,
    look_window,
    next_poll,
    poll_floor,
)
from planner.apply.progress import JsonSink, RichSink
from planner.clock import Clock, VirtualClock, to_datetime
from planner.cloud.client import CloudClient
from planner.cloud.cloudclock import CloudClock
from planner.cloud.errors import CloudAPIError, CloudError, CloudTransportError
from planner.cloud.models import OperationLog
from planner.cloud.parse import Json, restore_backup_id
from planner.config.spec import DependencyRef
from planner.defaults import DEFAULT_PARALLELISM, DEFAULT_POLL_INTERVAL_S
from planner.errors import UserError
from planner.graph import RestoreGraph
from planner.graph.analysis import remaining_path
from planner.graph.build import GraphNode, build
from planner.graph.scheduler import Scheduler
from planner.plan.model import Action, ExecutionPlan, Restore
from planner.plan.model import BackupInfo as PlanBackup
from planner.state.backend import JournalLike, RunLogLike, StateStoreLike
from planner.state.model import (
    EARLIER_TASKS,
    BackupInfo,
    DiskPair,
    RecordError,
    RestoreRecord,
    RestoreStatus,
    State,
    TargetInfo,
)

Sink = Callable[[ev.Event], None]
# Ordering among ready restores: (graph, estimate per restore) -> priority, highest
# first. The default is the longest remaining critical path (DESIGN section 7);
# bench/apply_makespan.py swaps in FIFO to compare.
PriorityPolicy = Callable[[RestoreGraph, Mapping[Address, float]], Mapping[Address, float]]

# The operation-log time filter's meaning is UNCONFIRMED: list from this long before
# the oldest task we track (cloud time), and fetch a task by id when listings miss it.
CLOCK_SLACK = timedelta(minutes=15)
# A task the cloud accepted but no listing showed yet was created after its POST left,
# at a time of ours that is the cloud's as learned from its answers (Date headers, whole
# seconds): once that clock is settled, this covers its error. A listing from 15 minutes
# back instead carried every restore of those minutes (490 rows per listing for restores
# of seconds, most of apply's CPU); a task one still misses is fetched by id.
ACCEPTED_SLACK = timedelta(seconds=10)
LOST_GRACE_S = 10.0  # wait this long (cloud time) before looking for the task of a lost POST
MAX_POST_ATTEMPTS = 5
# A restore nothing depends on frees its slot when its task succeeds; its server's
# power-on is then confirmed in batches (a check every poll would cost a request).
VERIFY_BATCH = 20
VERIFY_MAX_WAIT_S = 300.0
POWER_ON_RECHECK_S = 5.0
NOT_STARTED = "not started: the apply was interrupted first"
NOT_STARTED_STOPPED = "not started: the apply stopped first (state or a log could not be written)"
POWER_ON_TIMEOUT_S = 1800.0  # a restored server not ACTIVE by then is reported failed
MISSING_POLLS = 2  # listings without a tracked task before it is fetched by id
PROGRESS_STEP = 25  # percent between restore_progress events (a live display sees every poll)
BUSY_RETRY_S = 60.0  # BackupService.2010: the resource is being restored by someone
# BackupService.2002: the target is being backed up; the cloud asks to restore after
# the backup finishes. The refusal created nothing, so waiting and sending again is safe.
BACKING_UP_RETRY_S = 120.0
BACKING_UP_MAX_WAITS = 30
LISTING_ERROR_RETRY_S = 5.0
# Until the cloud's pace against ours is known (a time-scaled simulator runs many cloud
# seconds per second of ours), sleep at most this long on our clock, then look again:
# every answer teaches the clock model.
LEARNING_SLEEP_S = 1.0
MIN_NAP_S = 1e-6  # the least a sleep asks of its clock (a VirtualClock's least step)
_TERMINAL_FAIL = ("failed", "timeout", "skipped")


class Phase(enum.Enum):
    """Where a started restore is. ``RETRY`` and ``LOST`` hold no task id."""

    RETRY = "retry"  # the cloud refused or never got the POST: nothing exists; POST again at due
    LOST = "lost"  # the POST may have reached the cloud: look for its task at due, never re-send blindly
    TRACKING = "tracking"  # the cloud accepted it (task id known)
    VERIFYING = "verifying"  # the task succeeded; waiting for the server to be ACTIVE


@dataclass
class Flight:
    """A restore this apply started (or adopted) whose outcome is not known yet."""

    action: Action
    restore: Restore
    addr: Address
    posted_at: float  # cloud time of the (latest) POST
    estimate_s: float
    phase: Phase = Phase.TRACKING
    due: float = 0.0  # RETRY / LOST / VERIFYING: the next thing to do, cloud time
    task_id: str | None = None
    attempts: int = 1
    progress: int = 0
    history: TaskHistory | None = None  # TRACKING: what listings showed (the policy's input)
    task_started: datetime | None = None
    task_ended: datetime | None = None
    backing_up_waits: int = 0
    released: bool = False  # VERIFYING: its slot went to the next restore
    marked: bool = False  # VERIFYING leaf: already counted as succeeded (nothing depends on it)
    verify_since: float = 0.0
    succeeded_at: float | None = None  # when the task's success was seen
    created_cloud: datetime | None = None  # the task's created_at
    # the first POST of this apply for it: a task found by backup, target and time after
    # an answer was lost may be any attempt's, the first's too (matched from here on)
    first_posted: float | None = None
    busy_answers: int = 0  # BackupService.2010 answers ("already being restored")
    # posted_at is when the POST that made its task left (False: a task found by backup,
    # target and time after an answer was lost may come from an earlier attempt)
    post_timed: bool = True
    missing: int = 0  # consecutive listings that did not show this task
    previous: RestoreRecord | None = None  # the state record before this apply started it
    intent_open: bool = False  # a journal intent without its outcome
    window: tuple[float, float] = (0.0, 0.0)  # the policy's last answer for it ...
    window_key: tuple[int, int, int, float] = (-1, -1, -1, 0.0)  # ... and what it came from
    prediction: Prediction | None = None  # the pace model's, for window_key's pace version

    @property
    def holds_slot(self) -> bool:
        return not self.released


@dataclass
class ApplyResult:
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    interrupted: bool = False
    abandoned: list[str] = field(default_factory=list)  # left "started" by a second Ctrl-C
    withdrawn: list[str] = field(default_factory=list)  # never accepted by the cloud; not started
    not_started: list[str] = field(default_factory=list)  # interrupted before they were due
    # the first error writing state, the journal or the run log (a full disk, a read-only
    # directory): apply stopped there, what is in flight is recorded as started
    io_error: OSError | None = None

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failed or self.abandoned or self.io_error else 0


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
        parallelism: int = DEFAULT_PARALLELISM,
        poll_interval: float | None = None,
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
        # --poll-interval when given, else None: the floor between listings then follows
        # the restores in flight (policy.poll_floor); poll_interval is the current floor
        self._explicit_interval = None if poll_interval is None else max(0.0, poll_interval)
        self.poll_interval = poll_floor(self._explicit_interval, (), DEFAULT_POLL_INTERVAL_S)
        self.sinks = list(sinks)
        # displays that show every percentage, not only the run log's steps
        self._live = [s.live for s in self.sinks if isinstance(s, RichSink)]
        self._priority = priority
        self.result = ApplyResult()
        self._flights: dict[Address, Flight] = {}  # the one table of started restores
        # tasks state knows: each is some restore's own, never another's to adopt
        self._claimed: set[str] = state.known_tasks()
        # how far the cloud's task times ran behind our time of their POSTs (the gateway's
        # Date and the service's clock may disagree): listings reach back this much more
        self._task_lag_s = 0.0
        self.pace = PaceModel()
        self._last_poll = -1e18
        self._poll_at = 0.0
        self._last_verify = -1e18
        self._stopping = False
        self._abandon = False
        self._wake = asyncio.Event()
        self._dirty = False
        self._removed = False  # a removal needs a full write; updates go to the state log
        self._changed: dict[str, RestoreRecord] = {}
        self._actions = {Address.parse(a.address): a for a in plan.actions}
        self._scheduler = self._make_scheduler()

    # -- setup ------------------------------------------------------------------

    def _make_scheduler(self) -> Scheduler:
        # only these kinds restore (or stand for a restore done): a forget never runs,
        # whatever a saved plan carries with it
        runnable = [
            a
            for a in self.plan.actions
            if a.restore is not None
            and a.action in ("restore", "re-restore", "reconcile", "unchanged")
        ]
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
        self._runnable = runnable
        weights = {Address.parse(a.address): max(a.estimate_s, 1.0) for a in runnable}
        exclusive = {
            Address.parse(a.address): [f"backup:{a.restore.backup.id}"]
            + [f"target:{x}" for x in a.restore.written_ids()]
            for a in runnable
            if a.restore is not None
        }
        self._leaves = {n for n in graph.nodes() if graph.dag.out_degree(n) == 0}
        # what comes after each restore, with what else each waits for (joins left out;
        # None: a join): asked for every restore awaiting its check, at every wake
        dag = graph.dag
        self._after: dict[Address, list[tuple[Address, tuple[Address, ...] | None]]] = {
            n: [
                (s, None)
                if graph.is_join(s)
                else (s, tuple(p for p in dag.predecessors(s) if not graph.is_join(p)))
                for s in dag.successors(n)
            ]
            for n in graph.nodes()
        }
        self._graph = graph
        sched = Scheduler(graph, self._priority(graph, weights), exclusive, self.parallelism)
        done = [Address.parse(a.address) for a in runnable if a.action == "unchanged"]
        sched.mark_succeeded(done)
        self.result.unchanged = [str(a) for a in done]
        return sched

    # -- control ----------------------------------------------------------------

    def stop_starting(self) -> None:
        """First Ctrl-C: start nothing new (no POST leaves after this), keep tracking
        what the cloud accepted."""
        self._stopping = True
        self.result.interrupted = True
        self._scheduler.cancel_pending()
        self._wake.set()

    def abandon(self) -> None:
        """Second Ctrl-C: stop tracking; what the cloud accepted stays "started" in state."""
        self.stop_starting()
        self._abandon = True
        self._wake.set()

    def _emit(self, event: ev.Event) -> None:
        event = self.runlog.record(event)
        for sink in self.sinks:
            try:
                if isinstance(sink, JsonSink):
                    sink.line(self.runlog.last_line)
                else:
                    sink(event)
            except OSError as exc:
                self._lost_sink(sink, exc)

    def _lost_sink(self, sink: Sink, exc: OSError) -> None:
        """Output that cannot be written (a reader that closed its pipe, a full disk under
        a redirection) stops; the apply does not: stopping would leave restores in flight
        untracked for want of a display. State and the run log still record each one."""
        self.sinks = [s for s in self.sinks if s is not sink]
        self._live = [s.live for s in self.sinks if isinstance(s, RichSink)]
        with contextlib.suppress(OSError, ValueError):
            print(
                f"restore-planner: output stopped ({exc.strerror or exc}); the apply goes on, "
                f"recorded in state and in run log {self.runlog.run_id}",
                file=sys.stderr,
            )

    def _ts(self) -> datetime:
        """Now as an event's time: the run log would stamp it so (same clock), but an
        event made with its time needs no copy (thousands per drill)."""
        return to_datetime(self.clock.now())

    def _cloud_s(self, client_seconds: float) -> float:
        """A wait the client's side dictates (Retry-After, backoff) in cloud seconds."""
        return (
            client_seconds * self.clock.rate
            if isinstance(self.clock, CloudClock)
            else client_seconds
        )

    # -- main loop --------------------------------------------------------------

    async def run(self) -> ApplyResult:
        s = self.plan.summary
        self._emit(
            ev.RunStarted(
                run_id=self.runlog.run_id,
                parallelism=self.parallelism,
                summary=s.model_dump(by_alias=True),
                plan_estimate_s=self.plan.estimate.makespan_s,
                critical_path=self.plan.estimate.critical_path,
            )
        )
        try:
            self._forget()
            await self._reconcile()
            while not self._abandon:
                if self._stopping:
                    self._withdraw_unsent()
                else:
                    await self._launch_ready()
                if not self._flights:
                    if self._scheduler.done or self._stopping or not self._scheduler.ready():
                        break
                    continue
                await self._sleep_until(self._next_wake())
                if self._abandon:
                    break
                await self._step()
        except asyncio.CancelledError:
            # a second Ctrl-C that a request in progress did not let us see in time
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            self._abandon = True
            self.result.interrupted = True
        except OSError as exc:
            # state, the journal or the run log cannot be written: nothing more is sent
            # (a restore is sent only once its "started" record is on disk), nothing more
            # tracked (its outcome could not be recorded); what the cloud has is left
            # "started" for the next plan to reconcile
            self._abandon = True
            self.result.io_error = self.result.io_error or exc
        self._finish()
        return self.result

    def _io(self, step: Callable[[], object]) -> None:
        """A write of ``_finish`` after a write failed: tried, and its error kept only
        if it is the first (the disk may have room again, or only the run log failed)."""
        if self.result.io_error is None:
            step()
            return
        with contextlib.suppress(OSError):
            step()

    async def _sleep_until(self, at: float) -> None:
        """Sleep until ``at`` on the apply's clock, or until woken (a signal).

        It returns with the clock at ``at`` or later (unless woken), so that what was
        due then is done in this wake. A sleep of ``at - now`` could fall short: the
        cloud clock's ``now`` never goes back, so after a refit it may stand ahead of
        the fit's mapping of the base clock (the sleep's), and a float's rounding at
        epoch magnitudes can leave it a microsecond before. Each short fall cost a
        wake that did nothing and another right after it, for a third of the wakes
        of ``bench/apply_makespan.py``.
        """
        if at - self.clock.now() <= 0:
            return
        self.runlog.flush()  # what happened so far is on disk before we wait
        base = self.clock.base if isinstance(self.clock, CloudClock) else self.clock
        while (delay := at - self.clock.now()) > 0:
            if isinstance(self.clock, CloudClock):
                # on the base clock, to where the cloud clock's fit reads ``at``
                nap = max(self.clock.to_client(at) - base.now(), MIN_NAP_S)
                sleep = base.sleep(nap)
            else:
                sleep = self.clock.sleep(max(delay, MIN_NAP_S))
            if isinstance(base, VirtualClock):
                # simulated time passes at once: nothing can come in between (tests, bench)
                await sleep
                continue
            if await self._sleep_or_wake(sleep):
                return

    async def _sleep_or_wake(self, sleep: Coroutine[Any, Any, None]) -> bool:
        """Await ``sleep`` unless woken first; True when woken."""
        self._wake.clear()
        sleeper = asyncio.ensure_future(sleep)
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            return waker.done()
        finally:
            for t in (sleeper, waker):
                if not t.done():
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t

    def _next_wake(self) -> float:
        now = self.clock.now()
        # one pass over the flights (every wake makes it, thousands per drill)
        tracking: list[Flight] = []
        candidates: list[float] = []
        expected: list[float] = []
        for f in self._flights.values():
            phase = f.phase
            if phase is Phase.TRACKING:
                tracking.append(f)
                if f.prediction is not None and f.prediction.known:
                    expected.append(f.prediction.duration_s)
            elif phase is Phase.RETRY or phase is Phase.LOST:
                candidates.append(f.due)
        if tracking:
            if self._explicit_interval is None:
                self.poll_interval = poll_floor(None, expected, DEFAULT_POLL_INTERVAL_S)
            windows = [self._window(f) for f in tracking]
            self._poll_at = next_poll(windows, now, self._last_poll, self.poll_interval)
            candidates.append(self._poll_at)
        else:
            self._poll_at = float("inf")
        verify = self._verify_due(now)
        if verify is not None:
            candidates.append(verify)
        wake = max(min(candidates), now) if candidates else now + self.poll_interval
        if self._learning() and tracking:
            # no sleep long on our clock before the cloud's pace is known: poll to learn it,
            # yet never more often than a --poll-interval given (read on our clock, the
            # only one known yet: a cloud found faster is then listed less often, once)
            nap = max(LEARNING_SLEEP_S, self._explicit_interval or 0.0)
            self._poll_at = min(self._poll_at, now + self._cloud_s(nap))
            wake = min(wake, self._poll_at)
        return wake

    def _learning(self) -> bool:
        return isinstance(self.clock, CloudClock) and not self.clock.confident

    def _window(self, f: Flight) -> tuple[float, float]:
        """The policy's look window for f, recomputed only when what it depends on moved
        (every wake asks for every task in flight; most did not change since the last)."""
        assert f.history is not None
        key = (f.history.version, self.pace.version, id(f.history), self.poll_interval)
        if f.window_key != key:
            if f.prediction is None or f.window_key[1] != self.pace.version:
                f.prediction = self.pace.predict(f.estimate_s, float(f.restore.size_gb))
            f.window = look_window(f.history, f.prediction, self.poll_interval)
            f.window_key = key
        return f.window

    def _verify_due(self, now: float) -> float | None:
        waiting = [f for f in self._flights.values() if f.phase is Phase.VERIFYING]
        if not waiting:
            return None
        # each check waited for, with what confirming it would make ready
        urgent = [(f, found) for f in waiting if not f.marked and (found := self._unblocked(f))]
        if urgent and self._check_pays(urgent):
            return max(min(f.due for f, _ in urgent), self._last_verify + self.poll_interval)
        others = any(f.phase is not Phase.VERIFYING for f in self._flights.values())
        if not others or len(waiting) >= VERIFY_BATCH:
            return max(now, self._last_verify + self.poll_interval)
        return max(
            min(f.verify_since for f in waiting) + VERIFY_MAX_WAIT_S,
            self._last_verify + self.poll_interval,
        )

    async def _step(self) -> None:
        now = self.clock.now()
        retries = [f for f in self._flights.values() if f.phase is Phase.RETRY and f.due <= now]
        if retries and not self._stopping:
            await self._post_all(retries)
        lost_due = any(f.phase is Phase.LOST and f.due <= now for f in self._flights.values())
        if lost_due or self.clock.now() >= self._poll_at:
            await self._poll()
        verify = self._verify_due(self.clock.now())
        if verify is not None and verify <= self.clock.now():
            await self._check_power_on()
        self._settle_finished()

    # -- forgetting and reconciling ------------------------------------------------

    def _forget(self) -> None:
        forgotten = {a.address for a in self.plan.actions if a.action == "forget"}
        if forgotten:  # before state lets go of them
            close_forgotten(self.journal, forgotten, self.clock.now())
        for a in self.plan.actions:
            if a.action == "forget":
                self.state.remove(Address.parse(a.address))
                self.result.forgotten.append(a.address)
                self._dirty = True
                self._removed = True
        self._flush_state()

    async def _reconcile(self) -> None:
        """Look up tasks an earlier apply started before anything else happens.

        A task found is tracked whatever the state of its dependencies and however
        many are in flight: it is running in the cloud, and only watching it to the
        end keeps it from being restored again.
        """
        pending = {str(e.address): e for e in self.journal.pending()}
        todo = [a for a in self.plan.actions if a.action == "reconcile" and a.restore is not None]
        todo += [
            a
            for a in self.plan.actions
            if a.address in pending and a.action != "reconcile" and a.restore is not None
        ]
        for a in [a for a in todo if a.action == "unchanged"]:
            # state holds its success (fsynced) and the journal line saying so was lost
            # with a kill: nothing runs, the intent only needs closing
            addr = Address.parse(a.address)
            rec = self.state.restores.get(a.address)
            if rec is not None and rec.status == "succeeded":
                self.journal.finished(addr, "succeeded", self.clock.now())
                todo.remove(a)
        if not todo:
            return
        # the tasks waiting to start first, then the time-filtered listing: together they
        # show every task whatever the time filter applies to (see ``_looked_for``)
        waiting = await self._waiting_logs()
        logs = await self._list_logs(to_datetime(self.clock.now() - 30 * 86400) - CLOCK_SLACK)
        for a in todo:
            assert a.restore is not None
            addr = Address.parse(a.address)
            rec = self.state.restores.get(a.address)
            entry = pending.get(a.address)
            task_id = (
                a.task_id or (rec.task_id if rec else None) or (entry.task_id if entry else None)
            )
            since = entry.at if entry else (rec.started_at if rec else None)
            log = logs.get(task_id) if task_id else None
            if log is None and task_id:
                # a task we know by id that the listing did not show (its time filter may
                # be on the task's start, which a waiting task has not had): ask for it
                log = await self.client.get_operation_log(task_id)
            backups = {a.restore.backup.id} | ({entry.backup_id} if entry else set())
            if log is None:
                log = self._match(a.restore, logs.values(), since, backups)
            if log is None:
                log = self._match(a.restore, waiting.values(), since, backups)
            if log is None:
                # No task exists: the earlier POST never took effect. It runs now like any restore.
                self.journal.finished(addr, "void", self.clock.now())
                continue
            restore = a.restore
            if log.backup_id and log.backup_id != restore.backup.id:
                # the cloud is restoring another backup than the plan shows: state records
                # what the cloud does, so the next plan compares against the truth
                restore = restore.model_copy(
                    update={
                        "backup": PlanBackup(
                            id=log.backup_id, created_at=rec.backup.created_at if rec else None
                        )
                    }
                )
            self._claimed.add(log.id)
            flight = Flight(a, restore, addr, self.clock.now(), a.estimate_s, task_id=log.id)
            flight.previous = rec if rec is not None and rec.status != "started" else None
            flight.intent_open = True
            flight.history = self._history(flight, log)
            flight.created_cloud = log.created_at  # not ours to time: posted_at is now
            self._scheduler.adopt(addr)
            self._flights[addr] = flight
            if rec is None or rec.backup.id != restore.backup.id or rec.task_id != log.id:
                self._record(restore, "started", task_id=log.id, started=self.clock.now())
            self._emit(self._start_event(a, adopted=True, restore=restore))
            self._emit(ev.RestoreAccepted(address=a.address, task_id=log.id, ts=self._ts()))
            self._apply_log(flight, log, self.clock.now())
        self._flush_state()

    def _match(
        self,
        r: Restore,
        logs: Iterable[OperationLog],
        since: datetime | None,
        backups: set[str] | None = None,
    ) -> OperationLog | None:
        floor = (since - CLOCK_SLACK) if since else None
        wanted = backups or {r.backup.id}
        found = [
            log
            for log in logs
            if log.backup_id in wanted
            and log.target_id == r.target.id
            and log.id not in self._claimed
            and (floor is None or log.created_at is None or log.created_at >= floor)
        ]
        return (
            min(found, key=lambda x: (x.created_at or datetime.min.replace(tzinfo=UTC), x.id))
            if found
            else None
        )

    # -- starting restores ----------------------------------------------------------

    def _in_flight(self) -> int:
        return sum(1 for f in self._flights.values() if f.holds_slot)

    async def _launch_ready(self) -> None:
        free = self.parallelism - self._in_flight()
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
            f = Flight(a, a.restore, addr, now, a.estimate_s)
            f.previous = self.state.restores.get(a.address)
            self._flights[addr] = f
            self._record(a.restore, "started", task_id=None, started=now)
            flights.append(f)
            self._emit(self._start_event(a))
        try:
            self._flush_state()  # "started" is durable before any POST leaves
        except OSError as exc:
            self.result.io_error = self.result.io_error or exc
            for f in flights:  # not on disk, so never sent: as if not started
                self._io(functools.partial(self._withdraw, f, "not sent: state cannot be written"))
            raise
        await self._post_all(flights)

    def _start_event(
        self, a: Action, adopted: bool = False, restore: Restore | None = None
    ) -> ev.RestoreStarted:
        r = restore or a.restore
        assert r is not None
        return ev.RestoreStarted(
            address=a.address,
            backup_id=r.backup.id,
            target=ev.Target(kind=r.target.kind, id=r.target.id, name=r.target.name),
            batch=a.batch,
            wave=r.wave,
            estimate_s=a.estimate_s,
            depends_on=r.depends_on,
            size_gb=r.size_gb,
            adopted=adopted,
            ts=self._ts(),
        )

    async def _post_all(self, flights: list[Flight]) -> None:
        """Every intent is written (one write for the lot) before any POST leaves; each
        restore's state record says "started" on disk already (fsynced: ``_launch_ready``,
        or the first attempt's for a retry), which is what a power cut cannot take."""
        if self._stopping:
            return
        bodies = []
        try:
            for f in flights:
                body = restore_body(f.restore)
                self.journal.intent(
                    self.runlog.run_id,
                    f.addr,
                    f.restore.backup.id,
                    f.restore.target.id,
                    body_digest(body),
                    self.clock.now(),
                    sync=False,
                )
                f.intent_open = True
                bodies.append(body)
            self.journal.flush()
        except OSError as exc:
            self.result.io_error = self.result.io_error or exc
            for f in flights:  # none was sent: each leaves state as it was (``_finish``)
                f.phase = Phase.RETRY
            raise
        if len(flights) == 1:  # most launches fill one freed slot: no task to make for it
            await self._post(flights[0], bodies[0])
            return
        await asyncio.gather(
            *(self._post(f, body) for f, body in zip(flights, bodies, strict=True))
        )

    async def _post(self, f: Flight, body: dict[str, Any]) -> None:
        f.posted_at = self.clock.now()
        if f.first_posted is None:
            f.first_posted = f.posted_at
        try:
            job_id = await self.client.restore(f.restore.backup.id, body, proceed=self._may_send)
        except CloudTransportError as exc:
            if getattr(exc, "maybe_sent", True):
                self._lost(f)
            elif self._stopping:
                self._withdraw(f, "interrupted before it was sent")
            else:
                self._retry_later(f, self._cloud_s(2.0**f.attempts), str(exc))
            return
        except CloudAPIError as exc:
            if exc.status == 429:
                self._retry_later(f, self._cloud_s(2.0**f.attempts), str(exc))
            elif exc.status >= 500:
                self._lost(f)  # the cloud may have created the task before failing
            elif exc.code == "BackupService.2002" and f.backing_up_waits < BACKING_UP_MAX_WAITS:
                f.backing_up_waits += 1
                self._refused(f, BACKING_UP_RETRY_S)
                self._emit(
                    ev.RestoreWaiting(
                        address=str(f.addr),
                        reason=f"{exc.code}: {exc.message}",
                        retry_in_s=BACKING_UP_RETRY_S,
                    )
                )
            elif exc.code == "BackupService.2010":
                f.busy_answers += 1
                self._lost(f, grace=BUSY_RETRY_S)  # maybe ours (an earlier lost POST); look first
            else:
                self._close_intent(f, "failed")
                self._fail(f, exc.code or f"HTTP {exc.status}", exc.message)
            return
        except CloudError as exc:
            self._close_intent(f, "failed")
            self._fail(f, "RP501", str(exc))
            return
        if job_id is None:
            self._lost(f, grace=0.0)  # empty 202 body: find the task in the operation logs
            return
        self._accepted(f, job_id)

    def _may_send(self) -> bool:
        return not self._stopping

    def _accepted(self, f: Flight, task_id: str) -> None:
        f.task_id = task_id
        f.phase = Phase.TRACKING
        self._claimed.add(task_id)
        self.journal.accepted(f.addr, task_id, self.clock.now())
        self._record(f.restore, "started", task_id=task_id, started=f.posted_at)
        f.history = TaskHistory(
            accepted_at=f.posted_at,
            estimate_s=f.estimate_s,
            size_gb=float(f.restore.size_gb),
            last_seen=f.posted_at,
        )
        self._emit(ev.RestoreAccepted(address=str(f.addr), task_id=task_id, ts=self._ts()))

    def _lost(self, f: Flight, grace: float = LOST_GRACE_S) -> None:
        f.phase = Phase.LOST
        f.due = self.clock.now() + grace

    def _close_intent(self, f: Flight, outcome: str) -> None:
        if f.intent_open:
            self.journal.finished(f.addr, outcome, self.clock.now())
            f.intent_open = False

    def _refused(self, f: Flight, delay: float) -> None:
        """The cloud created nothing: close the intent, wait, and POST again."""
        self._close_intent(f, "void")
        f.phase = Phase.RETRY
        f.due = self.clock.now() + delay

    def _retry_later(self, f: Flight, delay: float, why: str) -> None:
        if f.attempts >= MAX_POST_ATTEMPTS:
            self._close_intent(f, "failed")
            self._fail(f, "RP502", f"gave up after {f.attempts} attempts: {why}")
            return
        f.attempts += 1
        self._refused(f, min(delay, self._cloud_s(120.0)))

    def _withdraw_unsent(self) -> None:
        """After Ctrl-C, restores waiting to be sent again are not sent: the cloud never
        accepted them, so they leave state as they were before this apply."""
        for f in [f for f in self._flights.values() if f.phase is Phase.RETRY]:
            self._withdraw(f, "interrupted before the cloud accepted it")

    def _withdraw(self, f: Flight, why: str) -> None:
        self._close_intent(f, "void")
        self._flights.pop(f.addr, None)
        self._scheduler.withdraw(f.addr)
        if f.previous is not None:
            self.state.record(f.previous)
            self._changed[f.previous.address] = f.previous
        else:
            self.state.remove(f.addr)
            self._changed.pop(str(f.addr), None)
            self._removed = True
        self._dirty = True
        self.result.withdrawn.append(str(f.addr))
        self._emit(ev.RestoreWithdrawn(address=str(f.addr), reason=why))

    # -- tracking -------------------------------------------------------------------

    async def _list_logs(
        self, start: datetime, only_tracked: bool = False
    ) -> dict[str, OperationLog]:
        keep = None
        if only_tracked:
            ids = {f.task_id for f in self._flights.values() if f.task_id}
            lost = {f.restore.backup.id for f in self._flights.values() if f.phase is Phase.LOST}

            def keep(row: Json) -> bool:
                return str(row.get("id")) in ids or (bool(lost) and restore_backup_id(row) in lost)

        logs = await self.client.list_operation_logs(
            operation_type="restore", start_time=start, keep=keep
        )
        return {log.id: log for log in logs}

    def _history(self, f: Flight, log: OperationLog) -> TaskHistory:
        created = log.created_at.timestamp() if log.created_at else f.posted_at
        return TaskHistory(
            accepted_at=created,
            estimate_s=f.estimate_s,
            size_gb=float(f.restore.size_gb),
            last_seen=created,
        )

    def _listed_from(self, f: Flight) -> datetime:
        """Where a listing must start to show f's task: its creation once a listing
        showed it; before that, its POST less a slack: short for a task the cloud
        accepted, once the clock is settled; the whole ``CLOCK_SLACK`` for a POST whose
        answer was lost (it is found by backup, target and time, and a miss there would
        send it again). Both grow by the most a task's creation was seen to precede our
        time of its POST, so a task clock behind the Date header's costs only the first
        tasks a lookup by id."""
        if f.created_cloud is not None:
            return f.created_cloud
        settled = not isinstance(self.clock, CloudClock) or self.clock.confident
        short = f.phase is Phase.TRACKING and settled
        slack = (ACCEPTED_SLACK if short else CLOCK_SLACK) + timedelta(seconds=self._task_lag_s)
        return to_datetime(f.posted_at if short else (f.first_posted or f.posted_at)) - slack

    async def _poll(self) -> None:
        watched = [f for f in self._flights.values() if f.phase in (Phase.TRACKING, Phase.LOST)]
        if not watched:
            self._poll_at = float("inf")
            return
        # POSTs whose answer was lost, due to be looked for: first among the tasks waiting
        # to start, then in the time-filtered listing (``_looked_for``)
        lost = [f for f in watched if f.phase is Phase.LOST and f.due <= self.clock.now()]
        waiting: dict[str, OperationLog] | None = None
        if lost:
            try:
                waiting = await self._waiting_logs({f.restore.backup.id for f in lost})
            except CloudError:
                waiting = None  # the lost ones wait for a later poll; the rest is listed now
        # from the oldest task in flight (``_listed_from``)
        earliest = min(self._listed_from(f) for f in watched)
        try:
            logs = await self._list_logs(earliest, only_tracked=True)
        except CloudError:
            self._last_poll = self.clock.now()
            for f in lost:
                f.due = self._last_poll + LISTING_ERROR_RETRY_S
            return
        now = self._last_poll = self.clock.now()
        due_ids = {id(f) for f in lost}
        for f in watched:
            if f.phase is Phase.LOST:
                if id(f) in due_ids:
                    self._looked_for(f, logs, waiting, now)
                continue
            assert f.task_id is not None
            log = logs.get(f.task_id)
            if log is not None:
                f.missing = 0
                self._apply_log(f, log, now)
            else:
                f.missing += 1
        await self._look_up_missing()

    def _looked_for(
        self,
        f: Flight,
        logs: dict[str, OperationLog],
        waiting: dict[str, OperationLog] | None,
        now: float,
    ) -> None:
        """A POST whose answer was lost, looked for in the tasks waiting to start (listed
        FIRST) and then in the time-filtered listing: a task its POST made was waiting when
        the first listing was made, or had started by then and is in the second, whether
        the time filter applies to a task's creation or to its start (the SDK describes
        ``start_time`` as the task's start time; UNCONFIRMED: a waiting task has not
        started, so no time window need show it). Only a miss in both means the cloud
        created nothing; without the first (it failed), nothing is concluded."""
        since = to_datetime(f.first_posted or f.posted_at)
        log = self._match(f.restore, [*logs.values(), *(waiting or {}).values()], since)
        if log is not None:
            f.post_timed = False
            self._accepted(f, log.id)
            self._apply_log(f, log, now)
        elif waiting is None:
            f.due = now + LISTING_ERROR_RETRY_S  # cannot tell: look again, never send blind
        elif self._stopping:
            self._withdraw(f, "interrupted; its request never reached the cloud")
        elif f.attempts < MAX_POST_ATTEMPTS:
            # Nothing was created: sending again cannot restore twice.
            self._retry_later(f, 0.0, "restore request lost")
        else:
            self._close_intent(f, "failed")
            if f.busy_answers:
                self._fail(
                    f,
                    "BackupService.2010",
                    f"the cloud answered {f.busy_answers} time(s) that the target is already "
                    "being restored, by a task this apply cannot find; check the target's "
                    "operation logs before planning again",
                )
            else:
                self._fail(f, "RP502", f"restore request lost {f.attempts} times")

    async def _waiting_logs(self, backups: set[str] | None = None) -> dict[str, OperationLog]:
        """Every restore task waiting to start, whenever it was made (no time filter)."""

        def keep(row: Json) -> bool:
            return backups is None or restore_backup_id(row) in backups

        logs = await self.client.list_operation_logs(
            operation_type="restore", status="waiting", keep=keep
        )
        return {log.id: log for log in logs}

    async def _look_up_missing(self) -> None:
        """A tracked task absent from two listings in a row is fetched by id: the
        listing's time filter may mean something else on a real cloud (UNCONFIRMED),
        and an apply must never wait forever for a task it cannot see."""
        for f in [
            f
            for f in self._flights.values()
            if f.phase is Phase.TRACKING and f.missing >= MISSING_POLLS
        ]:
            assert f.task_id is not None
            try:
                log = await self.client.get_operation_log(f.task_id)
            except CloudError:
                continue
            f.missing = 0
            if log is not None:
                self._apply_log(f, log, self.clock.now())
            else:
                self._close_intent(f, "failed")
                self._fail(
                    f,
                    "BackupService.6500",
                    f"task {f.task_id} of this restore no longer exists in the cloud; "
                    "check the target before planning again",
                )

    def _apply_log(self, f: Flight, log: OperationLog, seen: float) -> None:
        if log.status == "success" or log.status in _TERMINAL_FAIL:
            pass  # its outcome's event follows at once (a progress event would say less)
        elif log.progress // PROGRESS_STEP != f.progress // PROGRESS_STEP:
            # every poll sees every task: one event per step, not per poll, keeps
            # the run log and the client's CPU in proportion to the restores
            self._emit(
                ev.RestoreProgress(address=str(f.addr), progress=log.progress, ts=self._ts())
            )
        elif log.progress != f.progress:
            for live in self._live:
                live(str(f.addr), log.progress)
        f.progress = log.progress
        f.task_started = log.started_at or f.task_started
        if f.created_cloud is None and log.created_at is not None:
            f.created_cloud = log.created_at
            if f.post_timed:
                lag = f.posted_at - log.created_at.timestamp()
                self._task_lag_s = max(self._task_lag_s, lag)
            if f.history is not None:
                f.history.accepted_at = log.created_at.timestamp()
        if log.status == "success":
            f.task_ended = log.ended_at
            self._learn(f)
            self._task_succeeded(f)
            return
        if log.status in _TERMINAL_FAIL:
            f.task_ended = log.ended_at
            self._close_intent(f, "failed")
            self._fail(f, log.error_code or f"task {log.status}", log.error_message or log.status)
            return
        if f.history is None:
            f.history = self._history(f, log)
        started = log.started_at.timestamp() if log.started_at else None
        f.history.observe(
            seen, "running" if log.status == "running" else "waiting", log.progress, started
        )

    def _learn(self, f: Flight) -> None:
        if f.task_started is not None and f.task_ended is not None:
            actual = (f.task_ended - f.task_started).total_seconds()
            self.pace.learn(f.estimate_s, float(f.restore.size_gb), actual)

    def _task_succeeded(self, f: Flight) -> None:
        now = self.clock.now()
        f.succeeded_at = now
        if not (f.restore.power_on and f.restore.target.kind == "server"):
            self._succeed(f)
            return
        f.phase = Phase.VERIFYING
        f.verify_since = now
        f.due = now
        # the cloud's work is done: its slot goes to the next restore now; what depends
        # on it waits for the power-on check, made at once only when it is the last
        # thing a dependent waits for (else with others, in one request)
        f.released = True
        if f.addr in self._leaves:
            f.marked = True
            self._scheduler.succeeded(f.addr)
        else:
            self._scheduler.release_slot(f.addr)

    def _unblocked(self, f: Flight) -> list[Address | None]:
        """The restores confirming f would make ready: every other dependency of theirs
        is done or only waiting for its own check (None: one behind a join, which is not
        followed here and counts as the most urgent)."""
        found: list[Address | None] = []
        outcome, flights = self._scheduler.outcome, self._flights
        for s, before in self._after[f.addr]:
            if before is None:
                found.append(None)
                continue
            if outcome(s) != "pending":
                continue
            if all(
                p == f.addr
                or outcome(p) == "succeeded"
                or (p in flights and flights[p].phase is Phase.VERIFYING)
                for p in before
            ):
                found.append(s)
        return found

    def _check_pays(self, urgent: list[tuple[Flight, list[Address | None]]]) -> bool:
        """Would a power-on check now start something sooner? Only if a slot is free and
        what the check unblocks would take it: the ready restores do not fill the free
        slots, or one it unblocks comes before them (the scheduler's priority). Else
        every slot is busy or goes to restores already ready, and the check waits to be
        made with others (``VERIFY_BATCH``, ``VERIFY_MAX_WAIT_S``) or until it pays."""
        free = self.parallelism - self._in_flight()
        if free <= 0 or self._stopping:
            return False
        ready = self._scheduler.ready(limit=free)
        if len(ready) < free:
            return True
        floor = min(self._scheduler.priority(a) for a in ready)
        return any(
            d is None or self._scheduler.priority(d) > floor for _f, found in urgent for d in found
        )

    async def _check_power_on(self) -> None:
        waiting = [f for f in self._flights.values() if f.phase is Phase.VERIFYING]
        if not waiting:
            return
        self._last_verify = self.clock.now()
        try:
            servers = await self.client.list_servers(
                server_ids=[f.restore.target.id for f in waiting]
            )
        except CloudError:
            for f in waiting:
                f.due = self._last_verify + POWER_ON_RECHECK_S
            return
        status = {s.id: s.status for s in servers}
        now = self.clock.now()
        for f in waiting:
            state = status.get(f.restore.target.id, "missing")
            if state == "ACTIVE":
                self._succeed(f)
            elif now - (f.succeeded_at or now) >= POWER_ON_TIMEOUT_S:
                self._close_intent(f, "failed")
                self._fail(
                    f,
                    "RP503",
                    f"the restore task succeeded but server {f.restore.target.name or f.restore.target.id} "
                    f"is {state}, not ACTIVE, {POWER_ON_TIMEOUT_S / 60:.0f} minutes later",
                )
            else:
                f.due = now + max(self.poll_interval, POWER_ON_RECHECK_S)

    # -- outcomes -------------------------------------------------------------------

    def _succeed(self, f: Flight) -> None:
        self._flights.pop(f.addr, None)
        if not f.marked:
            self._scheduler.succeeded(f.addr)
        self._close_intent(f, "succeeded")
        self._record(f.restore, "succeeded", f.task_id, f.posted_at, ended=self.clock.now())
        self.result.succeeded.append(str(f.addr))
        self._emit(
            ev.RestoreSucceeded(
                address=str(f.addr),
                task_id=f.task_id,
                started_at=f.task_started,
                ended_at=f.task_ended,
                # when a listing showed the task's success (the power-on check may come later)
                seen_at=to_datetime(
                    f.succeeded_at if f.succeeded_at is not None else self.clock.now()
                ),
                size_gb=f.restore.size_gb,
                ts=self._ts(),
            )
        )

    def _fail(self, f: Flight, code: str, message: str) -> None:
        self._flights.pop(f.addr, None)
        self._record(
            f.restore,
            "failed",
            f.task_id,
            f.posted_at,
            ended=self.clock.now(),
            error=(code, message),
        )
        self.result.failed[str(f.addr)] = (code, message)
        self._emit(
            ev.RestoreFailed(
                address=str(f.addr),
                task_id=f.task_id,
                error_code=code,
                error_message=message,
                started_at=f.task_started,
                ended_at=f.task_ended,
            )
        )
        # a leaf already counted as succeeded has nothing left to skip
        newly_skipped = [] if f.marked else self._scheduler.failed(f.addr)
        for skipped in newly_skipped:
            self.result.skipped[str(skipped)] = [str(f.addr)]
            a = self._actions.get(skipped)
            r = a.restore if a else None
            self._emit(
                ev.RestoreSkipped(
                    address=str(skipped),
                    because=[str(f.addr)],
                    wave=r.wave if r else None,
                    batch=a.batch if a else None,
                    estimate_s=a.estimate_s if a else None,
                    depends_on=r.depends_on if r else [],
                )
            )

    def _settle_finished(self) -> None:
        # Outcomes and task ids reach state with the next write (before the next
        # POST, at the latest at the end): the journal already holds every task id,
        # and a restore left "started" is looked up by the next apply, never re-sent.
        # One state write per launch instead of three keeps the client cheap.
        if any(f.phase is not Phase.VERIFYING for f in self._flights.values()):
            return
        self._flush_state()

    def _finish(self) -> None:
        for f in list(self._flights.values()):
            if f.phase is Phase.RETRY:
                why = "interrupted before the cloud accepted it"
                self._io(functools.partial(self._withdraw, f, why))
            else:
                self.result.abandoned.append(str(f.addr))
        self._io(self._flush_state)
        self._io(self._compact)
        r = self.result
        if r.interrupted or r.io_error is not None:
            self._io(self._not_started)
        self._io(
            lambda: self._emit(
                ev.RunFinished(
                    counts={k: len(getattr(r, k)) for k in ev.RUN_COUNTS},
                    exit_code=r.exit_code,
                    interrupted=r.interrupted,
                )
            )
        )

    def _compact(self) -> None:
        self.state = self.store.compact(self.state)
        if not self._flights:
            # keeps the events of any intent still open (one read of the journal, not two)
            self.journal.compact()

    def _not_started(self) -> None:
        """Restores an interrupted apply never started: each is in the run log (skipped,
        with why), so the summary, the report and JUnit count every restore the plan
        had. State is untouched: the next plan shows them again."""
        withdrawn = set(self.result.withdrawn)
        for a in self._runnable:
            addr = Address.parse(a.address)
            if str(addr) in withdrawn or self._scheduler.outcome(addr) != "pending":
                continue
            self.result.not_started.append(str(addr))
            assert a.restore is not None
            self._emit(
                ev.RestoreSkipped(
                    address=str(addr),
                    reason=NOT_STARTED if self.result.interrupted else NOT_STARTED_STOPPED,
                    wave=a.restore.wave,
                    batch=a.batch,
                    estimate_s=a.estimate_s,
                    depends_on=a.restore.depends_on,
                )
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
        earlier: tuple[str, ...] = ()
        if prev is not None:
            # a new restore of the address: the task it replaces can never be its own
            # (reconcile looks up a task by backup, target and time, 15 minutes back)
            earlier = prev.earlier_tasks
            if prev.task_id and prev.task_id != task_id and prev.task_id not in earlier:
                earlier = (*earlier, prev.task_id)
            earlier = earlier[-EARLIER_TASKS:]
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
                earlier_tasks=earlier,
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
