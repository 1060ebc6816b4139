"""The Starlette app over the simulator core (for `sim serve` and serve_in_thread).

API requests go through ``Simulator.handle``; ``/_sim/ledger`` and
``/_sim/health`` bypass auth, faults and the request count. Connection
faults need the socket: ``reset`` aborts it before processing, ``lost`` holds
it for ``lost_hold_s`` and then closes it with no response. uvicorn does not
expose the transport in the ASGI scope, so we reach it through the bound
``send`` callable (its RequestResponseCycle has ``.transport``), which
``_SimStarlette`` stashes in the scope before Starlette's middleware wraps it;
when that is not available we fall back to an error response.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from planner.sim.http import SimRequest

if TYPE_CHECKING:
    from planner.sim.core import Simulator


_RAW_SEND = "restore_planner.sim.raw_send"


class _SimStarlette(Starlette):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_RAW_SEND] = send
        await super().__call__(scope, receive, send)


def _drop_connection(scope: Scope) -> bool:
    cycle: Any = getattr(scope.get(_RAW_SEND), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.abort()
    return True


class _Api:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        raw_path = scope.get("raw_path") or scope["path"].encode()
        sreq = SimRequest(
            method=request.method,
            path=raw_path.decode("latin-1").split("?", 1)[0],
            query=list(request.query_params.multi_items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        resp = self._sim.handle(sreq)
        if resp.faults.reset and _drop_connection(scope):
            await asyncio.sleep(0)
            return
        if resp.faults.lost:
            await asyncio.sleep(self._sim.lost_hold_s)
            if _drop_connection(scope):
                await asyncio.sleep(0)
                return
        if resp.faults.slow:
            await self._sim.clock.sleep(self._sim.slow_delay_s)
        content = resp.content()
        headers = dict(resp.headers)
        status = resp.status or 502
        media = "application/json" if content else None
        await Response(content, status_code=status, headers=headers, media_type=media)(
            scope, receive, send
        )


def build_app(sim: Simulator) -> Starlette:
    # uvicorn's own Date header is off (planner.sim.serve): every answer carries the
    # simulator's clock, as the cloud's gateway stamps its own
    async def ledger(_: Request) -> JSONResponse:
        return JSONResponse(sim.ledger(), headers={"Date": sim.date_header()})

    async def health(_: Request) -> JSONResponse:
        return JSONResponse(sim.health(), headers={"Date": sim.date_header()})

    return _SimStarlette(
        routes=[
            Route("/_sim/ledger", ledger, methods=["GET"]),
            Route("/_sim/health", health, methods=["GET"]),
            Mount("", app=_Api(sim)),
        ]
    )
