"""Input that used to be accepted silently is refused (issue 10, item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize(("value", "why"), [("0", "must be at least 1, got 0"), ("-4", "must be at least 1, got -4")])
def test_parallelism_below_one_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, value: str, why: str
) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\nrestores:\n  db: {server: s1, backup: b1}\n")
    with pytest.raises(SystemExit) as info:
        main([command, str(tmp_path / "p.yaml"), f"--parallelism={value}", "--no-color"])
    assert info.value.code == 1  # this CLI exits 1 on usage errors, like every user error
    assert f"error: argument --parallelism: {why}" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e9", "soon"])
def test_a_poll_interval_that_would_never_poll_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """inf (or nan) as the floor between listings would never look again: the apply
    would wait forever for restores it started."""
    (tmp_path / "p.yaml").write_text("version: 1\nrestores:\n  db: {server: s1, backup: b1}\n")
    with pytest.raises(SystemExit) as info:
        main(["apply", str(tmp_path / "p.yaml"), f"--poll-interval={value}", "--no-color"])
    assert info.value.code == 1
    assert "error: argument --poll-interval: " in capsys.readouterr().err


@pytest.mark.parametrize("command", [["demo"], ["sim", "serve", "--inventory", "inv.yaml"]])
@pytest.mark.parametrize("value", ["inf", "nan", "1e12"])
def test_a_time_scale_the_simulated_clock_cannot_run_at_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], command: list[str], value: str
) -> None:
    """``demo --time-scale inf`` ended in an OverflowError of the simulated clock."""
    with pytest.raises(SystemExit) as info:
        main([*command, f"--time-scale={value}", "--no-color"])
    assert info.value.code == 1
    assert "error: argument --time-scale: must be at most 1e+07" in capsys.readouterr().err
