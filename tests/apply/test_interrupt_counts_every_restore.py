"""A Ctrl-C before every restore started: the ones never started are in the run log
(skipped, with why), so the summary, the report and JUnit count every restore the
plan had, and a CI job reading the JUnit does not see a clean pass of a few."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.drill import (
    abandoned_once_accepted,
    in_process,
    make_drill,
    simulator,
    write_drill,
)


def test_restores_an_interrupted_apply_never_started_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(8, seed=3, levels=2)
    _inventory, plan = write_drill(drill, tmp_path)
    total = sum(len(level) for level in drill.levels)
    sim, clock = simulator(drill)
    with in_process(sim, clock), abandoned_once_accepted(2, first_ctrl_c=True):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "2"]) == 130
    out = capsys.readouterr().out
    ran = {r["target_id"] for r in sim.ledger()["restores"]}
    assert 0 < len(ran) < total
    missing = total - len(ran)
    assert f", {missing} not started." in out, out
    assert out.count("  not started  ") == missing

    assert main(["report", str(plan), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["address"]: r for r in report["restores"]}
    assert len(rows) == total  # every restore of the plan, not only those that ran
    not_started = [r for r in rows.values() if r["skipped_reason"]]
    assert len(not_started) == missing
    assert all(r["outcome"] == "skipped" and r["skipped_because"] == [] for r in not_started)

    assert main(["report", str(plan), "--format", "junit"]) == 0
    suites = ET.fromstring(capsys.readouterr().out)
    assert int(suites.get("tests", "0")) == total
    assert int(suites.get("skipped", "0")) == missing
    messages = {s.get("message") for s in suites.iter("skipped")}
    assert messages == {"not started: the apply was interrupted first"}

    assert main(["report", str(plan), "--format", "markdown"]) == 0
    assert "the apply was interrupted first" in capsys.readouterr().out
    # state is untouched for them: the next plan shows them as restores again
    recorded = StateStore(plan.parent / ".restore-planner" / "state.json").load().restores
    assert len(recorded) == len(ran)
