"""Names from the cloud cannot disguise themselves in any renderer (issue 10, item 8):
right-to-left overrides, isolates, zero-width and other invisible characters are shown
as visible escapes by the one sanitizer, planner.render.fmt.clean."""

from __future__ import annotations

from types import ModuleType

import pytest

from planner.render import fmt
from planner.render.plan_markdown import render_markdown
from planner.render.plan_text import render_text

RLO_NAME = "db-01\u202e10-bd\u2066x\u2069\u200b"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\u202eb", "a\\u202eb"),
        ("a\u202a\u202b\u202c\u202db", "a\\u202a\\u202b\\u202c\\u202db"),
        ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("esc\x1b[31m\x00", "esc\\x1b[31m\\x00"),
        ("soft\u00adhyphen", "soft\\u00adhyphen"),
        ("web-01 Ünïcødé 中文", "web-01 Ünïcødé 中文"),  # visible text is left alone
    ],
)
def test_clean_escapes_invisible_characters(raw: str, shown: str) -> None:
    assert fmt.clean(raw) == shown


def _plan(kit: ModuleType) -> object:
    actions = kit.tiered_actions()
    db = actions[0]
    assert db.restore is not None
    target = db.restore.target.model_copy(update={"name": RLO_NAME})
    backup = db.restore.backup.model_copy(update={"name": "autobk\u202egnp.exe"})
    restore = db.restore.model_copy(update={"target": target, "backup": backup})
    actions[0] = db.model_copy(update={"restore": restore})
    return kit.make_plan(actions)


def test_no_renderer_prints_a_bidi_override(kit: ModuleType) -> None:
    plan = _plan(kit)
    text = render_text(plan)  # type: ignore[arg-type]
    assert "server db-01\\u202e10-bd\\u2066x\\u2069\\u200b (94eba8b2...)" in text
    markdown = render_markdown(plan)  # type: ignore[arg-type]
    # Markdown escapes the backslash, so the reader sees \u202e
    assert "server db-01\\\\u202e10-bd\\\\u2066x\\\\u2069\\\\u200b (94eba8b2...)" in markdown
    for out in (text, markdown):
        assert not {"\u202e", "\u2066", "\u2069", "\u200b"} & set(out)
