import re
from collections.abc import Callable
from types import ModuleType

from planner.plan.model import Action, ExecutionPlan
from planner.plan.planfile import plan_from_json
from planner.render.plan_json import plan_to_json
from planner.render.plan_text import render_text

ANSI = re.compile(r"\x1b\[")


def test_tiered_plan_golden(tiered: ExecutionPlan, golden: Callable[[str, str], None]) -> None:
    golden("tiered.txt", render_text(tiered))


def test_renders_the_same_from_the_saved_json(tiered: ExecutionPlan) -> None:
    assert render_text(plan_from_json(plan_to_json(tiered))) == render_text(tiered)


def test_partial_plan_golden(kit: ModuleType, golden: Callable[[str, str], None]) -> None:
    actions = [
        a for a in kit.tiered_actions() if a.address in ("db", 'app["app-01"]', 'web["web-01"]')
    ]
    plan = kit.make_plan(actions, partial=True, targets=['web["web-01"]'], warnings=[])
    text = render_text(plan)
    assert 'Warning: Targeting is in effect: --target web["web-01"]' in text
    golden("partial.txt", text)


def test_no_changes_golden(kit: ModuleType, golden: Callable[[str, str], None]) -> None:
    actions = [
        a.model_copy(update={"action": "unchanged", "batch": None})
        for a in kit.tiered_actions()[:3]
    ]
    plan = kit.make_plan(actions, warnings=[], backup_skew_s=None)
    text = render_text(plan)
    assert "No changes. Every restore in the plan is already done." in text
    assert "Plan:" not in text
    golden("no_changes.txt", text)


def test_no_escape_codes_without_color(tiered: ExecutionPlan) -> None:
    assert not ANSI.search(render_text(tiered, color=False))


def test_colors_by_action_with_color(tiered: ExecutionPlan) -> None:
    text = render_text(tiered, color=True)
    assert "\x1b[32m+\x1b[0m db" in text
    assert "\x1b[33m~\x1b[0m app" in text
    assert "\x1b[36m!\x1b[0m app" in text
    assert "\x1b[31m-\x1b[0m old_db" in text
    assert "\x1b[2m  = web" in text
    assert "\x1b[1mPlan:\x1b[0m" in text


def test_escape_codes_in_cloud_names_are_neutralised(tiered: ExecutionPlan) -> None:
    db = tiered.actions[0]
    assert db.restore is not None
    evil = db.restore.model_copy(
        update={"target": db.restore.target.model_copy(update={"name": "db\x1b[2J"})}
    )
    plan = tiered.model_copy(
        update={"actions": [db.model_copy(update={"restore": evil}), *tiered.actions[1:]]}
    )
    text = render_text(plan)
    assert not ANSI.search(text)
    assert "server db\\x1b[2J (94eba8b2...)" in text


def _unchanged(kit: ModuleType, n: int) -> list[Action]:
    return [
        a.model_copy(update={"action": "unchanged", "batch": None}) for a in kit.big_actions(n, 0)
    ]


def test_few_unchanged_are_listed_many_collapsed(kit: ModuleType) -> None:
    changes = kit.tiered_actions()[:1]
    few = render_text(kit.make_plan(changes + _unchanged(kit, 10)))
    assert few.count("  = fleet[") == 10
    many = render_text(kit.make_plan(changes + _unchanged(kit, 11)))
    assert "  = fleet[" not in many
    assert "\n  = 11 restores unchanged (already done; not listed)\n" in many
    assert "Plan: 1 to restore, 0 to re-restore, 11 unchanged, 0 to reconcile, 0 to forget." in many


def test_totals_lines(tiered: ExecutionPlan) -> None:
    tail = render_text(tiered).splitlines()[-5:]
    assert tail == [
        "Plan: 5 to restore, 1 to re-restore, 1 unchanged, 1 to reconcile, 2 to forget.",
        "Overwrites 13 targets, 920 GB.",
        'Backup skew: 12m (oldest db 2026-11-19T23:10:00Z, newest web["web-01"] 2026-11-19T23:22:00Z)',
        'Estimated duration: 2h 55m with parallelism 10; critical path 2h 53m: db -> app["app-01"] -> web["web-01"]',
        "Plan digest: sha256:9c1e4f6a2b7d3e8f0a5c1b6d2e7f3a8b4c9d0e1f2a3b4c5d6e7f8091a2b3c4d5",
    ]
