"""Diff properties: recording a plan's restores as succeeded and diffing again gives no changes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.plan.diff import diff
from planner.plan.model import BackupInfo, DiskMap, Restore, TargetInfo
from planner.state.model import BackupInfo as StateBackup
from planner.state.model import DiskPair, RestoreRecord, State
from planner.state.model import TargetInfo as StateTarget

T = datetime(2026, 11, 20, tzinfo=UTC)
ids = st.sampled_from(["a", "b", "c", "d", "e", "f"])


@st.composite
def restores(draw: st.DrawFn) -> list[Restore]:
    names = draw(st.lists(st.sampled_from(["db", "app", "web", "logs", "cache"]), unique=True, max_size=5))
    out = []
    for i, name in enumerate(names):
        disks = [
            DiskMap(backup_id=f"c{i}{j}", volume_id=draw(ids))
            for j in range(draw(st.integers(0, 3)))
        ]
        out.append(
            Restore(
                address=name,
                target=TargetInfo(kind="server", id=f"s{i}", name=name),
                backup=BackupInfo(id=draw(ids), created_at=T),
                disks=disks,
            )
        )
    return out


def _record(r: Restore) -> RestoreRecord:
    return RestoreRecord(
        address=r.address,
        target=StateTarget(kind=r.target.kind, id=r.target.id, name=r.target.name),
        backup=StateBackup(id=r.backup.id, created_at=T),
        disks=[DiskPair(backup_id=d.backup_id, volume_id=d.volume_id) for d in r.disks],
        task_id="t",
        status="succeeded",
        started_at=T,
        run_id="20261120T000000Z-0000",
    )


@settings()
@given(restores(), restores())
def test_applied_plan_diffs_to_unchanged_and_changes_are_seen(
    wanted: list[Restore], before: list[Restore]
) -> None:
    state = State.new()
    for r in before:
        state.record(_record(r))
    first = diff(wanted, state)
    assert {a.address for a in first} == {r.address for r in wanted} | {r.address for r in before}
    for a in first:
        if a.action == "forget":
            state.remove(state.restores[a.address].addr)
        elif a.restore is not None:
            state.record(_record(a.restore))
    again = diff(wanted, state)
    assert [a.action for a in again] == ["unchanged"] * len(wanted)
    # and --replace turns exactly the named restores into re-restores
    if wanted:
        replaced = diff(wanted, state, replace={wanted[0].address})
        assert [a.action for a in replaced] == ["re-restore"] + ["unchanged"] * (len(wanted) - 1)
