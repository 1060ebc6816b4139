"""A listing's time filter may apply to a task's START (the SDK describes ListOpLogs'
``start_time`` as the task's start time; cbr-facts 15, UNCONFIRMED), and a task waiting
behind the quota has not started, so no time window shows it. The simulator's
``oplog_time_filter: started`` answers so. Then neither a POST whose answer was lost,
nor an apply that reconciles a restore an earlier apply left waiting, may conclude
that nothing was created and restore the target again. The ledger is the witness."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import (
    DrillKit,
    abandoned_once_accepted,
    in_process,
    make_drill,
    simulator,
    write_drill,
)
from tests.apply.test_lost_response import Dropping, _lose

FILTERS = ["created", "started"]


@pytest.mark.parametrize("time_filter", FILTERS)
def test_a_lost_answer_for_a_task_waiting_behind_the_quota_is_adopted(tmp_path: Path, time_filter: str) -> None:
    drill = make_drill(8, seed=2, levels=1, quota=2, rules={"oplog_time_filter": time_filter})
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    dropping = Dropping(sim.transport(), {2, 3, 5}, _lose)  # the quota holds 2: these wait
    with in_process(sim, clock, dropping):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "8"]) == 0
    assert dropping.seen == len(drill.target)  # one POST per restore
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert sorted(r["target_id"] for r in ledger["restores"]) == sorted(drill.target.values())


@pytest.mark.parametrize("time_filter", FILTERS)
def test_reconcile_finds_a_task_still_waiting_that_no_time_window_lists(tmp_path: Path, time_filter: str) -> None:
    drill = make_drill(6, seed=4, levels=1, quota=1, rules={"oplog_time_filter": time_filter})
    _inv, plan = write_drill(drill, tmp_path)
    state = tmp_path / ".restore-planner" / "state.json"
    sim, clock = simulator(drill)
    with in_process(sim, clock), abandoned_once_accepted(len(drill.target)):
        # every restore accepted, one running and five waiting: then a second Ctrl-C
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "6"]) == 130
    waiting = [r for r in sim.ledger()["restores"] if r["status"] == "waiting"]
    assert len(waiting) == len(drill.target) - 1
    assert {r.status for r in StateStore(state).load().restores.values()} == {"started"}
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "6"]) == 0
    restores = sim.ledger()["restores"]
    assert duplicates({"restores": restores}) == []
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
    assert {r.status for r in StateStore(state).load().restores.values()} == {"succeeded"}


def test_a_replay_of_a_plan_whose_restores_still_wait_names_every_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another machine has the plan file, not the state, while the first apply's restores
    wait behind the quota: the replay check names each of them, listed or not."""
    kit = DrillKit(make_drill(4, seed=4, levels=1, quota=1, rules={"oplog_time_filter": "started"}), tmp_path)
    with kit.cloud():
        assert main(["plan", str(kit.plan), "--out", str(kit.saved), "--no-color", "--parallelism", "4"]) == 0
        with abandoned_once_accepted(4):
            assert main(["apply", str(kit.saved), "--no-color"]) == 130
        tasks = {r["job_id"] for r in kit.restores()}
        assert len([r for r in kit.restores() if r["status"] == "waiting"]) == 3
        shutil.rmtree(kit.state.parent)  # the other machine: no state at all
        capsys.readouterr()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    named = {line.split("task ")[1].split()[0] for line in err.splitlines() if "restored since the plan was made" in line}
    assert named == tasks, err
    assert len(kit.restores()) == 4


class _LoseOnceThenFail(httpx.AsyncBaseTransport):
    """Loses the answer of the POST for ``target``; then answers the listing of WAITING
    tasks with ``failure`` (a throttle or an outage) while ``failing()`` says so."""

    def __init__(self, inner: httpx.AsyncBaseTransport, target: str, failure: httpx.Response,
                 failing: Callable[[], bool]) -> None:  # fmt: skip
        self.inner, self.target, self.failure, self.failing = inner, target, failure, failing
        self.lost = False
        self.posts: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        waiting = request.method == "GET" and request.url.params.get("status") == "waiting"
        if waiting and self.lost and self.failing():
            return httpx.Response(self.failure.status_code, headers=self.failure.headers,
                                  content=self.failure.content, request=request)  # fmt: skip
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/restore"):
            self.posts.append(response.status_code)
            if self.target in request.content.decode() and response.status_code == 202 and not self.lost:
                self.lost = True
                raise httpx.ReadTimeout("lost", request=request)
        return response


def _two_restores_quota_one(overhead_s: float) -> tuple[Any, str]:
    rules = {"oplog_time_filter": "started", "restore_overhead_s": overhead_s, "per_disk_overhead_s": 0,
             "throughput_gb_per_min": 1e6, "pace_spread": [1.0, 1.0]}  # fmt: skip
    drill = make_drill(2, seed=1, levels=1, quota=1, rules=rules)
    second = min(drill.target, key=lambda b: drill.size_gb[b])  # posted second: it waits
    return drill, second


def test_a_task_that_leaves_waiting_between_two_listings_is_still_found(tmp_path: Path) -> None:
    """The waiting tasks are listed before the time-filtered listing: a task that starts
    (and ends, a snapshot-mode restore) while the first listing is throttled for two
    minutes is in the second. Listed the other way round it was in neither: sent again."""
    drill, second = _two_restores_quota_one(100.0)
    for b in drill.inventory["backups"]:
        if b["resource_id"] == drill.target[second]:
            b["restore_mode"] = "snapshot"
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    throttled = [0]

    def once() -> bool:
        throttled[0] += 1
        return throttled[0] == 1

    t = _LoseOnceThenFail(sim.transport(), drill.target[second],
                          httpx.Response(429, headers={"Retry-After": "120"}, json={"error_code": "APIGW.0308"}), once)  # fmt: skip
    with in_process(sim, clock, t):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "2"]) == 0
    assert t.posts == [202, 202]
    ledger = sim.ledger()["restores"]
    assert duplicates({"restores": ledger}) == []
    state = StateStore(tmp_path / ".restore-planner" / "state.json").load().restores
    assert sorted(r.task_id or "" for r in state.values()) == sorted(r["job_id"] for r in ledger)


def test_a_task_of_the_first_post_is_matched_after_a_later_one(tmp_path: Path) -> None:
    """The waiting tasks cannot be listed for 17 minutes (an outage), so the lost POST
    is looked for past the 15 minutes' slack of a LATER attempt (answered 2010: the
    target is being restored). It is matched from the first POST: adopted, recorded,
    never failed as lost while it runs; the next apply has nothing to do."""
    drill, second = _two_restores_quota_one(1000.0)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    t0 = clock.now()
    t = _LoseOnceThenFail(sim.transport(), drill.target[second],
                          httpx.Response(503, json={"error_code": "APIGW.0101"}), lambda: clock.now() < t0 + 1005)  # fmt: skip
    with in_process(sim, clock, t):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "2"]) == 0
        assert main(["plan", str(plan), "--no-color", "--detailed-exitcode"]) == 0
    ledger = sim.ledger()["restores"]
    assert duplicates({"restores": ledger}) == [] and len(ledger) == 2
    state = StateStore(tmp_path / ".restore-planner" / "state.json").load().restores
    assert {r.status for r in state.values()} == {"succeeded"}
    assert sorted(r.task_id or "" for r in state.values()) == sorted(r["job_id"] for r in ledger)
