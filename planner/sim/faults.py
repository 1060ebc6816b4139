"""Fault injection from a seed, and the request-rate token bucket.

``FaultPlan.parse("5xx=0.05,429=0.05,lost=0.02,reset=0.01,task_fail=0.02,slow=0.01")``
gives probabilities; ``FaultInjector.draw()`` makes one decision per API request
from its own seeded RNG, always drawing every kind in a fixed order, so the same
seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from planner.errors import UserError

KINDS = ("5xx", "429", "lost", "reset", "task_fail", "slow")


@dataclass(frozen=True, slots=True)
class FaultPlan:
    rates: dict[str, float]

    @staticmethod
    def parse(spec: str) -> FaultPlan:
        rates = dict.fromkeys(KINDS, 0.0)
        for raw in (p.strip() for p in spec.split(",")):
            if not raw:
                continue
            name, sep, value = raw.partition("=")
            name = name.strip()
            if not sep:
                raise UserError(f"bad fault spec {raw!r}: expected KIND=PROBABILITY, e.g. 5xx=0.05")
            if name not in rates:
                raise UserError(
                    f"unknown fault kind {name!r} in {spec!r}: known kinds are {', '.join(KINDS)}"
                )
            try:
                prob = float(value)
            except ValueError:
                raise UserError(
                    f"bad probability {value.strip()!r} for fault {name}: expected a number from 0 to 1"
                ) from None
            if not 0.0 <= prob <= 1.0 or math.isnan(prob):
                raise UserError(
                    f"bad probability {value.strip()!r} for fault {name}: expected a number from 0 to 1"
                )
            rates[name] = prob
        return FaultPlan(rates)


@dataclass(frozen=True, slots=True)
class Faults:
    """The decisions for one API request (at most one of the response faults applies)."""

    reset: bool = False
    error_5xx: int = 0  # 500 or 503, 0 for none
    throttle: bool = False
    lost: bool = False
    slow: bool = False
    task_fail: bool = False


class FaultInjector:
    def __init__(self, plan: FaultPlan, seed: int) -> None:
        self.plan = plan
        self._rng = random.Random(f"faults:{seed}")

    def draw(self) -> Faults:
        r = self.plan.rates
        u = {k: self._rng.random() for k in KINDS}
        pick = self._rng.random()
        return Faults(
            reset=u["reset"] < r["reset"],
            error_5xx=(503 if pick < 0.5 else 500) if u["5xx"] < r["5xx"] else 0,
            throttle=u["429"] < r["429"],
            lost=u["lost"] < r["lost"],
            slow=u["slow"] < r["slow"],
            task_fail=u["task_fail"] < r["task_fail"],
        )


class TokenBucket:
    """``rate`` tokens per second, burst ``rate`` (at least 1), on the given time source."""

    def __init__(self, rate: float, now: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._now = now
        self._tokens = self.capacity
        self._last = now()

    def take(self) -> float:
        """0.0 when a token was taken, else seconds until one is available."""
        t = self._now()
        self._tokens = min(self.capacity, self._tokens + max(0.0, t - self._last) * self.rate)
        self._last = t
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate
