"""Refresh: what it fetches, with how many requests, for plans of different shapes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from planner.addresses import Address
from planner.cloud.world import RefreshNeeds, SelectNeed, Window, needs_for, refresh
from planner.config.spec import (
    BackupSelector,
    DiskMapEntry,
    PlanConfig,
    RestoreSpec,
    SelectRef,
    TargetRef,
)

BEFORE = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)


def _refresh(client: Any, needs: RefreshNeeds) -> Any:
    async def go() -> Any:
        async with client:
            return await refresh(client, needs)

    return asyncio.run(go())


def _fleet(fake: Any, kit: Any, n: int) -> None:
    fake.servers = [kit.make_server(i) for i in range(n)]
    fake.backups = [kit.make_backup(i, d) for i in range(n) for d in (1, 2, 4)]


def test_few_servers_by_id_with_own_backups(fake: Any, make_client: Any, kit: Any) -> None:
    _fleet(fake, kit, 50)
    needs = RefreshNeeds(server_ids={"srv-00003", "srv-00007"})
    for sid in needs.server_ids:
        needs.add_source(sid, Window(before=BEFORE))
    world = _refresh(make_client(), needs)
    assert sorted(world.servers) == ["srv-00003", "srv-00007"]
    assert sorted(world.backups) == ["bk-00003-01", "bk-00003-02", "bk-00007-01", "bk-00007-02"]
    assert world.complete_backups_for == {"srv-00003", "srv-00007"}
    assert set(world.vaults) == {"vault-1"}
    # 1 filtered server list + 2 per-source backup lists + 1 vault list
    assert len(fake.requests) == 4
    per_source = [r.url.params for r in fake.requests if r.url.path.endswith("/backups")]
    assert {(p["resource_id"], p["end_time"], p["status"]) for p in per_source} == {
        ("srv-00003", "2026-11-03T00:00:00Z", "available"),
        ("srv-00007", "2026-11-03T00:00:00Z", "available"),
    }


def test_select_over_fleet_lists_once_and_stops_early(fake: Any, make_client: Any, kit: Any) -> None:
    _fleet(fake, kit, 2500)
    fake.servers[5]["tags"] = ["tier=db"]
    needs = RefreshNeeds(selects=[SelectNeed("server", (("tier", "web"),), "web-*", Window(before=BEFORE))])
    world = _refresh(make_client(), needs)
    assert len(world.servers) == 2499 and "srv-00005" not in world.servers
    newest = {b.resource_id: b for b in sorted(world.backups.values(), key=lambda b: b.created_at)}
    assert all(newest[s].id.endswith("-02") for s in world.servers)
    paths = fake.paths()
    assert paths.count(f"/v1/{kit.PROJECT}/cloudservers/detail") == 3
    # 7,500 backups, 5,000 of them before BEFORE: newest first, stop once all 2,499 are covered
    assert paths.count(f"/v3/{kit.PROJECT}/backups") == 3
    assert len(fake.requests) <= 2500 / 500 + 20


def test_explicit_backup_ids_and_volumes(fake: Any, make_client: Any, kit: Any) -> None:
    _fleet(fake, kit, 5)
    fake.volumes = [{"id": f"vol-{i:05d}-b", "size": 10, "status": "available"} for i in range(5)]
    needs = RefreshNeeds(
        server_ids={"srv-00001"}, backup_ids={"bk-00001-04", "missing"}, volume_ids={"vol-00001-b"}
    )
    world = _refresh(make_client(), needs)
    assert set(world.backups) == {"bk-00001-04"}
    assert world.volumes["vol-00001-b"].size_gb == 10
    assert world.complete_backups_for == frozenset()
    assert sorted(p.rsplit("/", 1)[1] for p in fake.paths() if "/backups/" in p) == ["bk-00001-04", "missing"]


def _pinned_fleet(fake: Any, kit: Any, n: int) -> RefreshNeeds:
    """n servers with 3 backups each, a saved plan's needs: each server's newest pinned,
    its disks recorded in the plan's facts."""
    _fleet(fake, kit, n)
    pinned = {f"bk-{i:05d}-04" for i in range(n)}
    return RefreshNeeds(
        server_ids={f"srv-{i:05d}" for i in range(n)},
        backup_ids=set(pinned),
        children_known=set(pinned),
    )


def test_a_saved_plans_pins_are_read_newest_first_until_every_one_is_seen(
    fake: Any, make_client: Any, kit: Any
) -> None:
    needs = _pinned_fleet(fake, kit, 2500)
    # a backup of a target begun weeks before its pinned one and still being taken
    busy = {**kit.make_backup(7, 1, status="protecting"), "id": "bk-busy"}
    busy["created_at"] = "2026-10-20T10:38:34.209782"
    fake.backups.append(busy)
    world = _refresh(make_client(), needs)
    assert needs.backup_ids <= set(world.backups)
    assert world.backups["bk-busy"].status == "protecting"  # RP346 still sees it
    listings = [r.url.params for r in fake.requests if r.url.path.endswith("/backups")]
    # 7,501 backups: the 2,500 newest in 3 pages, then those being taken; not 8 pages
    assert [p.get("status") for p in listings] == [None, None, None, "protecting"]
    assert all(p.get("sort") == "created_at:desc" for p in listings[:3])


def test_pins_whose_disks_are_unknown_or_gone_are_read_to_the_end(
    fake: Any, make_client: Any, kit: Any
) -> None:
    needs = _pinned_fleet(fake, kit, 1500)
    gone = RefreshNeeds(
        server_ids=needs.server_ids,
        backup_ids=needs.backup_ids | {"bk-deleted"},
        children_known=needs.children_known | {"bk-deleted"},
    )
    for case in (gone, RefreshNeeds(server_ids=needs.server_ids, backup_ids=needs.backup_ids)):
        fake.requests.clear()
        world = _refresh(make_client(), case)
        assert needs.backup_ids <= set(world.backups) and "bk-deleted" not in world.backups
        listings = [r for r in fake.requests if r.url.path.endswith("/backups")]
        assert len(listings) == 5  # 4,500 backups, every page: no early stop, no second listing


def test_needs_for_plan(kit: Any) -> None:
    sel = BackupSelector(before=BEFORE, vault="vault-1")
    config = PlanConfig(
        files=("p.yaml",),
        restores=(
            RestoreSpec(Address("db"),
                        TargetRef("server", id="s1"), "bk-1",
                        disks=(DiskMapEntry("c1", "v9"),)),
            RestoreSpec(Address("app"),
                        TargetRef("server", name="app-01"), sel),
            RestoreSpec(Address("web"),
                        SelectRef("server", (("tier", "web"),)), sel),
            RestoreSpec(Address("logs"),
                        TargetRef("volume", id="v1"), BackupSelector(before=BEFORE, source="v0")),
        ),
    )
    needs = needs_for(config)
    assert needs.server_ids == {"s1"} and needs.backup_ids == {"bk-1"}
    assert needs.volume_ids == {"v9", "v1"}
    assert needs.named_sources == {("server", "app-01"): Window(before=BEFORE, vault="vault-1")}
    assert needs.selects == [SelectNeed("server", (("tier", "web"),), None, Window(before=BEFORE, vault="vault-1"))]
    assert needs.backup_sources == {"v0": Window(before=BEFORE)}
    assert needs.vault_ids == {"vault-1"}
