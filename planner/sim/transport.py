"""In-process httpx transport calling the simulator core directly.

No sockets, no event-loop threads: ``httpx.AsyncClient(transport=sim.transport())``.
Injects connection faults as the exceptions a real network would give:
``reset`` -> httpx.RemoteProtocolError before anything is processed,
``lost`` -> httpx.ReadTimeout after the request took effect; ``slow`` sleeps
on the simulator's clock before answering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from planner.sim.http import SimRequest

if TYPE_CHECKING:
    from planner.sim.core import Simulator


def to_sim_request(request: httpx.Request, body: bytes) -> SimRequest:
    raw_path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    headers = {k.lower(): v for k, v in request.headers.items()}
    return SimRequest(
        request.method, raw_path, list(request.url.params.multi_items()), headers, body
    )


class SimTransport(httpx.AsyncBaseTransport):
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sreq = to_sim_request(request, body)
        if sreq.path.startswith("/_sim/"):
            return self._sim_endpoint(sreq, request)
        resp = self._sim.handle(sreq)
        if resp.faults.reset:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if resp.faults.lost:
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if resp.faults.slow:
            await self._sim.clock.sleep(self._sim.slow_delay_s)
        headers = dict(resp.headers)
        content = resp.content()
        if content:
            headers["Content-Type"] = "application/json"
        return httpx.Response(resp.status, headers=headers, content=content, request=request)

    def _sim_endpoint(self, sreq: SimRequest, request: httpx.Request) -> httpx.Response:
        date = {"Date": self._sim.date_header()}
        if sreq.method == "GET" and sreq.path.rstrip("/") == "/_sim/ledger":
            return httpx.Response(200, json=self._sim.ledger(), headers=date, request=request)
        if sreq.method == "GET" and sreq.path.rstrip("/") == "/_sim/health":
            return httpx.Response(200, json=self._sim.health(), headers=date, request=request)
        return httpx.Response(
            404,
            json={"error_code": "APIGW.0101", "error_msg": "no such simulator endpoint"},
            headers=date,
            request=request,
        )
