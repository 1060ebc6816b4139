"""Every restore rule answers with the cloud's code, status and body shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.simkit import FULL_A, call, make_sim, restore

BOOT_B = {"backup_id": "ch-a-boot", "volume_id": "vb-boot"}
DATA_B = {"backup_id": "ch-a-data", "volume_id": "vb-data"}

CASES: list[tuple[str, str, Any, int, str]] = [
    ("no restore key", "bk-a", {"x": 1}, 400, "BackupService.9900"),
    ("missing backup", "nope", {"restore": FULL_A}, 404, "BackupService.6200"),
    ("server backup without mappings", "bk-a", {"restore": {"server_id": "srv-a"}}, 400, "BackupService.9900"),
    ("server backup without server_id", "bk-a", {"restore": {"mappings": FULL_A["mappings"]}}, 400, "BackupService.9900"),
    ("disk backup without volume_id", "bk-vol", {"restore": {"server_id": "srv-a"}}, 400, "BackupService.9900"),
    ("backup in error", "bk-a-old", {"restore": {"server_id": "srv-a", "mappings": [{"backup_id": "ch-old-boot", "volume_id": "va-boot"}]}}, 400, "BackupService.2005"),
    ("restore mode na", "bk-na", {"restore": {"server_id": "srv-a", "mappings": [{"backup_id": "ch-na", "volume_id": "va-boot"}]}}, 400, "BackupService.2005"),
    ("vault frozen", "bk-frozen", {"restore": {"server_id": "srv-a", "mappings": [{"backup_id": "ch-f", "volume_id": "va-boot"}]}}, 400, "BackupService.6202"),
    ("server missing", "bk-a", {"restore": {**FULL_A, "server_id": "srv-x"}}, 404, "BackupService.7100"),
    ("server deleted", "bk-a", {"restore": {**FULL_A, "server_id": "srv-del"}}, 400, "BackupService.2007"),
    ("server in error", "bk-a", {"restore": {**FULL_A, "server_id": "srv-err"}}, 400, "BackupService.2008"),
    ("other server", "bk-a", {"restore": {"server_id": "srv-b", "mappings": [BOOT_B, DATA_B]}}, 400, "BackupService.2003"),
    ("partial mapping", "bk-a", {"restore": {"server_id": "srv-a", "mappings": FULL_A["mappings"][:1]}}, 400, "BackupService.2012"),
    ("non-child mapping", "bk-a", {"restore": {"server_id": "srv-a", "mappings": [*FULL_A["mappings"], {"backup_id": "ch-p", "volume_id": "va-data"}]}}, 400, "BackupService.9900"),
    ("mapped volume missing", "bk-a", {"restore": {"server_id": "srv-a", "mappings": [FULL_A["mappings"][0], {"backup_id": "ch-a-data", "volume_id": "v-none"}]}}, 404, "BackupService.7000"),
    ("volume not attached", "bk-a", {"restore": {"server_id": "srv-a", "mappings": [FULL_A["mappings"][0], {"backup_id": "ch-a-data", "volume_id": "v-free"}]}}, 400, "BackupService.9900"),
    ("data child onto boot", "bk-a", {"restore": {"server_id": "srv-a", "mappings": [{"backup_id": "ch-a-boot", "volume_id": "va-data"}, {"backup_id": "ch-a-data", "volume_id": "va-boot"}]}}, 400, "BackupService.2013"),
    ("disk backup target missing", "bk-vol", {"restore": {"volume_id": "v-none"}}, 404, "BackupService.7000"),
    ("disk target smaller", "bk-vol-big", {"restore": {"volume_id": "v-small"}}, 400, "BackupService.2001"),
    ("disk target in use", "bk-vol-inuse", {"restore": {"volume_id": "va-data"}}, 400, "BackupService.2011"),
    ("disk backup onto another volume", "bk-vol", {"restore": {"volume_id": "v-free2"}}, 400, "BackupService.2003"),
    ("target being backed up", "bk-p", {"restore": {"server_id": "srv-p", "mappings": [{"backup_id": "ch-p", "volume_id": "vp-boot"}]}}, 400, "BackupService.2002"),
    ("bad power_on", "bk-a", {"restore": {**FULL_A, "power_on": "yes"}}, 400, "BackupService.9900"),
    ("bad destination_path", "bk-a", {"restore": {**FULL_A, "details": {"destination_path": ""}}}, 400, "BackupService.9900"),
]


@pytest.mark.parametrize(("why", "backup", "body", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_refused(why: str, backup: str, body: Any, status: int, code: str) -> None:
    sim = make_sim()
    r = call(sim, "POST", f"/v3/{{p}}/backups/{backup}/restore", json=body)
    assert (r.status_code, r.json()["error_code"]) == (status, code), r.text
    assert set(r.json()) == {"error_code", "error_msg"}
    assert sim.ledger()["restores"] == []


def test_exact_messages() -> None:
    sim = make_sim()
    r = restore(sim, "bk-a", {"server_id": "srv-a", "mappings": FULL_A["mappings"][:1]})
    assert r.json()["error_msg"] == "Restoring only some of the disks is not allowed: child backups ch-a-data are not mapped."
    r = restore(sim, "bk-vol-big", {"volume_id": "v-small"})
    assert r.json()["error_msg"] == "The target disk v-small (10 GB) is smaller than the backup (20 GB)."


def test_target_smaller_than_child_2001() -> None:
    sim = make_sim(cross_server_restore="allow")
    r = restore(sim, "bk-a", {"server_id": "srv-b", "mappings": [BOOT_B, DATA_B]})
    assert r.json()["error_code"] == "BackupService.2001"
    assert "vb-data (50 GB) is smaller than the backup ch-a-data (80 GB)" in r.json()["error_msg"]


def test_cross_server_allowed_by_rules() -> None:
    sim = make_sim(cross_server_restore="allow")
    r = restore(sim, "bk-a", {"server_id": "srv-b", "mappings": [BOOT_B, {"backup_id": "ch-a-data", "volume_id": "vb-data"}]})
    assert r.status_code == 400  # vb-data is too small; use the boot+data of srv-a instead
    r = restore(sim, "bk-a", FULL_A)
    assert r.status_code == 202


def test_unknown_fields_ok_and_202_body() -> None:
    sim = make_sim()
    r = call(sim, "POST", "/v3/{p}/backups/bk-a/restore", json={"restore": {**FULL_A, "extra": 1}, "other": True})
    assert r.status_code == 202
    assert list(r.json()) == ["job_id"]
    led = sim.ledger()["restores"][0]
    assert led["job_id"] == r.json()["job_id"]
    assert led["power_on"] is True


def test_disk_restore_accepted() -> None:
    sim = make_sim()
    r = restore(sim, "bk-vol", {"volume_id": "v-free"})
    assert r.status_code == 202
    entry = sim.ledger()["restores"][0]
    assert (entry["target_kind"], entry["target_id"], entry["mappings"]) == ("volume", "v-free", [])


def test_concurrent_restore_of_one_target_2010() -> None:
    sim = make_sim()
    assert restore(sim, "bk-vol", {"volume_id": "v-free"}).status_code == 202
    again = restore(sim, "bk-vol", {"volume_id": "v-free"})
    assert (again.status_code, again.json()["error_code"]) == (400, "BackupService.2010")
    assert restore(sim, "bk-a", FULL_A).status_code == 202
    again = restore(sim, "bk-a", FULL_A)
    assert again.json()["error_code"] == "BackupService.2010"
    assert len(sim.ledger()["restores"]) == 2
    sim.clock.advance(10_000)  # type: ignore[attr-defined]
    assert restore(sim, "bk-a", FULL_A).status_code == 202


def test_bad_json_body() -> None:
    sim = make_sim()
    r = call(sim, "POST", "/v3/{p}/backups/bk-a/restore", headers={"Content-Type": "application/json"})
    assert r.json()["error_code"] == "BackupService.9900"
