"""`plan` while an apply holds the state: the plan itself says so (RP371), so the PR
comment and the JSON carry it, not only stderr; and its words match what apply does
(refused while that run holds the state, not "waits")."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.lock import StateLock
from tests.apply.drill import DrillKit, make_drill


def test_a_plan_made_during_an_apply_carries_the_warning_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kit = DrillKit(make_drill(3, seed=1, levels=1), tmp_path)
    with kit.cloud():
        assert main(["apply", str(kit.plan), "--auto-approve", "--no-color"]) == 0
        capsys.readouterr()
        with StateLock(kit.state, "apply"):
            assert main(["plan", str(kit.plan), "--format", "json", "--out", str(kit.saved)]) == 0
            shown = capsys.readouterr()
            assert main(["plan", str(kit.plan), "--format", "markdown", "--no-color"]) == 0
            markdown = capsys.readouterr().out
        assert main(["plan", str(kit.plan), "--format", "json"]) == 0
        after = json.loads(capsys.readouterr().out)
    (warning,) = [w for w in json.loads(shown.out)["warnings"] if w["code"] == "RP371"]
    assert warning["summary"].startswith("an apply is in progress on ")
    assert "refused while that run holds the state" in warning["detail"]
    assert "waits" not in shown.err and "note: an apply is in progress on " in shown.err
    assert "RP371" in markdown and "an apply is in progress on " in markdown
    assert "RP371" in json.dumps(json.loads(kit.saved.read_text())["warnings"])
    assert not [w for w in after["warnings"] if w["code"] == "RP371"]  # the lock is gone


@pytest.mark.parametrize(("out", "shown"), [("-x.plan", "./-x.plan"), ("a b.plan", "'a b.plan'")])
def test_the_apply_command_plan_prints_can_be_pasted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, out: str, shown: str
) -> None:
    kit = DrillKit(make_drill(2, seed=1, levels=1), tmp_path)
    monkeypatch.chdir(tmp_path)
    with kit.cloud():
        assert main(["plan", str(kit.plan), f"--out={out}", "--no-color"]) == 0
        err = capsys.readouterr().err
        assert f"  restore-planner apply {shown}\n" in err, err
        assert main(["apply", *shlex.split(shown), "--no-color"]) == 0
