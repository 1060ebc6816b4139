"""Resolution and cloud rules against hand-built Worlds: each code, its words, its place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from planner.addresses import Address
from planner.cloud.models import (
    AttachedVolume,
    Backup,
    BackupChild,
    Server,
    Vault,
    Volume,
    World,
)
from planner.config.spec import (
    BackupSelector,
    DiskMapEntry,
    Guards,
    PlanConfig,
    RestoreSpec,
    SelectRef,
    TargetRef,
)
from planner.diagnostics import SourceRange
from planner.resolve import resolve
from planner.validate import cloud, guards

T0 = datetime(2026, 11, 20, tzinfo=UTC)
R = SourceRange("plan.yaml", 3, 5)


def _world() -> World:
    servers = {
        "s1": Server(
            id="s1",
            name="db-01",
            status="ACTIVE",
            az="az1",
            tags={"tier": "db", "env": "prod"},
            volumes=(AttachedVolume(id="v1", device="/dev/vda", boot=True), AttachedVolume(id="v2", device="/dev/vdb")),
        ),
        "s2": Server(
            id="s2",
            name="web-01",
            status="ERROR",
            tags={"tier": "web"},
            volumes=(AttachedVolume(id="v3", device="/dev/vda", boot=True),),
        ),
        "s3": Server(
            id="s3",
            name="web-02",
            status="ACTIVE",
            tags={"tier": "web"},
            volumes=(AttachedVolume(id="v4", device="/dev/vda", boot=True),),
        ),
    }
    volumes = {
        "v1": Volume(id="v1", name="db-01-sys", size_gb=40, status="in-use", bootable=True),
        "v2": Volume(id="v2", name="db-01-data", size_gb=100, status="in-use"),
        "v3": Volume(id="v3", name="web-01-sys", size_gb=40, status="in-use", bootable=True),
        "v4": Volume(id="v4", name="web-02-sys", size_gb=40, status="in-use", bootable=True),
        "v9": Volume(id="v9", name="logs", size_gb=10, status="in-use"),
    }

    def sb(bid: str, server: str, vols: list[tuple[str, int, bool]], at: datetime, status: str = "available") -> Backup:
        return Backup(
            id=bid,
            name=f"autobk_{bid}",
            status=status,
            resource_id=server,
            resource_type="OS::Nova::Server",
            created_at=at,
            vault_id="vault1",
            size_gb=sum(s for _, s, _ in vols),
            children=tuple(
                BackupChild(id=f"{bid}-{v}", resource_id=v, size_gb=s, bootable=b) for v, s, b in vols
            ),
        )

    backups = {
        "b1": sb("b1", "s1", [("v1", 40, True), ("v2", 100, False)], T0 - timedelta(hours=2)),
        "b2": sb("b2", "s1", [("v1", 40, True), ("v2", 100, False)], T0 - timedelta(hours=1), status="error"),
        "b3": sb("b3", "s1", [("v1", 40, True), ("v2", 100, False)], T0 + timedelta(hours=1)),
        "b4": sb("b4", "s3", [("v4", 40, True)], T0 - timedelta(minutes=30)),
        "d1": Backup(
            id="d1", status="available", resource_id="v9", resource_type="OS::Cinder::Volume",
            created_at=T0 - timedelta(hours=3), size_gb=10, vault_id="vault1",
        ),
    }
    return World(
        project_id="p1",
        servers=servers,
        volumes=volumes,
        backups=backups,
        vaults={"vault1": Vault(id="vault1", status="available")},
    )


def _spec(name: str, target: TargetRef | SelectRef, backup: str | BackupSelector, **kw: object) -> RestoreSpec:
    return RestoreSpec(address=Address(name), target=target, backup=backup, ranges={"block": R}, **kw)  # type: ignore[arg-type]


def _run(*specs: RestoreSpec, g: Guards | None = None) -> tuple[list[object], list[str]]:
    world = _world()
    cfg = PlanConfig(files=("plan.yaml",), restores=specs, guards=g or Guards())
    resolved, diags = resolve(cfg, world)
    diags += cloud.check(resolved, world)
    diags += guards.check(cfg, resolved, world)
    return [r.restore for r in resolved], [f"{d.code} {d.summary}" for d in diags]


def test_selector_picks_newest_available_before_point_in_time() -> None:
    restores, diags = _run(_spec("db", TargetRef("server", name="db-01"), BackupSelector(before=T0)))
    assert diags == []
    (r,) = restores
    assert r.backup.id == "b1"  # b2 is newer but in error; b3 is after T0
    assert [(d.backup_id, d.volume_id, d.boot) for d in r.disks] == [("b1-v1", "v1", True), ("b1-v2", "v2", False)]


def test_no_backup_in_window_explains_what_exists() -> None:
    _, diags = _run(_spec("db", TargetRef("server", id="s1"), BackupSelector(before=T0 - timedelta(days=5))))
    assert len(diags) == 1
    assert diags[0].startswith("RP311 no available backup of db-01 at or before 2026-11-15")


def test_unknown_ids_and_names() -> None:
    _, diags = _run(
        _spec("a", TargetRef("server", id="nope"), "b1"),
        _spec("b", TargetRef("server", name="ghost"), "b1"),
        _spec("c", TargetRef("server", id="s1"), "missing-backup"),
    )
    assert [d.split()[0] for d in diags] == ["RP301", "RP302", "RP310"]


def test_select_expands_one_instance_per_match_keyed_by_name() -> None:
    restores, diags = _run(_spec("web", SelectRef("server", tags=(("tier", "web"),)), BackupSelector(before=T0)))
    assert [r.address for r in restores] == ['web["web-02"]']  # web-01 has no backup at all
    codes = [d.split()[0] for d in diags]
    assert codes == ["RP311"]


def test_server_in_error_is_refused() -> None:
    w = _world()
    assert w.servers["s2"].status == "ERROR"
    _, diags = _run(_spec("w", TargetRef("server", id="s2"), "b4"))
    assert "RP340 server web-01 is ERROR; the cloud refuses to restore it" in diags
    assert any(d.startswith("RP344") for d in diags)  # cross-server warning too
    assert any(d.startswith("RP338") for d in diags) is False


def test_partial_disk_map_and_foreign_child() -> None:
    _, diags = _run(
        _spec(
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


def test_data_disk_onto_system_disk_and_too_small() -> None:
    _, diags = _run(
        _spec(
            "db",
            TargetRef("server", id="s1"),
            "b1",
            disks=(DiskMapEntry("b1-v1", "v2"), DiskMapEntry("b1-v2", "v1")),
        )
    )
    assert "RP337 volume db-01-sys is 40 GB, smaller than disk backup b1-v2 (100 GB)" in diags
    assert "RP338 data-disk backup b1-v2 is mapped onto the system disk db-01-sys" in diags


def test_disk_restore_needs_detached_volume_and_type_fit() -> None:
    _, diags = _run(
        _spec("logs", TargetRef("volume", id="v9"), "d1"),
        _spec("bad", TargetRef("volume", id="v2"), "b1"),
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
    _, diags = _run(
        _spec("db", TargetRef("server", id="s1"), BackupSelector(before=T0)),
        _spec("web", TargetRef("server", id="s3"), BackupSelector(before=T0)),
        g=g,
    )
    codes = sorted(d.split()[0] for d in diags)
    assert codes == ["RP350", "RP351", "RP352", "RP353"]
    assert any("db: newest backup before 2026-11-20T00:00:00Z is 2h older" in d for d in diags)


# --- selector stability (issue 10, item 1): being restored from is not unusable ---


def _with_status(world: World, bid: str, status: str) -> World:
    backups = dict(world.backups)
    backups[bid] = backups[bid].model_copy(update={"status": status})
    return world.model_copy(update={"backups": backups})


def test_selector_keeps_a_backup_that_is_being_restored_from() -> None:
    for status in ("restoring", "waiting_restore"):
        world = _with_status(_world(), "b1", status)
        cfg = PlanConfig(files=("plan.yaml",), restores=(_spec("db", TargetRef("server", name="db-01"), BackupSelector(before=T0)),))
        resolved, diags = resolve(cfg, world)
        assert diags == []
        assert [r.restore.backup.id for r in resolved] == ["b1"], status
        assert resolved[0].restore.backup.status == status
        if status == "restoring":  # the rules then refuse a second restore from it while one runs
            assert "RP345 backup autobk_b1 is being restored right now" in [
                f"{d.code} {d.summary}" for d in cloud.check(resolved, world)
            ]


def test_selector_skips_backups_that_cannot_be_restored_from() -> None:
    older = Backup(
        id="b0", name="autobk_b0", status="available", resource_id="s1", resource_type="OS::Nova::Server",
        created_at=T0 - timedelta(hours=5), vault_id="vault1",
    )  # fmt: skip
    for status in ("protecting", "deleting", "error", "waiting_protect", "waiting_delete"):
        world = _with_status(_world(), "b1", status)
        world = world.model_copy(update={"backups": {**world.backups, "b0": older}})
        cfg = PlanConfig(files=("plan.yaml",), restores=(_spec("db", TargetRef("server", id="s1"), BackupSelector(before=T0)),))
        resolved, _ = resolve(cfg, world)
        assert [r.restore.backup.id for r in resolved] == ["b0"], status


# --- resource targets (issue 10, item 8) ---


def test_resource_by_name_is_never_sent_unresolved() -> None:
    restores, diags = _run(_spec("files", TargetRef("resource", name="share-01"), "b1"))
    assert restores == []
    assert diags == ["RP306 resource 'share-01' cannot be found by name"]


def test_server_or_disk_backup_onto_a_resource_is_refused() -> None:
    restores, diags = _run(
        _spec("a", TargetRef("resource", id="sfs-1"), "b1"),
        _spec("b", TargetRef("resource", id="sfs-2"), "d1"),
    )
    assert restores == []
    assert diags == [
        "RP320 backup b1 is a OS::Nova::Server backup; a resource target needs a backup of that resource",
        "RP320 backup d1 is a OS::Cinder::Volume backup; a resource target needs a backup of that resource",
    ]
