"""Retry policy for idempotent reads (GET): 429, 5xx and transport errors.

Owns when and how long to wait between attempts. Exponential backoff with
full jitter, honouring a 429's Retry-After; bounded attempts and total time,
both on the injected Clock. Never used for POST restore: a restore that may have
reached the cloud must not be sent twice (apply decides, with the op-log).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from planner.clock import Clock
from planner.cloud.errors import CloudAPIError, CloudTransportError

T = TypeVar("T")
log = logging.getLogger(__name__)
NOTICE_FROM_ATTEMPT = 3  # a lasting problem is shown on stderr from this attempt on

MAX_ATTEMPTS = 8
MAX_TOTAL_S = 300.0
BASE_S = 0.5
CAP_S = 30.0


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, CloudTransportError):
        return True
    return isinstance(exc, CloudAPIError) and (exc.status == 429 or exc.status >= 500)


class RetryPolicy:
    def __init__(
        self,
        clock: Clock,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        max_total_s: float = MAX_TOTAL_S,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.max_attempts = max_attempts
        self.max_total_s = max_total_s
        self._rng = rng or random.Random()

    def delay(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if isinstance(exc, CloudAPIError) and exc.retry_after is not None:
            return min(exc.retry_after, CAP_S * 4)
        return self._rng.uniform(0.0, min(CAP_S, BASE_S * 2 ** (attempt - 1)))

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        started = self.clock.now()
        # Fast path: most calls succeed at once, and building tenacity's machinery for
        # each of thousands of polls cost more CPU than the request itself.
        try:
            return await fn()
        except Exception as exc:
            if not is_retryable(exc) or self.max_attempts <= 1:
                raise
            await self.clock.sleep(self.delay(1, exc))

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.delay(state.attempt_number + 1, exc)

        def before_sleep(state: RetryCallState) -> None:
            # silence through half a minute of retries looks like a hang
            attempt = state.attempt_number + 2  # the fast path made the first attempt
            delay = state.next_action.sleep if state.next_action else 0.0
            if attempt == NOTICE_FROM_ATTEMPT or (attempt > NOTICE_FROM_ATTEMPT and delay >= 5.0):
                exc = state.outcome.exception() if state.outcome else None
                log.warning(
                    "note: the cloud is not answering (%s); trying again in %.0f s (attempt %d of %d)",
                    exc, delay, attempt, self.max_attempts,
                )  # fmt: skip

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number + 1 >= self.max_attempts:
                return True
            return self.clock.now() - started >= self.max_total_s

        retrying: AsyncRetrying = AsyncRetrying(
            sleep=self.clock.sleep,
            wait=wait,
            stop=stop,
            retry=retry_if_exception(is_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        return await retrying(fn)
