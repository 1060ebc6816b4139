"""apply asks before overwriting anything, and refuses to guess without a terminal."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from planner.cli.main import main
from tests.apply.drill import in_process, make_drill, simulator, write_drill


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _setup(tmp_path: Path) -> tuple[Path, object, object]:
    drill = make_drill(4, seed=5, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    return plan, sim, clock


def test_no_terminal_and_no_auto_approve_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan, sim, clock = _setup(tmp_path)
    with in_process(sim, clock):  # type: ignore[arg-type]
        rc = main(["apply", str(plan), "--no-color"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "error: apply would overwrite 4 target(s) and needs confirmation, but stdin is not a terminal" in err
    assert "--auto-approve" in err
    assert sim.ledger()["restores"] == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(("answer", "rc", "restored"), [("no", 1, 0), ("yes", 0, 4)])
def test_terminal_prompt_accepts_only_yes(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    rc: int,
    restored: int,
) -> None:
    plan, sim, clock = _setup(tmp_path)
    monkeypatch.setattr(sys, "stdin", _Tty(answer + "\n"))
    with in_process(sim, clock):  # type: ignore[arg-type]
        assert main(["apply", str(plan), "--no-color"]) == rc
    out = capsys.readouterr()
    assert "Overwrite 4 targets? Only 'yes' is accepted: " in out.out
    assert len(sim.ledger()["restores"]) == restored  # type: ignore[attr-defined]
    if answer == "no":
        assert "Apply cancelled; nothing was changed." in out.err
