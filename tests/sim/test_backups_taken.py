"""Backups being taken (``protecting``) finish in their own time.

Until then a restore onto their resource is refused with BackupService.2002;
afterwards the same request is accepted and the backup is ``available``.
"""

from __future__ import annotations

from planner.sim import Simulator
from tests.sim.simkit import call, make_sim, restore

P_BODY = {"server_id": "srv-p", "mappings": [{"backup_id": "ch-p", "volume_id": "vp-boot"}]}


def _backup_status(sim: Simulator, bid: str) -> str:
    return str(call(sim, "GET", f"/v3/{{p}}/backups/{bid}").json()["backup"]["status"])


def test_a_backup_being_taken_finishes_and_the_restore_is_then_accepted() -> None:
    sim = make_sim(protecting_s=[600, 600])
    refused = restore(sim, "bk-p", P_BODY)
    assert (refused.status_code, refused.json()["error_code"]) == (400, "BackupService.2002")
    sim.clock.advance(599)  # type: ignore[attr-defined]
    assert _backup_status(sim, "bk-p-now") == "protecting"
    assert restore(sim, "bk-p", P_BODY).json()["error_code"] == "BackupService.2002"
    sim.clock.advance(1)  # type: ignore[attr-defined]
    assert _backup_status(sim, "bk-p-now") == "available"
    children = call(sim, "GET", "/v3/{p}/backups", params={"parent_id": "bk-p-now"}).json()["backups"]
    assert [c["status"] for c in children] == ["available"]
    assert restore(sim, "bk-p", P_BODY).status_code == 202
    assert [e["backup_id"] for e in sim.ledger()["restores"]] == ["bk-p"]


def test_the_time_a_backup_takes_is_drawn_from_the_seed() -> None:
    def done_after(seed: int) -> int:
        sim = make_sim(seed=seed)  # default protecting_s: 300 to 1800 s
        for t in range(0, 1801, 10):
            if _backup_status(sim, "bk-p-now") == "available":
                return t
            sim.clock.advance(10)  # type: ignore[attr-defined]
        raise AssertionError("the backup never finished")

    times = [done_after(seed) for seed in range(6)]
    assert all(300 <= t <= 1810 for t in times), times
    assert len(set(times)) > 1, times
    assert [done_after(seed) for seed in range(6)] == times


def test_a_resource_marked_busy_by_hand_stays_busy() -> None:
    """Tests mark a resource as being backed up without a backup record (it never finishes)."""
    sim = make_sim(protecting_s=[1, 1])
    sim.state.protecting_resources.add("v-free")
    sim.clock.advance(3600)  # type: ignore[attr-defined]
    assert restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["error_code"] == "BackupService.2002"
    assert restore(sim, "bk-p", P_BODY).status_code == 202  # srv-p's own backup did finish
