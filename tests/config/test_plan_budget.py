"""One template budget per plan load: for_each cannot multiply the per-string limits.

Before the fix every string had a budget of its own, so `for_each` over 2,000 items of
a 1 MiB string held 2 GB, and 200 instances of a 500,000-step loop took 35 s, with no
diagnostic ("Valid").
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from planner.config import expand, template
from planner.config.load import evaluate

BIG_OUTPUT = """\
version: 1
restores:
  a:
    for_each: "{{ range(1000)|list }}"
    server: {name: "{{ 'a' * 1000000 ~ each.value }}"}
    backup: "b"
  z:
    server: {name: z-01}
    backup: {before: "yesterday"}
"""

MANY_STEPS = """\
version: 1
restores:
  a:
    for_each: "{{ range(60)|list }}"
    server: {name: "{% for i in range(99999) %}{% for j in [1,2,3,4] %}{% endfor %}{% endfor %}{{ each.value }}"}
    backup: "b"
"""


def _codes(text: str, tmp_path: Path) -> list[tuple[int, int, str, str]]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    ev = evaluate(str(plan), [], [])
    return [(d.range.line, d.range.col, d.code, d.summary) for d in ev.diagnostics if d.range]


def test_for_each_cannot_multiply_rendered_bytes_and_memory_stays_bounded(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(BIG_OUTPUT)
    probe = (
        "import resource, sys\n"
        "from planner.config.load import evaluate\n"
        "ev = evaluate('plan.yaml', [], [])\n"
        "for d in ev.diagnostics:\n"
        "    print(f'{d.range.line}:{d.range.col}:{d.code}:{d.summary}')\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    budget = [x for x in lines if ":RP126:" in x]
    # one diagnostic, at the string that crossed the limit, naming it
    assert budget == ["5:20:RP126:the plan's templates cost too much in all: more than 64 MiB rendered"]
    # the rest of the plan still reports its problems
    assert any(x.startswith("9:") and ":RP116:" in x for x in lines), lines
    rss_kb = int(lines[-1].split()[1])
    assert rss_kb < 600 * 1024, rss_kb  # 1 GB before the fix; about 130 MB after


def test_for_each_cannot_multiply_steps(tmp_path: Path) -> None:
    found = _codes(MANY_STEPS, tmp_path)
    assert found == [
        (5, 20, "RP126", "the plan's templates cost too much in all: more than 4,000,000 steps")
    ]


def test_restores_and_blocks_share_one_budget(tmp_path: Path) -> None:
    # each block alone is within the plan's budget (40 MiB of 64); together they are not
    block = """\
  {name}:
    for_each: "{{{{ range(40)|list }}}}"
    server: {{name: "{{{{ 'a' * 1000000 ~ each.value }}}}"}}
    backup: "b"
"""
    text = "version: 1\nrestores:\n" + block.format(name="a") + block.format(name="b")
    found = _codes(text, tmp_path)
    assert [(line, code) for line, _, code, _ in found] == [(9, "RP126")]
    # and the next load starts afresh: the same block alone loads
    (tmp_path / "one.yaml").write_text("version: 1\nrestores:\n" + block.format(name="a"))
    for _ in range(2):
        ev = evaluate(str(tmp_path / "one.yaml"), [], [])
        assert ev.diagnostics == [] and len(ev.specs) == 40


def test_header_strings_draw_on_the_same_budget(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "cloud: {region: \"{% for i in range(99999) %}{% for j in [1,2,3,4] %}{% endfor %}{% endfor %}ap-southeast-1\"}\n"
        "defaults: {restore_overhead: \"{% for i in range(99999) %}{% for j in [1,2,3,4] %}{% endfor %}{% endfor %}60s\"}\n"
        "restores:\n"
        "  a:\n"
        "    for_each: \"{{ range(8)|list }}\"\n"
        "    server: {name: \"{% for i in range(99999) %}{% for j in [1,2,3,4] %}{% endfor %}{% endfor %}{{ each.value }}\"}\n"
        "    backup: b\n"
    )
    found = _codes(text, tmp_path)
    assert [(line, code) for line, _, code, _ in found] == [(7, "RP126")], found


def test_ten_thousand_templated_restores_still_load(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "vars: {pit: \"2026-11-20T00:00:00Z\"}\n"
        "guards: {max_restores: 20000}\n"
        "restores:\n"
        "  app:\n"
        "    for_each: \"{{ range(10000)|list }}\"\n"
        "    server: {name: \"{{ 'app-%05d' % each.value }}\"}\n"
        "    backup: {before: \"{{ pit }}\"}\n"
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    ev = evaluate(str(plan), [], [])
    assert ev.diagnostics == [] and len(ev.specs) == 10000


def test_restore_count_is_capped_once_at_the_for_each_that_crosses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expand, "MAX_RESTORES", 5)
    text = """\
version: 1
restores:
  a: {server: s1, backup: b}
  b:
    for_each: [x, y, z]
    server: "{{ each.value }}"
    backup: b
  c:
    for_each: "{{ ['x', 'y'] }}"
    server: "{{ each.value }}"
    backup: b
  d: {server: s2, backup: b}
"""
    found = _codes(text, tmp_path)
    assert found == [(9, 15, "RP138", "the plan expands to more than 5 restores")], found


def test_render_outside_a_load_keeps_its_own_budget() -> None:
    with template.plan_scope() as plan:
        plan.steps_left = 10
        with pytest.raises(template.TemplateError) as exc:
            template.render("{% for i in range(100) %}{% endfor %}", {})
        assert exc.value.code == "RP126"
        with pytest.raises(template.BudgetSpent):
            template.render("{{ 1 }}", {})  # reported once: the rest is skipped
    assert template.render("{% for i in range(100) %}{% endfor %}x", {}) == "x"


def test_hint_names_the_limits(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(MANY_STEPS)
    ev = evaluate(str(plan), [], [])
    (d,) = ev.diagnostics
    assert re.search(r"4,000,000 steps", d.detail) and "64 MiB" in d.detail
