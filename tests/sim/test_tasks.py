"""Restore tasks over simulated time: statuses, progress, quota queueing, failures."""

from __future__ import annotations

from planner.clock import VirtualClock
from planner.sim import Simulator
from tests.sim.simkit import FULL_A, call, make_sim, restore


def _clock(sim: Simulator) -> VirtualClock:
    assert isinstance(sim.clock, VirtualClock)
    return sim.clock


def _status(sim: Simulator, kind: str, rid: str) -> str:
    if kind == "server":
        return str(call(sim, "GET", f"/v1/{{p}}/cloudservers/{rid}").json()["server"]["status"])
    if kind == "volume":
        return str(call(sim, "GET", f"/v2/{{p}}/cloudvolumes/{rid}").json()["volume"]["status"])
    return str(call(sim, "GET", f"/v3/{{p}}/backups/{rid}").json()["backup"]["status"])


def _oplog(sim: Simulator, job: str) -> dict:  # type: ignore[type-arg]
    return call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}").json()["operation_log"]  # type: ignore[no-any-return]


def test_server_restore_lifecycle() -> None:
    sim = make_sim()
    job = restore(sim, "bk-a", {**FULL_A, "power_on": True}).json()["job_id"]
    # duration = 60 s overhead + (40 + 80) GB / 4 GB/min = 1860 s
    log = _oplog(sim, job)
    assert (log["status"], log["extra_info"]["common"]["progress"]) == ("running", 0)
    assert log["extra_info"]["restore"] == {"backup_id": "bk-a", "backup_name": "autobk_a",
                                            "target_resource_id": "srv-a", "target_resource_name": "db-01"}
    assert _status(sim, "server", "srv-a") == "SHUTOFF"
    assert _status(sim, "volume", "va-data") == "restoring-backup"
    assert _status(sim, "backup", "bk-a") == "restoring"
    _clock(sim).advance(930)
    assert _oplog(sim, job)["extra_info"]["common"]["progress"] == 50
    _clock(sim).advance(930)
    log = _oplog(sim, job)
    assert (log["status"], log["extra_info"]["common"]["progress"]) == ("success", 100)
    assert log["ended_at"] == "2026-09-21T14:44:20Z" and log["error_info"] == {"code": "", "message": ""}
    assert _status(sim, "server", "srv-a") == "ACTIVE"
    assert _status(sim, "volume", "va-data") == "in-use"
    assert _status(sim, "backup", "bk-a") == "available"
    entry = sim.ledger()["restores"][0]
    assert (entry["started_at"], entry["ended_at"], entry["status"]) == (
        "2026-09-21T14:13:20Z", "2026-09-21T14:44:20Z", "success")


def test_power_off_leaves_server_shutoff() -> None:
    sim = make_sim()
    restore(sim, "bk-a", {**FULL_A, "power_on": False})
    _clock(sim).advance(5000)
    assert _status(sim, "server", "srv-a") == "SHUTOFF"


def test_quota_queues_fifo() -> None:
    sim = make_sim(quota=1)
    first = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]  # 60 + 60/4*60 = 960 s
    second = restore(sim, "bk-a", FULL_A).json()["job_id"]
    assert _oplog(sim, second)["status"] == "waiting"
    assert _oplog(sim, second)["started_at"] is None
    assert _status(sim, "backup", "bk-a") == "waiting_restore"
    _clock(sim).advance(961)
    log = _oplog(sim, second)
    assert log["status"] == "running"
    assert log["started_at"] == "2026-09-21T14:29:20Z"  # exactly when the first one ended
    assert _oplog(sim, first)["status"] == "success"
    _clock(sim).advance(1860)
    assert [e["status"] for e in sim.ledger()["restores"]] == ["success", "success"]


def test_task_fail_fault_marks_volumes_error_restoring() -> None:
    sim = make_sim(faults="task_fail=1")
    job = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]
    _clock(sim).advance(2000)
    log = _oplog(sim, job)
    assert log["status"] == "failed"
    assert log["error_info"]["code"] == "BackupService.9910"
    assert _status(sim, "volume", "v-free") == "error_restoring"
    assert _status(sim, "backup", "bk-vol") == "available"


def test_slow_fault_triples_duration() -> None:
    sim = make_sim(faults="slow=1")
    job = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]
    # the slow response itself held the clock back 2 s per request (VirtualClock sleep)
    _clock(sim).advance(960 * 2)
    assert _oplog(sim, job)["status"] == "running"
    _clock(sim).advance(960)
    assert _oplog(sim, job)["status"] == "success"


def test_thousand_concurrent_tasks_are_cheap() -> None:
    from planner.sim import parse_inventory

    vols = [{"id": f"v{i}", "size_gb": 10, "status": "available"} for i in range(1000)]
    backups = [{"id": f"b{i}", "resource_id": f"v{i}", "resource_type": "OS::Cinder::Volume",
                "created_at": "2026-01-01T00:00:00Z", "size_gb": 10} for i in range(1000)]
    inv = parse_inventory({"volumes": vols, "backups": backups, "rules": {"quota": 20, "rate_per_s": 1e6}})
    sim = Simulator(inv, clock=VirtualClock())
    from planner.sim.http import SimRequest

    hdr = {"x-auth-token": sim.credentials.token}
    for i in range(1000):
        body = b'{"restore": {"volume_id": "v%d"}}' % i
        resp = sim.handle(SimRequest("POST", f"/v3/{sim.project_id}/backups/b{i}/restore", [], hdr, body))
        assert resp.status == 202
    # default pace: (45 s + 20 s + 10 GB / 5 GB/min) x at most 1.4 = 259 s; 1000/20 waves of it
    sim.clock.advance(50 * 260)  # type: ignore[attr-defined]
    assert {e["status"] for e in sim.ledger()["restores"]} == {"success"}
