"""The hint of RP331 (a disk that is not a child of the server backup) lists the backup's disks,
or says it has none: "(none)" used to be lost to operator precedence (issue 15)."""

from __future__ import annotations

from planner.config.spec import DiskMapEntry, PlanConfig, TargetRef
from planner.resolve import resolve
from tests.resolve.world import make_spec, make_world


def _rp331_hint(children_of_b1: bool) -> list[str]:
    world = make_world()
    if not children_of_b1:
        backups = {**world.backups, "b1": world.backups["b1"].model_copy(update={"children": []})}
        world = world.model_copy(update={"backups": backups})
    spec = make_spec("db", TargetRef("server", id="s1"), "b1", disks=(DiskMapEntry("b4-v4", "v2"),))
    _, diags = resolve(PlanConfig(files=("plan.yaml",), restores=(spec,)), world)
    return [d.detail for d in diags if d.code == "RP331"]


def test_hint_lists_the_disks_of_the_backup() -> None:
    assert _rp331_hint(children_of_b1=True) == ["its disks are: b1-v1, b1-v2"]


def test_hint_says_none_when_the_backup_has_no_disks() -> None:
    assert _rp331_hint(children_of_b1=False) == ["its disks are: (none)"]
