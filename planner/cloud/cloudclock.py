"""The cloud's clock, as learned from what the cloud returns.

Every decision apply makes about a task (when to look again, how long it ran,
how late its end was noticed, the operation-log time filter, report times) is
made in the cloud's time: task timestamps are the cloud's, and subtracting one
from the client's clock is wrong whenever the two disagree (skew on a real
cloud, ``sim serve --time-scale X`` in a drill rehearsal).

The model is ``cloud = offset + rate * client``, fitted by least squares on the
``Date`` header of every response (RFC 7231, whole seconds; the API gateway
sends one with each answer). Until the cloud has answered, the model is the
identity. A rate within ``SNAP_RATE`` of 1 is taken as 1: a real cloud's clock
runs at the client's pace and the fit would otherwise wander with the header's
one-second resolution. ``now()`` never goes backwards.

``CloudClock`` is itself a ``Clock``: ``now()`` is the cloud's estimated time
and ``sleep(s)`` waits ``s`` seconds of cloud time on the client's clock. This
module owns the model only; ``planner.cloud.client`` feeds it.
"""

from __future__ import annotations

import calendar
from email.utils import parsedate_to_datetime

from planner.clock import Clock

SNAP_RATE = 0.02  # |rate - 1| below this: the cloud runs at our pace, only offset differs
MIN_SPAN_CLOUD_S = 20.0  # fit a rate only over this much of the cloud's time ...
MIN_SPAN_CLIENT_S = 0.05  # ... and this much of ours (in-process, no time passes between calls)
MAX_RATE = 1e5
BOUNDARY_S = 0.5  # two answers this close on our clock that straddle a second: read it there


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def _imf_fixdate(text: str) -> float | None:
    """``Sun, 06 Nov 1994 08:49:37 GMT`` (RFC 7231's preferred form, what gateways send),
    read without the email parser's generality (one header per response); None: another form."""
    if len(text) != 29 or text[3:5] != ", " or not text.endswith(" GMT"):
        return None
    month = _MONTHS.get(text[8:11])
    try:
        day, year = int(text[5:7]), int(text[12:16])
        hh, mm, ss = int(text[17:19]), int(text[20:22]), int(text[23:25])
    except ValueError:
        return None
    if month is None or not (1 <= day <= 31 and hh < 24 and mm < 60 and ss < 61):
        return None
    return float(calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0)))


class CloudClock:
    def __init__(self, base: Clock) -> None:
        self.base = base
        self.rate = 1.0
        self.offset = 0.0  # cloud - rate * client, in seconds
        self.observations = 0
        self.confident = False  # the rate is fitted over enough of both clocks' time
        self._t0: float | None = None  # first observation (client, cloud): origin of the sums
        self._c0 = 0.0
        self._n = 0
        self._st = self._sc = self._stt = self._stc = 0.0
        self._last_now = float("-inf")
        self._last_date: str | None = None
        self._last_ts: float | None = None  # the last header's second, read ...
        self._in_last = 0.0  # ... and when we sent the latest answer dated with it

    # -- learning ---------------------------------------------------------------

    def observe_date(self, header: str | None, sent: float, received: float) -> None:
        """A response's ``Date`` header; ``sent``/``received`` on the client's clock."""
        if not header:
            return
        if header == self._last_date:
            # the same second as the last answer: only remember how late it still was
            self._in_last = max(self._in_last, sent)
            return
        ts = _imf_fixdate(header)
        if ts is None:
            try:
                dt = parsedate_to_datetime(header)
            except (TypeError, ValueError, IndexError):
                return
            if dt.tzinfo is None:
                return
            ts = dt.timestamp()
        before, in_before = self._last_ts, self._in_last
        self._last_date, self._last_ts, self._in_last = header, ts, sent
        if before is not None and ts == before + 1.0 and received - in_before <= BOUNDARY_S:
            # The second turned between the latest answer still dated the one before (sent
            # at in_before) and this one: while answers come often, that pins the cloud's
            # time to a fraction of a second. Taking only the first answer of each second
            # at its middle instead read the cloud's clock up to half a second ahead.
            self.observe(ts, (in_before + received) / 2.0)
        else:
            # the header is the whole second in which the cloud answered, somewhere
            # between our send and receive: the middle of both intervals
            self.observe(ts + 0.5, (sent + received) / 2.0)

    def observe(self, cloud: float, client: float) -> None:
        if self._t0 is None:
            self._t0, self._c0 = client, cloud
        t, c = client - self._t0, cloud - self._c0
        self._n += 1
        self.observations += 1
        self._st += t
        self._sc += c
        self._stt += t * t
        self._stc += t * c
        self._fit()

    def _fit(self) -> None:
        n = self._n
        assert self._t0 is not None
        mean_t, mean_c = self._st / n, self._sc / n
        var_t = self._stt / n - mean_t * mean_t
        rate = self.rate
        if n >= 2 and var_t > 0:
            span_client = 2.0 * var_t**0.5
            slope = (self._stc / n - mean_t * mean_c) / var_t
            if span_client >= MIN_SPAN_CLIENT_S and abs(slope) * span_client >= MIN_SPAN_CLOUD_S:
                rate = min(max(slope, 1.0 / MAX_RATE), MAX_RATE)
                self.confident = True
        if abs(rate - 1.0) < SNAP_RATE:
            rate = 1.0
        self.rate = rate
        # through the centre of the observations, in absolute terms
        self.offset = (self._c0 + mean_c) - rate * (self._t0 + mean_t)

    # -- reading ----------------------------------------------------------------

    def to_cloud(self, client: float) -> float:
        return self.offset + self.rate * client

    def to_client(self, cloud: float) -> float:
        return (cloud - self.offset) / self.rate

    def now(self) -> float:
        t = self.to_cloud(self.base.now())
        if t < self._last_now:
            return self._last_now
        self._last_now = t
        return t

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(max(0.0, seconds) / self.rate)

    def describe(self) -> str:
        skew = self.to_cloud(self.base.now()) - self.base.now()
        return f"rate {self.rate:.4g}x, skew {skew:+.1f} s ({self.observations} observations)"
