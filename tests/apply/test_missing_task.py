"""A task the operation-log listing stops showing is fetched by id, never waited on forever."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from planner.cli.main import main
from tests.apply.checks import duplicates, read_state
from tests.apply.drill import in_process, make_drill, simulator, write_drill


class HidingTasks(httpx.AsyncBaseTransport):
    """Drops the first restore's task from every listing (and, if asked, from GETs)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hide_get: bool) -> None:
        self.inner = inner
        self.hide_get = hide_get
        self.hidden: str | None = None
        self.gets = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        path = request.url.path
        if request.method == "POST" and path.endswith("/restore") and self.hidden is None:
            self.hidden = json.loads(response.content)["job_id"]
        if self.hidden and path.endswith("/operation-logs"):
            body = json.loads(response.content)
            body["operation_logs"] = [o for o in body["operation_logs"] if o["id"] != self.hidden]
            return httpx.Response(200, json=body, request=request)
        if self.hidden and path.endswith(f"/operation-logs/{self.hidden}"):
            self.gets += 1
            if self.hide_get:
                err = {"error_code": "BackupService.6500", "error_msg": "Operation log does not exist."}
                return httpx.Response(404, json=err, request=request)
        return httpx.Response(response.status_code, headers=response.headers, content=response.content, request=request)


def _run(tmp_path: Path, hide_get: bool) -> tuple[int, HidingTasks, dict[str, object], int]:
    drill = make_drill(5, seed=6, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    hiding = HidingTasks(sim.transport(), hide_get)
    with in_process(sim, clock, hiding):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color"])
    return rc, hiding, sim.ledger(), len(drill.target)


def test_task_missing_from_listings_is_fetched_by_id(tmp_path: Path) -> None:
    rc, hiding, ledger, n = _run(tmp_path, hide_get=False)
    assert rc == 0
    assert hiding.gets >= 1
    assert duplicates(ledger) == [] and len(ledger["restores"]) == n  # type: ignore[arg-type]
    states = {r["status"] for r in read_state(tmp_path / ".restore-planner" / "state.json")["restores"].values()}
    assert states == {"succeeded"}


def test_task_gone_everywhere_fails_that_restore_only(tmp_path: Path) -> None:
    rc, hiding, ledger, n = _run(tmp_path, hide_get=True)
    assert rc == 1
    assert duplicates(ledger) == []
    recs = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    failed = [r for r in recs.values() if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["task_id"] == hiding.hidden
    assert failed[0]["error"]["code"] == "BackupService.6500"
    assert sum(r["status"] == "succeeded" for r in recs.values()) == n - 1
