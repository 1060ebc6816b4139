"""Cloud-side validation rules and guards (planner.validate) on resolved restores of a
hand-built World: each code, its words, its place."""

from __future__ import annotations

from datetime import timedelta

from planner.config.spec import (
    BackupSelector,
    DiskMapEntry,
    Guards,
    PlanConfig,
    TargetRef,
)
from planner.resolve import resolve
from planner.validate import cloud
from tests.resolve.world import T0, make_spec, make_world, run_checks, with_status


def test_server_in_error_is_refused() -> None:
    w = make_world()
    assert w.servers["s2"].status == "ERROR"
    _, diags = run_checks(make_spec("w", TargetRef("server", id="s2"), "b4"))
    assert "RP340 server web-01 is ERROR; the cloud refuses to restore it" in diags
    assert any(d.startswith("RP344") for d in diags)  # cross-server warning too
    assert any(d.startswith("RP338") for d in diags) is False


def test_data_disk_onto_system_disk_and_too_small() -> None:
    _, diags = run_checks(
        make_spec(
            "db",
            TargetRef("server", id="s1"),
            "b1",
            disks=(DiskMapEntry("b1-v1", "v2"), DiskMapEntry("b1-v2", "v1")),
        )
    )
    assert "RP337 volume db-01-sys is 40 GB, smaller than disk backup b1-v2 (100 GB)" in diags
    assert "RP338 data-disk backup b1-v2 is mapped onto the system disk db-01-sys" in diags


def test_disk_restore_needs_detached_volume_and_type_fit() -> None:
    _, diags = run_checks(
        make_spec("logs", TargetRef("volume", id="v9"), "d1"),
        make_spec("bad", TargetRef("volume", id="v2"), "b1"),
    )
    assert diags[0] == "RP342 volume logs is in-use; a disk restore needs it detached (available)"
    assert "RP320 backup b1 is a OS::Nova::Server backup; a volume target needs OS::Cinder::Volume" in diags


def test_guards() -> None:
    g = Guards(
        deny_target_tags=(("env", "prod"),),
        max_restores=1,
        max_backup_skew=timedelta(minutes=30),
        max_backup_age=timedelta(hours=1),
    )
    _, diags = run_checks(
        make_spec("db", TargetRef("server", id="s1"), BackupSelector(before=T0)),
        make_spec("web", TargetRef("server", id="s3"), BackupSelector(before=T0)),
        g=g,
    )
    codes = sorted(d.split()[0] for d in diags)
    assert codes == ["RP350", "RP351", "RP352", "RP353"]
    assert any("db: newest backup before 2026-11-20T00:00:00Z is 2h older" in d for d in diags)


# --- selector stability (issue 10, item 1): being restored from is not unusable ---


def test_selector_keeps_a_backup_that_is_being_restored_from() -> None:
    for status in ("restoring", "waiting_restore"):
        world = with_status(make_world(), "b1", status)
        cfg = PlanConfig(files=("plan.yaml",), restores=(make_spec("db", TargetRef("server", name="db-01"), BackupSelector(before=T0)),))
        resolved, diags = resolve(cfg, world)
        assert diags == []
        assert [r.restore.backup.id for r in resolved] == ["b1"], status
        assert resolved[0].restore.backup.status == status
        if status == "restoring":  # the rules then refuse a second restore from it while one runs
            assert "RP345 backup autobk_b1 is being restored right now" in [
                f"{d.code} {d.summary}" for d in cloud.check(resolved, world)
            ]
