"""What apply's check of a saved plan asks refresh for (``planfile.needs_for``)."""

from __future__ import annotations

from planner.plan.planfile import needs_for
from tests.render.conftest import make_plan, tiered_actions


def test_backups_whose_disks_need_no_listing_are_known() -> None:
    actions = tiered_actions()
    needs = needs_for(make_plan(actions))
    restores = {a.address: a.restore for a in actions if a.restore is not None}
    by_kind = {addr: r.target.kind for addr, r in restores.items()}
    assert needs.backup_ids == {r.backup.id for r in restores.values()}
    for addr, r in restores.items():
        a = next(x for x in actions if x.address == addr)
        disks_recorded = any(name.endswith(" disks") for name in a.facts)
        # a volume's or resource's backup has no disk backups; a server's are known
        # only where the plan recorded them (else the check reads every backup)
        want = by_kind[addr] != "server" or disks_recorded
        assert (r.backup.id in needs.children_known) == want, addr
    assert {"volume", "resource"} <= set(by_kind.values())
    assert any(k == "server" and restores[a].backup.id not in needs.children_known for a, k in by_kind.items())
