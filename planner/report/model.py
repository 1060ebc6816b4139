"""Run log events -> RunReport: what happened to each restore, per wave and per run.

Owns the report model and ``build_report`` (pure: events in, report out). It
does not read files (``planner.apply.runlog`` does), reads each line through
``planner.apply.events`` (tolerantly: a damaged field is unknown, not fatal),
and does not render (markdown, html, junit do, from this model only, so the
formats agree).

A restore's start is the cloud task's ``started_at`` when the log has it (the
time the cloud actually began), else the ``restore_started`` event time; its
end is the task's ``ended_at``. A restore that started but has no outcome in the
log (the apply was interrupted or killed) is ``unknown``.

How soon apply noticed a task's end (``noticed_after_s``) is the listing that
showed it (``restore_succeeded``'s ``seen_at``; the event's time in logs from
before it had one, and for a task the cloud failed) less the task's ``ended_at``:
both on the cloud's clock, and counted from the middle of the second the cloud
names when its times are whole seconds. A failure of ours (``RP5xx``: a server not ACTIVE
after a finished task, a request lost) is no task's end, and is not counted; nor
is a task an earlier apply started (``adopted``), which may have ended while no
apply was running.

A restore started but withdrawn (``restore_withdrawn``: the cloud never accepted
it) is ``skipped``, with the reason: nothing ran, and the next plan proposes it
again.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.apply import events as ev

Outcome = Literal["succeeded", "failed", "skipped", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("succeeded", "failed", "skipped", "unknown")
# clock skew allowed between the planner's event times and the cloud's task times
_SKEW_S = 1.0
_OUR_CODE = re.compile(r"RP\d+\Z")  # planner.errors' codes, not the cloud's


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Target(_Model):
    kind: str = ""
    id: str = ""
    name: str = ""


class RestoreResult(_Model):
    address: str
    outcome: Outcome
    wave: int | None = None
    batch: int | None = None
    backup_id: str = ""
    target: Target | None = None
    task_id: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    duration_s: float | None = None
    estimate_s: float | None = None
    ratio: float | None = None  # actual / estimate
    size_gb: float | None = None
    timed_by: Literal["cloud", "planner", "none"] = "none"
    error_code: str | None = None
    error_message: str | None = None
    skipped_because: list[str] = Field(default_factory=list)
    skipped_reason: str = ""  # when no dependency failed (an interrupted apply)
    skipped_at: datetime | None = None
    noticed_after_s: float | None = None  # the task's end -> the listing that showed it
    adopted: bool = False  # an earlier apply started it; this run tracked it to its end
    # seen ended more than the skew allowance before the cloud's end time: the run log's
    # clock and the cloud's disagree, so how late it was noticed is not known
    clocks_disagree: bool = False


class Noticing(_Model):
    """How soon apply saw the tasks' ends: what polling cost the drill."""

    count: int
    p50_s: float
    p95_s: float
    max_s: float
    p95_share: float  # of each restore's own duration


class WaveSummary(_Model):
    wave: int | None
    count: int
    outcomes: dict[str, int]
    first_start: datetime | None = None
    last_end: datetime | None = None
    wall_s: float | None = None  # first start -> last end: how long the tier took
    # the run's origin -> last end: when the tier was back (never negative)
    ready_after_s: float | None = None


class PathStep(_Model):
    address: str
    start: datetime
    end: datetime
    duration_s: float
    wait_s: float  # since the dependency before it on the path finished (slots, polling)


class RunReport(_Model):
    run_id: str
    parallelism: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # what "ready after" counts from: the run's start, or the start of the first restore
    # it adopted from an earlier (interrupted) apply when that was earlier
    origin: datetime | None = None
    adopted: int = 0  # restores an earlier apply started, tracked to their end by this one
    finished: bool = False  # the log has run_finished (false: the apply was killed)
    interrupted: bool = False
    exit_code: int | None = None
    plan_summary: dict[str, int] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)  # our outcomes, plus unchanged
    first_start: datetime | None = None
    last_end: datetime | None = None
    makespan_s: float | None = None  # first restore start -> last restore end
    estimated_makespan_s: float | None = None
    makespan_ratio: float | None = None
    estimated_critical_path: list[str] = Field(default_factory=list)
    critical_path: list[PathStep] = Field(default_factory=list)
    waves: list[WaveSummary] = Field(default_factory=list)
    noticing: Noticing | None = None  # None: no task end with both times in the log
    restores: list[RestoreResult] = Field(default_factory=list)


def _row(rows: dict[str, dict[str, Any]], address: str) -> dict[str, Any]:
    return rows.setdefault(address, {"address": address, "outcome": "unknown"})


def _take_placement(row: dict[str, Any], e: ev.RestoreStarted | ev.RestoreSkipped) -> None:
    """Wave, batch, estimate and dependencies, from whichever event carries them."""
    for key, value in (("wave", e.wave), ("batch", e.batch), ("estimate_s", e.estimate_s)):
        if value is not None:
            row[key] = float(value) if key == "estimate_s" else value
    if e.depends_on:
        row["depends_on"] = list(e.depends_on)


def _apply_event(rows: dict[str, dict[str, Any]], e: ev.RestoreEvent) -> None:
    row = _row(rows, e.address)
    if isinstance(e, ev.RestoreStarted):
        _take_placement(row, e)
        row["backup_id"] = e.backup_id
        if "target" in e.model_fields_set:
            row["target"] = Target(kind=e.target.kind, id=e.target.id, name=e.target.name)
        row["posted"] = e.ts
        row["adopted"] = e.adopted
    elif isinstance(e, ev.RestoreAccepted):
        row["task_id"] = e.task_id or None
    elif isinstance(e, ev.RestoreSucceeded | ev.RestoreFailed):
        row["outcome"] = "succeeded" if isinstance(e, ev.RestoreSucceeded) else "failed"
        row["task_id"] = e.task_id or row.get("task_id")
        row["cloud_start"], row["cloud_end"] = e.started_at, e.ended_at
        row["logged_end"] = e.ts
        if isinstance(e, ev.RestoreSucceeded):
            row["size_gb"] = float(e.size_gb) if e.size_gb is not None else None
            row["seen"] = e.seen_at or e.ts
        else:
            row["size_gb"] = None
            row["error_code"] = e.error_code or "unknown"
            row["error_message"] = e.error_message
            row["seen"] = None if _OUR_CODE.match(e.error_code) else e.ts
    elif isinstance(e, ev.RestoreSkipped):
        _take_placement(row, e)
        row["outcome"] = "skipped"
        row["skipped_because"] = list(e.because)
        row["skipped_reason"] = e.reason
        row["skipped_at"] = e.ts
    elif isinstance(e, ev.RestoreWithdrawn):
        # started, never accepted by the cloud (Ctrl-C, a full disk): nothing ran and
        # state is as before, so it is not an unknown outcome for the next plan to
        # reconcile but a restore not done, which the next plan proposes again
        row["outcome"] = "skipped"
        row["skipped_because"] = []
        why = e.reason or "the apply stopped"
        row["skipped_reason"] = (
            f"withdrawn ({why}): the cloud never accepted it; the next plan proposes it again"
        )
        row["skipped_at"] = e.ts


def _finish_row(raw: dict[str, Any]) -> RestoreResult:
    start, end, timed_by = raw.get("cloud_start"), raw.get("cloud_end"), "cloud"
    if start is None or end is None:
        start, timed_by = start or raw.get("posted"), "planner"
        end = end or raw.get("logged_end")
    if raw["outcome"] == "skipped":
        start, end, timed_by = None, None, "none"
    elif raw["outcome"] == "unknown":
        end = None
    duration = (end - start).total_seconds() if start and end else None
    seen, cloud_end = raw.get("seen"), raw.get("cloud_end")
    noticed, disagree = None, False
    # an adopted task (an earlier apply started it) may have ended while no apply ran:
    # how late this one saw it is what the interruption cost, not what polling did
    if (
        seen is not None
        and cloud_end is not None
        and raw["outcome"] != "unknown"
        and not raw.get("adopted")
    ):
        late = (seen - cloud_end).total_seconds()
        # the cloud's times are whole seconds: the task ended somewhere within the second
        # it names, so count from that second's middle, not its start (else a restore of
        # seconds looks up to a second later noticed than it was)
        within = 0.5 if cloud_end.microsecond == 0 and seen.microsecond != 0 else 0.0
        # a little before the end: the two clocks' skew; more: they are not one clock
        noticed = max(late - within, 0.0) if late >= -_SKEW_S else None
        disagree = noticed is None
    est = raw.get("estimate_s")
    fields = {k: v for k, v in raw.items() if k in RestoreResult.model_fields}
    return RestoreResult(
        **fields,
        start=start,
        end=end,
        duration_s=duration,
        ratio=duration / est
        if duration is not None and est and raw["outcome"] == "succeeded"
        else None,
        timed_by=timed_by if start else "none",
        noticed_after_s=noticed,
        clocks_disagree=disagree,
    )


def _noticing(restores: list[RestoreResult]) -> Noticing | None:
    timed = [
        (r.noticed_after_s, r.duration_s)
        for r in restores
        if r.noticed_after_s is not None and r.timed_by == "cloud"
    ]
    if not timed:
        return None
    late = sorted(n for n, _ in timed)
    shares = sorted(n / d for n, d in timed if d is not None and d > 0)
    return Noticing(
        count=len(late),
        p50_s=_nearest_rank(late, 0.5),
        p95_s=_nearest_rank(late, 0.95),
        max_s=late[-1],
        p95_share=_nearest_rank(shares, 0.95) if shares else 0.0,
    )


def _nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _wave_key(wave: int | None) -> tuple[int, int]:
    return (0, 0) if wave is None else (1, wave)


def _waves(restores: list[RestoreResult], origin: datetime | None) -> list[WaveSummary]:
    out = []
    by_wave: dict[int | None, list[RestoreResult]] = {}
    for r in restores:  # grouped once: a run may have as many waves as restores
        by_wave.setdefault(r.wave, []).append(r)
    for wave in sorted(by_wave, key=_wave_key):
        rs = by_wave[wave]
        starts = [r.start for r in rs if r.start]
        ends = [r.end for r in rs if r.end]
        first, last = (min(starts) if starts else None), (max(ends) if ends else None)
        out.append(
            WaveSummary(
                wave=wave,
                count=len(rs),
                outcomes={o: sum(r.outcome == o for r in rs) for o in OUTCOMES},
                first_start=first,
                last_end=last,
                wall_s=(last - first).total_seconds() if first and last else None,
                ready_after_s=max(0.0, (last - origin).total_seconds())
                if origin and last
                else None,
            )
        )
    return out


def _critical_path(restores: list[RestoreResult]) -> list[PathStep]:
    """Walk back from the last to finish through the dependency that finished last before
    it started: an explicit dependency, or any restore of a lower wave (``wave: N``
    orders after them). Each step looks back from its start in the restores ordered by
    their end, so the walk costs about its length, not its length times the run's size."""
    ended = [r for r in restores if r.start and r.end]
    if not ended:
        return []
    by_addr = {r.address: r for r in ended}
    ordered = sorted(ended, key=lambda r: (r.end, r.address))
    ends = [r.end.timestamp() for r in ordered if r.end]

    def lower_wave(limit: float, wave: int) -> RestoreResult | None:
        for j in range(bisect.bisect_right(ends, limit) - 1, -1, -1):
            p = ordered[j]
            if p.wave is not None and p.wave < wave:
                return p  # the latest (end, address) of a lower wave before the limit
        return None

    cur: RestoreResult | None = ordered[-1]
    chain: list[RestoreResult] = []
    seen: set[str] = set()
    while cur is not None and cur.address not in seen:
        chain.append(cur)
        seen.add(cur.address)
        assert cur.start is not None
        limit = cur.start.timestamp() + _SKEW_S
        done = [
            p
            for p in (by_addr[a] for a in cur.depends_on if a in by_addr)
            if p.end and p.end.timestamp() <= limit
        ]
        if cur.wave is not None and (low := lower_wave(limit, cur.wave)) is not None:
            done.append(low)
        cur = max(done, key=lambda p: (p.end, p.address)) if done else None
    chain.reverse()
    steps = []
    for i, r in enumerate(chain):
        assert r.start and r.end and r.duration_s is not None
        prev_end = chain[i - 1].end if i else None
        wait = max(0.0, (r.start - prev_end).total_seconds()) if prev_end else 0.0
        steps.append(
            PathStep(
                address=r.address, start=r.start, end=r.end, duration_s=r.duration_s, wait_s=wait
            )
        )
    return steps


def build_report(lines: Iterable[object]) -> RunReport:
    """The report of a run from its log's lines as read back (``events.decode`` reads each)."""
    rows: dict[str, dict[str, Any]] = {}
    started = ev.RunStarted()
    finished: ev.RunFinished | None = None
    times: list[datetime] = []
    for line in lines:
        e = ev.decode(line)
        if e is None:
            continue
        if e.ts is not None:
            times.append(e.ts)
        if isinstance(e, ev.RunStarted):
            started = e
        elif isinstance(e, ev.RunFinished):
            finished = e
        else:
            _apply_event(rows, e)
    restores = sorted(
        (_finish_row(r) for r in rows.values()),
        key=lambda r: (
            _wave_key(r.wave),
            r.start is None,
            r.start or datetime.min.replace(tzinfo=UTC),
            r.address,
        ),
    )
    run_start = started.ts or (min(times) if times else None)
    run_end = finished.ts if finished else (max(times) if times else None)
    starts = [r.start for r in restores if r.start]
    ends = [r.end for r in restores if r.end]
    first, last = (min(starts) if starts else None), (max(ends) if ends else None)
    makespan = (last - first).total_seconds() if first and last else None
    # a run that adopted restores an earlier apply started counts from the first of them:
    # the tiers' recovery began then, and a time before the origin is never negative
    origin = min(run_start, first) if run_start and first else run_start or first
    estimate = float(started.plan_estimate_s) if started.plan_estimate_s is not None else None
    counts: dict[str, int] = {o: sum(r.outcome == o for r in restores) for o in OUTCOMES}
    fin_counts = finished.counts if finished else {}
    counts["unchanged"] = fin_counts.get("unchanged") or started.summary.get("unchanged") or 0
    return RunReport(
        run_id=started.run_id,
        parallelism=started.parallelism,
        started_at=run_start,
        finished_at=run_end,
        origin=origin,
        adopted=sum(r.adopted for r in restores),
        finished=finished is not None,
        interrupted=finished.interrupted if finished else True,
        exit_code=finished.exit_code if finished else None,
        plan_summary=dict(started.summary),
        counts=counts,
        first_start=first,
        last_end=last,
        makespan_s=makespan,
        estimated_makespan_s=estimate,
        makespan_ratio=makespan / estimate if makespan is not None and estimate else None,
        estimated_critical_path=list(started.critical_path),
        critical_path=_critical_path(restores),
        waves=_waves(restores, origin),
        noticing=_noticing(restores),
        restores=restores,
    )
