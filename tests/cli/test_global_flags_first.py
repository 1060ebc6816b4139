"""The flags every command takes (--no-color, --debug) may come before the command,
as git's do: `restore-planner --no-color validate .` works as `validate . --no-color`."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import _globals_after_command, main

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "examples" / "single-vm"


def test_a_global_flag_before_the_command_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-color", "validate", str(EXAMPLE)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("Valid: ") and "unrecognized" not in out.err


def test_flags_move_after_the_command_but_not_past_a_literal_double_dash() -> None:
    assert _globals_after_command(["--no-color", "--debug", "plan", "p/"]) == ["plan", "p/", "--no-color", "--debug"]
    assert _globals_after_command(["--debug", "state", "rm", "--", "-odd"]) == ["state", "rm", "--debug", "--", "-odd"]
    assert _globals_after_command(["plan", "--no-color"]) == ["plan", "--no-color"]
    assert _globals_after_command(["--no-color"]) == ["--no-color"]  # no command: the usage error stays
