import re
from collections.abc import Callable
from types import ModuleType

from planner.plan.model import ExecutionPlan
from planner.plan.planfile import plan_from_json
from planner.render.plan_json import plan_to_json
from planner.render.plan_markdown import md_code, md_text, render_markdown

CUT_NOTE = re.compile(
    r"^_… ([\d,]+) more actions not shown \((.*)\); run restore-planner show `big\.plan` for all_$",
    re.M,
)


def test_tiered_plan_golden(tiered: ExecutionPlan, golden: Callable[[str, str], None]) -> None:
    text = render_markdown(tiered)
    assert render_markdown(plan_from_json(plan_to_json(tiered))) == text
    golden("tiered.md", text)


def test_title_summary_then_risks_then_counts_then_batches(tiered: ExecutionPlan) -> None:
    text = render_markdown(tiered)
    lines = text.splitlines()
    assert lines[0] == "## Restore plan"
    assert lines[2].startswith(
        "**5 to restore, 1 to re-restore, 1 unchanged, 1 to reconcile, 2 to forget.**"
    )
    order = [text.index(h) for h in ("### Risks", "### Warnings", "### Summary", "### Actions")]
    assert order == sorted(order)
    risks = text[text.index("### Risks") : text.index("### Warnings")]
    kinds = re.findall(r"^- \*\*([a-z -]+)\*\*", risks, re.M)
    assert kinds == ["re-restore", "stays off", "large disk", "reconcile", "forget", "forget"]
    assert (
        "<details><summary>Batch 2 (wave 2): 1 restore, 1 re-restore, 1 reconcile</summary>" in text
    )
    assert CUT_NOTE.search(text) is None


def test_big_plan_is_cut_under_the_cap_and_says_what(big: ExecutionPlan) -> None:
    text = render_markdown(big, plan_file="big.plan")
    assert len(text) <= 60000
    note = CUT_NOTE.search(text)
    assert note is not None
    shown = len(re.findall(r"^\| `fleet\[", text, re.M))
    assert int(note.group(1).replace(",", "")) == 2150 - shown
    assert shown > 100
    assert note.group(2).endswith(
        "400 in Batch 5, 150 unchanged"
    )  # unchanged cut first, last batch next
    assert "<details><summary>Batch 1 (wave 1): 400 restores" in text
    assert text.count("<details>") == text.count("</details>")
    # more room shows more rows, never fewer
    assert len(re.findall(r"^\| `fleet\[", render_markdown(big, max_chars=120000), re.M)) > shown


def test_unchanged_rows_go_before_any_change_row(tiered: ExecutionPlan) -> None:
    full = len(render_markdown(tiered))
    text = render_markdown(tiered, max_chars=full - 10, plan_file="big.plan")
    assert "Unchanged: 1 restore" not in text
    assert '`web["web-01"]` | + restore' in text
    assert CUT_NOTE.search(text) is not None
    assert "(1 unchanged)" in text


def test_cut_note_names_the_file_the_plan_was_saved_as(tiered: ExecutionPlan) -> None:
    """Not a fixed plan.json: the file `plan --out` wrote (issue 14), or how to save one."""
    cap = len(render_markdown(tiered)) - 10
    assert "run restore-planner show `out/prod.plan` for all_" in render_markdown(
        tiered, max_chars=cap, plan_file="out/prod.plan"
    )
    unsaved = render_markdown(tiered, max_chars=cap)
    assert (
        "save it with `restore-planner plan --out FILE` and run `restore-planner show FILE` for all_"
        in unsaved
    )
    tiny = render_markdown(tiered, max_chars=400, plan_file="p.plan")
    assert tiny.endswith("_… output cut to fit; run restore-planner show `p.plan` for the whole plan_\n")


def test_tiny_cap_still_respected(big: ExecutionPlan) -> None:
    text = render_markdown(big, max_chars=800)
    assert len(text) <= 800
    assert text.rstrip().endswith("_")


def test_names_are_escaped(kit: ModuleType) -> None:
    actions = kit.tiered_actions()
    db = actions[0]
    evil_target = db.restore.target.model_copy(update={"name": "a|b <script>x</script> *c*"})
    evil_backup = db.restore.backup.model_copy(update={"name": "bk`|&amp;"})
    restore = db.restore.model_copy(update={"target": evil_target, "backup": evil_backup})
    actions[0] = db.model_copy(update={"restore": restore, "address": 'db["x|`y"]'})
    text = render_markdown(kit.make_plan(actions))
    assert "<script>" not in text
    row = next(line for line in text.splitlines() if line.startswith("| ``"))
    unescaped_pipes = len(re.findall(r"(?<!\\)\|", row))
    assert unescaped_pipes == 9  # 8 cells
    assert r"a\|b &lt;script&gt;" not in row  # ">" is left alone, "<" is not
    assert r"server a\|b &lt;script>x&lt;/script> \*c\*" in row
    assert r"bk\`\|&amp;amp;" in row
    assert row.startswith('| `` db["x\\|`y"] `` |')


def test_escape_helpers() -> None:
    assert md_text("a_b|c<d>&[e]") == r"a\_b\|c&lt;d>&amp;\[e\]"
    assert md_code("x|y") == r"`x\|y`"
    assert md_code("a`b") == "`` a`b ``"
    assert md_text("line\nbreak") == "line\\\\x0abreak"
