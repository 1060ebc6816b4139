"""The simulator: one object holding inventory state, tasks, clock, faults, ledger.

``Simulator.handle(SimRequest) -> SimResponse`` is the whole request pipeline,
framework-free: count, faults (reset, 5xx, 429), rate limit, auth, project
check, endpoint, then response faults (lost, slow) for the transport to act
on. The Starlette app (``planner.sim.app``) and the in-process transport
(``planner.sim.transport``) are thin adapters over it. All state changes
happen under one lock, so a server thread and a test thread may share it.

Time: the simulator runs on ``self.clock``, which is the given clock or, with
a clock skew, a ``SimClock`` that far ahead of it. Every time it returns (task
times, the ``Date`` header every response carries, token times, the ledger)
and every time filter it reads is on that clock, skew included; only the
inventory's own backup times are taken as written. The client learns this
clock only from what the simulator returns.
"""

from __future__ import annotations

import math
import random
import threading
import uuid
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from planner.clock import Clock, ScaledClock
from planner.sim import api
from planner.sim.auth import Authenticator
from planner.sim.clock import SimClock
from planner.sim.faults import FaultInjector, FaultPlan, Faults, TokenBucket
from planner.sim.http import SimRequest, SimResponse, cbr_error, service_error
from planner.sim.inventory import SERVER_TYPE, Credentials, Inventory
from planner.sim.pace import pace_multiplier, protecting_seconds, restore_seconds
from planner.sim.rules import Accepted
from planner.sim.state import SimState
from planner.sim.tasks import Task, TaskEngine
from planner.timefmt import rfc3339_ms, rfc3339_s

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

_PROJECT_PATH = ("/v1/", "/v2/", "/v3/")
SLOW_FACTOR = 3.0


class Simulator:
    def __init__(
        self,
        inventory: Inventory,
        clock: Clock | None = None,
        faults: str = "",
        seed: int = 0,
        time_scale: float = 1.0,
        *,
        rate_clock: Clock | None = None,
        clock_skew_s: float | None = None,
    ) -> None:
        self.base_clock: Clock = clock if clock is not None else ScaledClock(time_scale)
        skew = inventory.rules.clock_skew_s if clock_skew_s is None else clock_skew_s
        self.clock_skew_s = skew
        self.clock: Clock = SimClock(self.base_clock, offset=skew) if skew else self.base_clock
        self.seed = seed
        self.state = SimState(inventory)
        self.engine = TaskEngine(self.state)
        self._restores_of: dict[
            str, int
        ] = {}  # backup id -> restores accepted (keys the pace draw)
        start = self.clock.now()
        for bid in self.state.top_backups:
            if self.state.backups[bid].status == "protecting":
                self.engine.schedule_backup_done(
                    bid, start + protecting_seconds(inventory.rules, seed, bid)
                )
        self.credentials: Credentials = inventory.credentials
        self.project_id = inventory.project_id
        self.region = inventory.region
        self.fault_plan = FaultPlan.parse(faults)
        self._injector = FaultInjector(self.fault_plan, seed)
        self._bucket = TokenBucket(inventory.rules.rate_per_s, (rate_clock or self.clock).now)
        self.auth = Authenticator(self.credentials, self.project_id, self.region, self.clock.now)
        self._ids = random.Random(f"ids:{seed}")
        self._lock = threading.RLock()
        self._app: Starlette | None = None
        self.requests = 0
        # the faults drawn for the request being handled (its handler reads them)
        self.pending_faults = Faults()
        self.slow_delay_s = 2.0  # clock seconds a `slow` response is held back
        self.lost_hold_s = 1.0  # real seconds a `lost` HTTP connection is held before closing

    # ---- the pipeline --------------------------------------------------------------

    def handle(self, req: SimRequest) -> SimResponse:
        with self._lock:
            self.requests += 1
            self.engine.advance(self.clock.now())
            faults = self._injector.draw()
            resp = self._handle(req, faults)
            resp.headers.setdefault("X-Request-Id", self._new_id())
            resp.headers["Date"] = self.date_header()
            return resp

    def date_header(self) -> str:
        """RFC 7231 ``Date`` on the simulator's clock, as the cloud's API gateway sends on every response."""
        return formatdate(self.clock.now(), usegmt=True)

    def _handle(self, req: SimRequest, faults: Faults) -> SimResponse:
        if faults.reset:
            return SimResponse(0, faults=Faults(reset=True))
        wait = self._bucket.take()
        if wait > 0 or faults.throttle:
            return _throttled(max(wait, 1.0))
        if faults.error_5xx:
            code = "BackupService.9910" if faults.error_5xx == 500 else "APIGW.0202"
            msg = (
                "Unknown error." if faults.error_5xx == 500 else "Service temporarily unavailable."
            )
            return service_error(req.path, faults.error_5xx, code, msg)
        if req.method == "POST" and req.path.rstrip("/") == "/v3/auth/tokens":
            resp = self.auth.login(req)
        else:
            resp = self._api(req, faults)
        resp.faults = Faults(lost=faults.lost, slow=faults.slow)
        return resp

    def _api(self, req: SimRequest, faults: Faults) -> SimResponse:
        found = api.find_route(req.method, req.path)
        if found is None:
            return api.not_found(req)
        denied = self.auth.check(req)
        if denied is not None:
            return denied
        if req.path.startswith(_PROJECT_PATH) and req.path.rstrip("/") != "/v3/projects":
            project = req.path.split("/")[2]
            if project != self.project_id:
                return service_error(
                    req.path,
                    403,
                    "APIGW.0302",
                    f"The project {project} in the path is not the authorized project.",
                )
        if isinstance(found, str):
            return api.method_not_allowed(req)
        handler, args = found
        # the restore handler reads this in accept(): task_fail/slow are decided per request
        self.pending_faults = faults
        return handler(self, req, args)

    # ---- restores ------------------------------------------------------------------

    def accept(self, acc: Accepted, req: SimRequest) -> str:
        """Turn an accepted restore into a queued task; returns its job id."""
        rules = self.state.rules
        faults = self.pending_faults
        nth = self._restores_of.get(acc.backup.id, 0)
        self._restores_of[acc.backup.id] = nth + 1
        pace = pace_multiplier(rules, self.seed, f"{acc.backup.id}:{acc.target_id}:{nth}")
        disks = len(acc.mappings) if acc.backup.resource_type == SERVER_TYPE else len(acc.volumes)
        duration = restore_seconds(rules, acc.backup.restore_mode, disks, acc.size_gb, pace)
        if faults.slow:
            duration *= SLOW_FACTOR
        task = Task(
            id=self._new_id(),
            backup_id=acc.backup.id,
            target_kind=acc.target_kind,
            target_id=acc.target_id,
            target_name=acc.target_name,
            mappings=acc.mappings,
            volumes=acc.volumes,
            power_on=acc.power_on,
            duration=duration,
            fail=faults.task_fail,
            accepted_at=self.clock.now(),
            request_id=req.headers.get("x-request-id", "") or self._new_id(),
            step=rules.progress_step,
        )
        self.engine.submit(task, task.accepted_at)
        return task.id

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # ---- views for tests and adapters ------------------------------------------------

    def ledger(self) -> dict[str, Any]:
        with self._lock:
            self.engine.advance(self.clock.now())
            return {
                "restores": [_ledger_entry(self.engine.tasks[t]) for t in self.engine.order],
                "requests": self.requests,
            }

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "ok",
                "now": rfc3339_s(self.clock.now()),
                "tasks": len(self.engine.order),
            }

    @property
    def app(self) -> Starlette:
        if self._app is None:
            from planner.sim.app import build_app

            self._app = build_app(self)
        return self._app

    def transport(self) -> httpx.AsyncBaseTransport:
        from planner.sim.transport import SimTransport

        return SimTransport(self)

    def with_faults(self, **changes: float) -> None:
        """Change fault probabilities in place (tests); keeps the RNG sequence."""
        rates = dict(self.fault_plan.rates, **changes)
        self.fault_plan = FaultPlan(rates)
        self._injector.plan = self.fault_plan


def _throttled(wait: float) -> SimResponse:
    resp = cbr_error(
        429, "APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit"
    )
    resp.headers["Retry-After"] = str(math.ceil(wait))
    return resp


def _ledger_entry(t: Task) -> dict[str, Any]:
    return {
        "job_id": t.id,
        "backup_id": t.backup_id,
        "target_kind": t.target_kind,
        "target_id": t.target_id,
        "mappings": [{"backup_id": b, "volume_id": v} for b, v in t.mappings],
        "power_on": t.power_on,
        "accepted_at": rfc3339_s(t.accepted_at),
        "started_at": rfc3339_s(t.started_at) if t.started_at is not None else None,
        "ended_at": rfc3339_s(t.ended_at) if t.ended_at is not None else None,
        # the same to the millisecond: the cloud answers in whole seconds, benches measure
        # how soon a restore of seconds was seen
        "started_at_ms": rfc3339_ms(t.started_at) if t.started_at is not None else None,
        "ended_at_ms": rfc3339_ms(t.ended_at) if t.ended_at is not None else None,
        # when an answer (a listing or a lookup) first showed it ended
        "reported_at_ms": rfc3339_ms(t.reported_at) if t.reported_at is not None else None,
        "status": t.status,
    }
