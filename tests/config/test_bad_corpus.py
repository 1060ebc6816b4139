"""Bad-plan corpus: each offending line carries `# ERROR: RPxxx`; the loader must report exactly those."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.config.load import load_plan

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad"
_MARK = re.compile(r"#\s*ERROR:\s*((?:RP\d{3}\s*)+)")


def _expected(paths: list[Path]) -> set[tuple[str, int, str]]:
    out = set()
    for p in paths:
        for n, line in enumerate(p.read_text().splitlines(), 1):
            m = _MARK.search(line)
            if m:
                out |= {(str(p), n, code) for code in m.group(1).split()}
    return out


CASES = sorted([*BAD.glob("*.yaml"), *(d for d in BAD.iterdir() if d.is_dir())])


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_reports_exactly_the_marked_lines(case: Path) -> None:
    files = sorted(case.glob("*.yaml")) if case.is_dir() else [case]
    expected = _expected(files)
    assert expected, f"{case} has no # ERROR: markers"
    config, diags = load_plan(str(case), [], [])
    assert config is None
    got = {(d.range.file, d.range.line, d.code) for d in diags if d.range is not None}
    assert got == expected


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_cli_exits_1_with_compiler_style_lines(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(case), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^\S+\.yaml:\d+:\d+: error\[RP1\d\d\]: ", err, re.M), err
    assert "Traceback" not in err and "bug" not in err


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)  # sparse: nothing to parse, the size check must stop it
    config, diags = load_plan(str(big), [], [])
    assert config is None
    assert [(d.code, str(d.range)) for d in diags] == [("RP105", f"{big}:1:1")]
    assert diags[0].summary == "file is too large (16777217 bytes; the limit is 16777216 bytes, 16 MiB)"


def test_alias_bomb_is_refused_with_one_diagnostic() -> None:
    _, diags = load_plan(str(BAD / "alias_bomb.yaml"), [], [])
    assert [d.summary for d in diags] == ["YAML alias *a is not allowed"]


def test_bad_var_syntax(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text("version: 1\nrestores:\n  db: {server: s1, backup: b1}\n")
    config, diags = load_plan(str(plan), [], ["point_in_time", "1x=2"])
    assert config is None
    assert [(d.code, d.summary) for d in diags] == [
        ("RP140", "invalid --var 'point_in_time'"),
        ("RP140", "invalid --var '1x=2'"),
    ]
    assert main(["validate", str(plan), "--var", "nope"]) == 1
    assert "error[RP140]: invalid --var 'nope'" in capsys.readouterr().err


def test_var_file_must_be_a_mapping(tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text("version: 1\nrestores:\n  db: {server: s1, backup: b1}\n")
    vf = tmp_path / "v.yaml"
    vf.write_text("- a\n")
    _, diags = load_plan(str(plan), [str(vf)], [])
    assert [(d.code, str(d.range)) for d in diags] == [("RP141", f"{vf}:1:1")]


def test_missing_path() -> None:
    _, diags = load_plan(os.path.join("no", "such.yaml"), [], [])
    assert [d.code for d in diags] == ["RP108"]
