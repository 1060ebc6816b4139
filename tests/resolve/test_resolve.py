"""Resolution against hand-built Worlds: selectors, names, instances, disk maps; each code, its words, its place."""

from __future__ import annotations

from datetime import timedelta

from planner.cloud.models import (
    Backup,
)
from planner.config.spec import (
    BackupSelector,
    DiskMapEntry,
    PlanConfig,
    SelectRef,
    TargetRef,
)
from planner.resolve import resolve
from tests.resolve.world import T0, make_spec, make_world, run_checks, with_status


def test_selector_picks_newest_available_before_point_in_time() -> None:
    restores, diags = run_checks(make_spec("db", TargetRef("server", name="db-01"), BackupSelector(before=T0)))
    assert diags == []
    (r,) = restores
    assert r.backup.id == "b1"  # b2 is newer but in error; b3 is after T0
    assert [(d.backup_id, d.volume_id, d.boot) for d in r.disks] == [("b1-v1", "v1", True), ("b1-v2", "v2", False)]


def test_no_backup_in_window_explains_what_exists() -> None:
    _, diags = run_checks(make_spec("db", TargetRef("server", id="s1"), BackupSelector(before=T0 - timedelta(days=5))))
    assert len(diags) == 1
    assert diags[0].startswith("RP311 no available backup of db-01 at or before 2026-11-15")


def test_unknown_ids_and_names() -> None:
    _, diags = run_checks(
        make_spec("a", TargetRef("server", id="nope"), "b1"),
        make_spec("b", TargetRef("server", name="ghost"), "b1"),
        make_spec("c", TargetRef("server", id="s1"), "missing-backup"),
    )
    assert [d.split()[0] for d in diags] == ["RP301", "RP302", "RP310"]


def test_select_expands_one_instance_per_match_keyed_by_name() -> None:
    restores, diags = run_checks(make_spec("web", SelectRef("server", tags=(("tier", "web"),)), BackupSelector(before=T0)))
    assert [r.address for r in restores] == ['web["web-02"]']  # web-01 has no backup at all
    codes = [d.split()[0] for d in diags]
    assert codes == ["RP311"]


def test_partial_disk_map_and_foreign_child() -> None:
    _, diags = run_checks(
        make_spec(
            "db",
            TargetRef("server", id="s1"),
            "b1",
            disks=(DiskMapEntry("b1-v1", "v1"), DiskMapEntry("b4-v4", "v2")),
        )
    )
    assert diags == [
        "RP331 backup b4-v4 is not a disk of server backup b1",
        "RP333 1 disk(s) of backup b1 are not mapped: b1-v2",
    ]


def test_selector_skips_backups_that_cannot_be_restored_from() -> None:
    older = Backup(
        id="b0", name="autobk_b0", status="available", resource_id="s1", resource_type="OS::Nova::Server",
        created_at=T0 - timedelta(hours=5), vault_id="vault1",
    )  # fmt: skip
    for status in ("protecting", "deleting", "error", "waiting_protect", "waiting_delete"):
        world = with_status(make_world(), "b1", status)
        world = world.model_copy(update={"backups": {**world.backups, "b0": older}})
        cfg = PlanConfig(files=("plan.yaml",), restores=(make_spec("db", TargetRef("server", id="s1"), BackupSelector(before=T0)),))
        resolved, _ = resolve(cfg, world)
        assert [r.restore.backup.id for r in resolved] == ["b0"], status


# --- resource targets (issue 10, item 8) ---


def test_resource_by_name_is_never_sent_unresolved() -> None:
    restores, diags = run_checks(make_spec("files", TargetRef("resource", name="share-01"), "b1"))
    assert restores == []
    assert diags == ["RP306 resource 'share-01' cannot be found by name"]


def test_server_or_disk_backup_onto_a_resource_is_refused() -> None:
    restores, diags = run_checks(
        make_spec("a", TargetRef("resource", id="sfs-1"), "b1"),
        make_spec("b", TargetRef("resource", id="sfs-2"), "d1"),
    )
    assert restores == []
    assert diags == [
        "RP320 backup b1 is a OS::Nova::Server backup; a resource target needs a backup of that resource",
        "RP320 backup d1 is a OS::Cinder::Volume backup; a resource target needs a backup of that resource",
    ]


def test_a_volume_selector_never_picks_a_disk_backup_of_a_server_backup() -> None:
    """A server backup's disk backup is in the world when another restore pins it (it is
    fetched by id); what a volume selector picks must not depend on that."""
    child = Backup(
        id="b9-v9", status="available", resource_id="v9", resource_type="OS::Cinder::Volume",
        created_at=T0 - timedelta(minutes=5), size_gb=10, vault_id="vault1", parent_id="b9",
    )  # fmt: skip
    world = make_world()
    world = world.model_copy(update={"backups": {**world.backups, "b9-v9": child}})
    cfg = PlanConfig(
        files=("plan.yaml",),
        restores=(make_spec("logs", TargetRef("volume", id="v9"), BackupSelector(before=T0)),),
    )
    resolved, _ = resolve(cfg, world)
    assert [r.restore.backup.id for r in resolved] == ["d1"]  # the volume's own, though older
