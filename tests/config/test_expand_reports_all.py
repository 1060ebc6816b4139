"""A restore that fails to evaluate still reports its malformed depends_on entries, and
untrusted numbers never crash expansion.

Before the fix RP133 was reported only for restores that evaluated: a bad time, an
unknown key or a failed for_each hid `depends_on: ['bad address!']` until fixed.
"""

from __future__ import annotations

from pathlib import Path

from planner.config.expand import Block, expand_restores
from planner.config.load import evaluate
from planner.config.source import load_source
from planner.config.template import TemplateError, render
from planner.plan.pipeline import offline


def _found(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    return [(d.range.line, d.range.col, d.code) for d in offline(str(plan)).diagnostics if d.range]


def test_invalid_depends_on_reported_beside_a_bad_time(tmp_path: Path) -> None:
    found = _found(tmp_path, """\
version: 1
restores:
  db: {server: {name: db-01}, backup: abc}
  app:
    server: {name: app-01}
    backup: {before: "yesterday"}
    depends_on: [dbb, 'bad address!', 'db["x"]']
""")  # fmt: skip
    assert sorted(found) == [(6, 22, "RP116"), (7, 18, "RP201"), (7, 23, "RP133"), (7, 39, "RP202")]


def test_invalid_depends_on_reported_beside_an_unknown_key(tmp_path: Path) -> None:
    found = _found(tmp_path, """\
version: 1
restores:
  web:
    server: {name: web-01}
    backup: {befor: "2026-11-20T00:00:00Z"}
    depends_on: ['e[']
""")  # fmt: skip
    assert sorted(found) == [(5, 14, "RP110"), (6, 18, "RP133")]


def test_invalid_depends_on_reported_when_for_each_fails_or_the_name_is_bad(tmp_path: Path) -> None:
    found = _found(tmp_path, """\
version: 1
restores:
  app:
    for_each: "{{ nope }}"
    server: "{{ each.value }}"
    backup: abc
    depends_on: ['x y', "{{ each.key }}"]
  9bad:
    server: s1
    backup: abc
    depends_on: ['a b']
""")  # fmt: skip
    assert sorted(found) == [(4, 15, "RP121"), (7, 18, "RP133"), (8, 3, "RP119"), (11, 18, "RP133")]


def test_rendered_depends_on_checked_but_not_a_failed_template(tmp_path: Path) -> None:
    found = _found(tmp_path, """\
version: 1
restores:
  app:
    server: {name: app-01}
    backup: {before: "yesterday"}
    depends_on: ["{{ 'p q' }}", "{{ typo }}"]
""")  # fmt: skip
    assert sorted(found) == [(5, 22, "RP116"), (6, 18, "RP133"), (6, 33, "RP121")]


def test_a_for_each_integer_too_long_to_print_is_a_diagnostic(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nrestores:\n  a:\n    for_each: [1, 2]\n    server: s1\n    backup: b\n")
    doc, ds = load_source(str(plan))
    assert doc is not None and not ds
    raw = {**doc.value["restores"]["a"], "for_each": [1, 10**5000]}  # as if a loader let it through
    specs, diags = expand_restores([Block("a", doc, raw)], {}, True)
    assert [(d.code, d.range.line if d.range else 0) for d in diags] == [("RP111", 4)]
    assert "number too large" in diags[0].summary
    assert [str(s.address) for s in specs] == ['a["1"]']


def test_a_long_format_width_is_too_large_not_a_conversion_failure() -> None:
    try:
        render("{{ '%0" + "9" * 5000 + "d' % 1 }}", {})
    except TemplateError as exc:
        assert exc.code == "RP123", exc.message
    else:
        raise AssertionError("rendered")


def test_duplicate_key_message_is_short(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nrestores:\n  a:\n    for_each: \"{{ ['x' * 100000, 'x' * 100000] }}\"\n"
                    "    server: s1\n    backup: b\n")  # fmt: skip
    ev = evaluate(str(plan), [], [])
    (d,) = [d for d in ev.diagnostics if d.code == "RP131"]
    assert len(d.summary) < 120
