"""When to look at the restores in flight: a pure function of what the cloud said.

Inputs are each task's observed history (when it started, its progress at the
listings that showed it) and the pace of the restores already finished in this
run; the output is the next time to list the operation logs. All times are the
cloud's (``planner.cloud.cloudclock``): the client's clock never enters here.

The size estimate is only a prior. ``PaceModel`` refits overhead and throughput
from finished restores (least squares, falling back to the median ratio of
actual to estimated duration), so once a few restores finished, the rest are
predicted at the cloud's real pace. A running task's own progress then refines
its end: linearly from its start, and from the rate between two listings (the
earlier end of the two, so a setup phase at 0 % does not make us late).

For each task, ``look_window`` gives (ideal, latest): the ideal moment to look
(its predicted end, or a probe while its end is uncertain) and the latest one
that still notices its end within ``END_SHARE`` of its duration. ``next_poll``
takes the earliest ideal and stretches it to cover others whose ideal falls
before every latest so far (one listing serves every task in flight), never
sooner than ``poll_interval`` after the previous listing.

A task is also looked at every ``WATCH_SHARE`` of its expected duration, so a
failure, which can come at any time, is noticed soon; while many restores are
in flight that costs nothing, since their ends bring listings anyway.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

END_SHARE = 0.04  # notice an end within this share of the task's duration (target: 5 %)
COALESCE_SHARE = 0.02  # delay a look by at most this share to serve other tasks too
WATCH_SHARE = 0.25  # look at a running task at least this often (failures, odd progress)
# look this much after a predicted end. Its error (whole-second times, integer progress)
# is larger than the 0.2 % this was: 151 of 1,111 listings of bench/apply_makespan.py came
# before the end they were for. At 0.6 %: 0.15-0.23 fewer requests per restore in every
# row of bench/apply_robustness.py, 1.010-1.011x instead of 1.009-1.010x, p95 of lateness
# still under half its allowance.
MARGIN_SHARE = 0.006
UNKNOWN_PACE_LOW = 0.1  # before anything finished: a task may take 10x less than estimated
PROBE_S = 2.0  # ... or far less (a snapshot-mode restore takes seconds): look this soon, then
# at doubling intervals, until a first restore finished or the task shows progress
MIN_PROGRESS_SPAN = 20  # progress points between two listings before their rate is trusted
AUTO_POLL_MIN_S = 0.5  # no --poll-interval: the shortest wait between listings (poll_floor) ...
AUTO_POLL_SHARE = 0.1  # ... a tenth of the shortest restore the pace model expects in flight
MIN_FIT_SAMPLES = 4
SAMPLES = 256
REFIT_SHARE = 16  # refit after this share of the samples is new (see PaceModel)


@dataclass
class TaskHistory:
    """What the listings showed of one task (cloud times, seconds since the epoch)."""

    accepted_at: float  # when the cloud accepted it (its created_at, else our estimate)
    estimate_s: float  # the plan's prior
    size_gb: float = 0.0
    started_at: float | None = None  # the task's started_at, once running
    status: str = "waiting"  # waiting | running (terminal tasks leave the policy)
    last_seen: float = 0.0  # the listing that last showed it unfinished
    progress: int = 0
    first_progress: tuple[float, int] | None = (
        None  # (time, progress) of the first listing with progress > 0
    )
    version: int = 0  # bumped by every observation (callers cache what they derive from it)

    def observe(self, at: float, status: str, progress: int, started_at: float | None) -> None:
        self.version += 1
        self.last_seen = max(self.last_seen, at)
        self.status = status
        if started_at is not None:
            self.started_at = started_at
        if progress > 0 and self.first_progress is None:
            self.first_progress = (at, progress)
        self.progress = max(self.progress, progress)

    @property
    def start(self) -> float:
        return self.started_at if self.started_at is not None else self.accepted_at


@dataclass(frozen=True)
class Prediction:
    duration_s: float  # expected duration of a task of this size
    low: float  # the shortest plausible duration, as a share of duration_s (0 < low <= 1)
    known: bool = True  # False: nothing finished yet, this is the plan's estimate


@dataclass
class PaceModel:
    """Duration = overhead + size / throughput, refitted from finished restores.

    The fit and its spread are computed when the samples moved enough to change
    them, not per look: every wake asks for the prediction of every task in flight,
    and every new fit makes each of them recompute its window. While few restores
    finished, each one refits; then every ``n // REFIT_SHARE`` new samples do (one
    more sample among 100 moves a least-squares fit by about 1 %, far below the
    spread it is judged with).
    """

    samples: deque[tuple[float, float, float]] = field(
        default_factory=lambda: deque(maxlen=SAMPLES)
    )
    _fit_cache: tuple[tuple[float, float] | None, float, float] | None = (
        None  # (fit, ratio, spread)
    )
    version: int = 0  # bumped by every refit (callers cache what they derive from it)
    _unfitted: int = 0  # samples learned since the last refit

    def learn(self, estimate_s: float, size_gb: float, actual_s: float) -> None:
        if actual_s > 0 and estimate_s > 0:
            self.samples.append((max(estimate_s, 1.0), max(size_gb, 0.0), actual_s))
            self._unfitted += 1
            if self._unfitted >= max(1, len(self.samples) // REFIT_SHARE):
                self._fit_cache = None
                self._unfitted = 0
                self.version += 1

    @property
    def finished(self) -> int:
        return len(self.samples)

    def predict(self, estimate_s: float, size_gb: float) -> Prediction:
        n = len(self.samples)
        if n == 0:
            return Prediction(max(estimate_s, 1.0), UNKNOWN_PACE_LOW, known=False)
        fit, ratio, spread = self._refit()
        duration = fit[0] + fit[1] * size_gb if fit is not None else max(estimate_s, 1.0) * ratio
        return Prediction(max(duration, 0.5), max(UNKNOWN_PACE_LOW, math.exp(-spread)))

    def _refit(self) -> tuple[tuple[float, float] | None, float, float]:
        if self._fit_cache is not None:
            return self._fit_cache
        n = len(self.samples)
        fit = self._fit() if n >= MIN_FIT_SAMPLES else None
        ratio = _quantile([a / e for e, _s, a in self.samples], 0.5)
        if fit is not None:
            overhead, per_gb = fit
            errors = [
                abs(math.log(a / max(overhead + per_gb * s, 1e-3))) for _e, s, a in self.samples
            ]
        else:
            errors = [abs(math.log(a / e / ratio)) for e, _s, a in self.samples]
        spread = _quantile(errors, 0.9) * 1.25 + (0.05 if n >= 8 else 0.3 if n >= 3 else 0.7)
        self._fit_cache = (fit, ratio, spread)
        return self._fit_cache

    def _fit(self) -> tuple[float, float] | None:
        xs = [s for _e, s, _a in self.samples]
        ys = [a for _e, _s, a in self.samples]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        vx = sum((x - mx) ** 2 for x in xs)
        if vx <= 1e-9 or mx <= 0:
            return None
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / vx
        if slope <= 0:
            return None
        return max(my - slope * mx, 0.0), slope


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def predicted_end(task: TaskHistory, pred: Prediction) -> tuple[float, float]:
    """(expected end, earliest plausible end) of an unfinished task, in cloud time."""
    if task.status != "running":
        # queued behind the cloud's quota: it cannot end before it starts
        begin = max(task.last_seen, task.accepted_at)
        return begin + pred.duration_s, begin + pred.duration_s * pred.low
    start = task.start
    model_end = start + pred.duration_s
    model_low = start + pred.duration_s * pred.low
    if task.progress <= 0:
        return max(model_end, task.last_seen), max(model_low, task.last_seen)
    elapsed = max(task.last_seen - start, 1e-3)
    p = task.progress
    # linear from the start: p % done means between p and p+1 % of the work is behind it
    # (scalars, not lists: every listing recomputes this for every task in flight)
    end = start + elapsed * 100.0 / (p + 0.5)
    low = linear_low = start + elapsed * 100.0 / (p + 1.0)
    first = task.first_progress
    if first is not None and p - first[1] >= MIN_PROGRESS_SPAN and task.last_seen > first[0]:
        span = task.last_seen - first[0]
        rate = (p - first[1]) / span
        fastest = (p - first[1] + 1) / span
        end = min(end, task.last_seen + (100.0 - p - 0.5) / rate)
        low = min(low, task.last_seen + (99.0 - p) / fastest)
    if p < 10 and model_end >= linear_low:
        # a few percent say little yet: keep the model's view in the mix, where the
        # progress seen does not rule it out (at p % it cannot end before linear_low)
        end = min(end, model_end)
        low = min(low, max(model_low, linear_low))
    return max(end, task.last_seen), max(low, task.last_seen)


def look_window(task: TaskHistory, pred: Prediction, poll_interval: float) -> tuple[float, float]:
    """(ideal, latest) cloud times to look at this task next."""
    end, low = predicted_end(task, pred)
    start = task.start if task.status == "running" else max(task.last_seen, task.accepted_at)
    expected = max(end - start, pred.duration_s * pred.low, 1.0)
    # were it to end at the earliest plausible moment, this look still notices it in time
    by_low = low + max(poll_interval, END_SHARE * (low - start))
    watch = task.last_seen + max(poll_interval, WATCH_SHARE * expected)
    ideal = min(end + MARGIN_SHARE * expected, by_low, watch)
    if not pred.known and task.progress <= 0:
        # the cloud's pace is unknown and this task shows none: probe, doubling the wait
        since = max(task.last_seen - task.accepted_at, 0.0)
        ideal = min(ideal, task.last_seen + max(poll_interval, PROBE_S, since))
    latest = ideal + COALESCE_SHARE * max(ideal - start, 0.0)
    return ideal, latest


def poll_floor(explicit: float | None, expected_s: Iterable[float], default: float) -> float:
    """The least time between two listings: ``--poll-interval`` when one was given.

    Otherwise the default, shortened to a tenth of the shortest duration the pace
    model expects of a task in flight, but never below ``AUTO_POLL_MIN_S``: restores
    of a few seconds (``snapshot`` mode) are not left waiting for a listing every
    5 s (1.34x the lower bound in ``bench/apply_robustness.py``), while restores of
    minutes or hours poll exactly as before. Only known paces count (``Prediction.known``).
    """
    if explicit is not None:
        return max(0.0, explicit)
    shortest = min(expected_s, default=math.inf)
    return min(default, max(AUTO_POLL_MIN_S, AUTO_POLL_SHARE * shortest))


def next_poll(
    windows: Iterable[tuple[float, float]], now: float, last_poll: float, poll_interval: float
) -> float:
    """The next listing time: the earliest ideal, stretched to serve the tasks whose
    ideal comes before every latest seen so far."""
    ordered = sorted(windows)
    if not ordered:
        return max(now, last_poll + poll_interval)
    at, limit = ordered[0]
    for ideal, latest in ordered[1:]:
        if ideal > limit:
            break
        at = ideal
        limit = min(limit, latest)
    return max(at, now, last_poll + poll_interval)
