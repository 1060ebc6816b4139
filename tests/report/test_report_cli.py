"""``restore-planner report`` end to end through main(): exact messages, files written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planner.cli.main import main

from .conftest import DRILL_LOG, synthetic_events

RUN = "20260301T020000Z-3f9a"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    runs = tmp_path / ".restore-planner" / "runs"
    runs.mkdir(parents=True)
    shutil.copy(DRILL_LOG, runs / f"{RUN}.jsonl")
    older = "\n".join(json.dumps(e) for e in synthetic_events(8, waves=2)) + "\n"
    (runs / "20260201T000000Z-0001.jsonl").write_text(older)
    return tmp_path / ".restore-planner" / "state.json"


def test_latest_run_as_markdown(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"## Drill report: run `{RUN}`\n")


def test_state_found_from_the_plan_path(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", RUN, str(state.parent.parent), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == RUN


def test_out_writes_the_file(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "drill.html"
    assert main(["report", "--state", str(state), "--format", "html", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"Wrote html report of run {RUN} to {out}\n"
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_no_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    assert main(["report", "--state", str(state)]) == 1
    assert capsys.readouterr().err == (
        f"error: no runs recorded beside {state}\nhint: run restore-planner apply first\n"
    )


def test_unknown_run_lists_the_runs(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "20990101T000000Z-ffff", "--state", str(state)]) == 1
    assert capsys.readouterr().err == (
        f"error: no run 20990101T000000Z-ffff beside {state}; "
        f"recorded runs: 20260201T000000Z-0001, {RUN}\n"
    )


def test_calibrate(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--state", str(state), "--calibrate"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Calibrated from 8 succeeded restores of run {RUN}:"
    assert out.endswith("defaults:\n  restore_overhead: 1m2s\n  throughput_gb_per_min: 4.02\n")
