"""A hand-built World (servers, volumes, backups, a vault) and the checks a plan runs on it,
shared by the resolution tests and the validation rule tests (tests/validate)."""

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
    Guards,
    PlanConfig,
    RestoreSpec,
    SelectRef,
    TargetRef,
)
from planner.diagnostics import SourceRange
from planner.plan.model import Restore
from planner.resolve import resolve
from planner.validate import cloud, guards

T0 = datetime(2026, 11, 20, tzinfo=UTC)
R = SourceRange("plan.yaml", 3, 5)


def make_world() -> World:
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


def make_spec(name: str, target: TargetRef | SelectRef, backup: str | BackupSelector, **kw: object) -> RestoreSpec:
    return RestoreSpec(address=Address(name), target=target, backup=backup, ranges={"block": R}, **kw)  # type: ignore[arg-type]


def run_checks(*specs: RestoreSpec, g: Guards | None = None) -> tuple[list[Restore], list[str]]:
    world = make_world()
    cfg = PlanConfig(files=("plan.yaml",), restores=specs, guards=g or Guards())
    resolved, diags = resolve(cfg, world)
    diags += cloud.check(resolved, world)
    diags += guards.check(cfg, resolved, world)
    return [r.restore for r in resolved], [f"{d.code} {d.summary}" for d in diags]


def with_status(world: World, bid: str, status: str) -> World:
    backups = dict(world.backups)
    backups[bid] = backups[bid].model_copy(update={"status": status})
    return world.model_copy(update={"backups": backups})
