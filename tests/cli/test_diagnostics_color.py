"""Diagnostics that plan, apply and graph print go through one colour decision:
colour on a terminal, none with NO_COLOR (any value), --no-color or when piped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from planner.cli.main import main


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("command", ["plan", "graph", "validate"])
def test_no_color_holds_for_diagnostics_on_a_terminal(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = str(tmp_path / "nonexist")
    seen = {}
    for name, env, flags in (
        ("tty", {}, []),
        ("NO_COLOR", {"NO_COLOR": "1"}, []),
        ("--no-color", {}, ["--no-color"]),
    ):
        err = _Tty()
        monkeypatch.setattr("sys.stderr", err)
        assert main([command, missing, *flags], env=env) == 1
        seen[name] = err.getvalue()
    assert "error[RP108]" in seen["NO_COLOR"]
    assert "\x1b[" in seen["tty"]  # the terminal gets colour: the check below can fail
    assert "\x1b[" not in seen["NO_COLOR"]
    assert "\x1b[" not in seen["--no-color"]
