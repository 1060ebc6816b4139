"""Names and ids from a plan are checked whole: `^...$` with `re.match` let a trailing
newline through (a restore named "db\\n" was valid); a bad id's hint is a hint line."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main


def _validate(tmp: Path, text: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    (tmp / "plan.yaml").write_text(text)
    assert main(["validate", str(tmp / "plan.yaml"), "--no-color", *args]) == 1
    return capsys.readouterr().err


def test_a_restore_name_with_a_trailing_newline_is_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _validate(tmp_path, 'version: 1\nrestores:\n  "db\\n": {server: a, backup: b}\n', capsys)
    assert "error[RP119]: invalid restore name" in err


def test_a_variable_name_with_a_trailing_newline_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _validate(tmp_path, 'version: 1\nvars: {"x\\n": 1}\nrestores:\n  db: {server: a, backup: b}\n', capsys)
    assert "error[RP142]: invalid variable name" in err


def test_a_bad_id_has_its_hint_on_a_hint_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _validate(tmp_path, 'version: 1\nrestores:\n  a: {server: "../x", backup: b}\n', capsys)
    assert "plan.yaml:3:15: error[RP111]: restores.a.server: '../x' is not a server id" in err
    assert "\n  hint: give the server's id" in err
