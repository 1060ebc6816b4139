"""Hand-built ExecutionPlans for the renderer tests, and the golden-file helper.

Set UPDATE_GOLDEN=1 to rewrite tests/render/golden/* from the current output
(then review the diff: the goldens are what a user sees).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from planner.plan.model import (
    Action,
    BackupInfo,
    DiskMap,
    Estimate,
    ExecutionPlan,
    PlanWarning,
    Restore,
    StateRef,
    Summary,
    TargetInfo,
)

GOLDEN = Path(__file__).parent / "golden"
T0 = datetime(2026, 11, 19, 23, 10, tzinfo=UTC)
AZ = "ap-southeast-1a"


def summarize(actions: list[Action]) -> Summary:
    """The counts the diff would compute (kept independent of the renderers)."""
    counts = {
        k: sum(1 for a in actions if a.action == k)
        for k in ("restore", "re-restore", "unchanged", "reconcile", "forget")
    }
    writing = [
        a for a in actions if a.restore and a.action in ("restore", "re-restore", "reconcile")
    ]
    targets = {i for a in writing if a.restore for i in a.restore.written_ids()}
    return Summary(
        restore=counts["restore"],
        re_restore=counts["re-restore"],
        unchanged=counts["unchanged"],
        reconcile=counts["reconcile"],
        forget=counts["forget"],
        targets_overwritten=len(targets),
        total_gb=sum(a.restore.size_gb for a in writing if a.restore),
    )


def server_action(
    address: str,
    action: str,
    name: str,
    server_id: str,
    backup: BackupInfo,
    disks: list[DiskMap],
    *,
    batch: int | None,
    wave: int | None,
    depends_on: tuple[str, ...] = (),
    power_on: bool = True,
    status: str = "ACTIVE",
    **extra: object,
) -> Action:
    restore = Restore(
        address=address,
        target=TargetInfo(kind="server", id=server_id, name=name, status=status, az=AZ),
        backup=backup,
        disks=disks,
        power_on=power_on,
        depends_on=list(depends_on),
        wave=wave,
    )
    size = sum(d.size_gb for d in disks)
    return Action.model_validate(
        {
            "address": address,
            "action": action,
            "restore": restore,
            "batch": batch,
            "estimate_s": 60 + size / 4 * 60,
            **extra,
        }
    )


def _backup(ident: str, name: str, minutes: int, size: int) -> BackupInfo:
    return BackupInfo(
        id=ident,
        name=name,
        created_at=T0 + timedelta(minutes=minutes),
        status="available",
        size_gb=size,
        vault_id="3b5816b5-f29c-4172-9d9a-76c719a659ce",
    )


def _boot(backup_id: str, volume_id: str, name: str, size: int = 40) -> DiskMap:
    return DiskMap(
        backup_id=backup_id,
        volume_id=volume_id,
        size_gb=size,
        volume_name=name,
        volume_size_gb=size,
        device="vda",
        boot=True,
        source_boot=True,
    )


def tiered_actions() -> list[Action]:
    db = server_action(
        "db",
        "restore",
        "db-01",
        "94eba8b2-acc9-4d82-badc-127144cc5526",
        _backup("a5200268-74a5-4806-acc6-95793ab0228b", "autobk_a520", 0, 640),
        [
            _boot(
                "5d822633-2bbf-4af8-a16e-5ab1c7705235",
                "eccbcfdd-f843-4bbb-b2c0-a5ce861f9376",
                "sys-db-01",
            ),
            DiskMap(
                backup_id="8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                volume_id="1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9",
                size_gb=600,
                volume_name="data-db-01",
                volume_size_gb=1000,
                device="vdb",
            ),
        ],
        batch=1,
        wave=1,
        power_on=False,
        reason="not in state",
        facts={"backup.status": "available", "server.status": "ACTIVE"},
    )
    logs = Action(
        address="logs",
        action="restore",
        batch=1,
        estimate_s=1560.0,
        reason="not in state",
        restore=Restore(
            address="logs",
            target=TargetInfo(
                kind="volume",
                id="7c1e5f20-1a61-4b7e-9b55-0d1f3c2e8a90",
                name="logs-vol",
                status="in-use",
                az=AZ,
            ),
            backup=_backup("b7c8d9e0-1f2a-4b3c-8d4e-5f6a7b8c9d0e", "logs-nightly", 3, 100),
            wave=1,
        ),
    )
    share = Action(
        address="share",
        action="restore",
        batch=1,
        estimate_s=360.0,
        restore=Restore(
            address="share",
            target=TargetInfo(
                kind="resource", id="3a2b9c41-6d0e-4f55-8d1c-2b7e6f0a9d13", name="team-share"
            ),
            backup=_backup("9e0d7a55-1c2b-4e8f-a3d4-5b6c7d8e9f01", "", 5, 20),
            destination_path="/restored/2026-11",
        ),
    )
    apps = [
        server_action(
            'app["app-01"]',
            "restore",
            "app-01",
            "c0a80101-0000-4000-8000-000000000001",
            _backup("a1a1a1a1-0000-4000-8000-000000000001", "autobk_app1", 2, 40),
            [
                _boot(
                    "d1d1d1d1-0000-4000-8000-000000000001",
                    "e1e1e1e1-0000-4000-8000-000000000001",
                    "sys-app-01",
                )
            ],
            batch=2,
            wave=2,
            depends_on=("db",),
        ),
        server_action(
            'app["app-02"]',
            "re-restore",
            "app-02",
            "c0a80102-0000-4000-8000-000000000002",
            _backup("2222bbbb-0000-4000-8000-000000000002", "autobk_app2", 4, 40),
            [
                _boot(
                    "d2d2d2d2-0000-4000-8000-000000000002",
                    "e2e2e2e2-0000-4000-8000-000000000002",
                    "sys-app-02",
                )
            ],
            batch=2,
            wave=2,
            depends_on=("db",),
            reason="backup changed",
            changes=["backup autobk_old2 (1111aaaa...) -> autobk_app2 (2222bbbb...)"],
        ),
        server_action(
            'app["app-03"]',
            "reconcile",
            "app-03",
            "c0a80103-0000-4000-8000-000000000003",
            _backup("a3a3a3a3-0000-4000-8000-000000000003", "autobk_app3", 6, 40),
            [
                _boot(
                    "d3d3d3d3-0000-4000-8000-000000000003",
                    "e3e3e3e3-0000-4000-8000-000000000003",
                    "sys-app-03",
                )
            ],
            batch=2,
            wave=2,
            depends_on=("db",),
            status="SHUTOFF",
            task_id="4f3c2b1a-9d8e-4c7b-a6f5-e4d3c2b1a098",
            reason="started, outcome unknown",
        ),
    ]
    web_deps = ('app["app-01"]', 'app["app-02"]', 'app["app-03"]')
    web = server_action(
        'web["web-01"]',
        "restore",
        "web-01",
        "c0a80201-0000-4000-8000-000000000001",
        _backup("b1b1b1b1-0000-4000-8000-000000000001", "autobk_web1", 12, 40),
        [
            _boot(
                "f1f1f1f1-0000-4000-8000-000000000001",
                "0e0e0e0e-0000-4000-8000-000000000001",
                "sys-web-01",
            )
        ],
        batch=3,
        wave=3,
        depends_on=web_deps,
    )
    web2 = server_action(
        'web["web-02"]',
        "unchanged",
        "web-02",
        "c0a80202-0000-4000-8000-000000000002",
        _backup("b2b2b2b2-0000-4000-8000-000000000002", "autobk_web2", 11, 40),
        [
            _boot(
                "f2f2f2f2-0000-4000-8000-000000000002",
                "0e0e0e0e-0000-4000-8000-000000000002",
                "sys-web-02",
            )
        ],
        batch=None,
        wave=3,
        depends_on=web_deps,
    )
    old_db = server_action(
        "old_db",
        "forget",
        "old-db-01",
        "0a1b2c3d-0000-4000-8000-00000000000d",
        _backup("9f8e7d6c-0000-4000-8000-00000000000d", "autobk_old", -1440, 40),
        [],
        batch=None,
        wave=None,
        reason="no longer in the files",
    )
    legacy = Action(address="legacy", action="forget", reason="no longer in the files")
    return [db, logs, share, *apps, web, web2, old_db, legacy]


def make_plan(actions: list[Action], **overrides: object) -> ExecutionPlan:
    fields: dict[str, object] = {
        "tool_version": "0.1.0",
        # a fixed value: renderers show it, never compute it (planfile does)
        "digest": "sha256:9c1e4f6a2b7d3e8f0a5c1b6d2e7f3a8b4c9d0e1f2a3b4c5d6e7f8091a2b3c4d5",
        "created_at": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        "config_digest": "sha256:3f9a1c2e4b5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
        "config_files": ["plans/drill.yaml"],
        "region": "ap-southeast-1",
        "project_id": "f841e01fd2b14e7fa41b6ae7aa6b0594",
        "state": StateRef(
            lineage="0f5c2d1e-7a6b-4c3d-9e8f-1a2b3c4d5e6f",
            serial=7,
            path=".restore-planner/state.json",
        ),
        "actions": actions,
        "summary": summarize(actions),
        "estimate": Estimate(
            makespan_s=10500,
            total_work_s=14000,
            critical_path_s=10380,
            critical_path=["db", 'app["app-01"]', 'web["web-01"]'],
            parallelism=10,
        ),
        "backup_skew_s": 720.0,
        "batches": max((a.batch or 0 for a in actions), default=0),
        "warnings": [
            PlanWarning(
                code="RP312",
                summary="backup skew 12m is close to the limit 30m",
                detail="The oldest and newest chosen backups are 12m apart; guards.max_backup_skew is 30m.",
                location="plans/drill.yaml:8:20",
            )
        ],
    }
    fields.update(overrides)
    return ExecutionPlan.model_validate(fields)


def big_actions(n: int = 2000, unchanged: int = 150, per_batch: int = 400) -> list[Action]:
    actions = []
    for i in range(n + unchanged):
        kind = "restore" if i < n else "unchanged"
        batch = i // per_batch + 1 if i < n else None
        name = f"app-{i:04d}"
        actions.append(
            server_action(
                f'fleet["{name}"]',
                kind,
                name,
                f"c0a8{i:04x}-0000-4000-8000-{i:012d}",
                _backup(f"a0a0{i:04x}-0000-4000-8000-{i:012d}", f"autobk_{i:04d}", i % 20, 80),
                [
                    _boot(
                        f"d0d0{i:04x}-0000-4000-8000-{i:012d}",
                        f"e0e0{i:04x}-0000-4000-8000-{i:012d}",
                        f"sys-{name}",
                    ),
                    DiskMap(
                        backup_id=f"d1d1{i:04x}-0000-4000-8000-{i:012d}",
                        volume_id=f"e1e1{i:04x}-0000-4000-8000-{i:012d}",
                        size_gb=40,
                        device="vdb",
                    ),
                ],
                batch=batch,
                wave=batch,
            )
        )
    return actions


@pytest.fixture
def kit() -> ModuleType:
    """This module, so tests reach the builders (test modules cannot import each other)."""
    return sys.modules[__name__]


@pytest.fixture
def tiered() -> ExecutionPlan:
    return make_plan(tiered_actions())


@pytest.fixture
def big() -> ExecutionPlan:
    estimate = Estimate(
        makespan_s=5 * 1260,
        total_work_s=2000 * 1260,
        critical_path_s=5 * 1260,
        critical_path=[f'fleet["app-{i * 400:04d}"]' for i in range(5)],
        parallelism=400,
    )
    return make_plan(big_actions(), warnings=[], estimate=estimate)


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"{path} missing; run with UPDATE_GOLDEN=1 to create it"
        assert text == path.read_text(encoding="utf-8"), (
            f"{name} differs; UPDATE_GOLDEN=1 rewrites it"
        )

    return check
