"""`restore-planner demo`: the four steps under their headings, files, reports, exit 0.

A 9-server drill at a 100,000x clock so it finishes in about a second.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from planner.cli.context import Context
from planner.cli.demo import choose_scale
from planner.cli.main import main

SMALL = ["--servers", "9", "--time-scale", "100000"]
HEADINGS = [
    "== restore-planner demo: a disaster-recovery drill of 9 servers on the built-in cloud simulator ==",
    "== Step 1 of 4: check the plan offline (no cloud access) ==",
    "$ restore-planner validate plans/",
    "== Step 2 of 4: plan: read the cloud, choose backups, show what would be overwritten ==",
    "$ restore-planner plan plans/ --out drill.plan --state .restore-planner/state.json",
    "== Step 3 of 4: apply the saved plan, exactly as reviewed, with live progress ==",
    "$ restore-planner apply drill.plan --auto-approve",
    "== Step 4 of 4: the drill report: per restore and per wave, estimate vs actual, a timeline ==",
    "$ restore-planner report --format html --out report.html",
    "$ restore-planner report --format markdown --out report.md",
    "== What next ==",
]


def _in_order(lines: list[str], wanted: list[str]) -> list[str]:
    """The wanted lines that are missing or out of order."""
    at = 0
    missing = []
    for w in wanted:
        try:
            at = lines.index(w, at) + 1
        except ValueError:
            missing.append(w)
    return missing


def _drill_servers(d: Path) -> int:
    inv = yaml.safe_load((d / "inventory.yaml").read_text(encoding="utf-8"))
    return sum(1 for s in inv["servers"] if s["tags"]["env"] == "drill")


def test_demo_runs_every_step_and_writes_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_ACCESS_KEY", "a-real-key-in-the-users-shell")
    cwd = os.getcwd()
    d = tmp_path / "demo"
    rc = main(["demo", *SMALL, "--dir", str(d)])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert _in_order(lines, HEADINGS) == []
    n = _drill_servers(d)
    assert 3 <= n <= 9
    assert "Valid: 3 restores (3 blocks) in 1 file." in lines
    assert f"Apply complete: {n} restored, 0 failed, 0 skipped, 0 unchanged." in lines
    assert "Wrote html report of run " in out and " to report.html" in out
    assert f"  {d / 'report.html'}  open it in a browser (self-contained, with a timeline)" in lines
    assert "so this takes under a second; the timestamps below are simulated time." in lines
    # the drill's length against its estimate, and how soon apply saw the ends (its run log)
    drill = next(x for x in lines if x.startswith("The drill took "))
    assert " estimated; ends were noticed p50 " in drill
    assert re.search(r"\(p95 \d+\.\d % of a restore's duration; \d+ ends\)\.$", drill), drill

    assert (
        (d / "plans" / "drill.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=../plan.schema.json\n")
    )
    assert (d / "plan.schema.json").is_file()
    assert (d / "drill.plan").is_file()
    assert list((d / ".restore-planner" / "runs").glob("*.jsonl"))
    assert "<svg" in (d / "report.html").read_text(encoding="utf-8")
    assert (d / "report.md").read_text(encoding="utf-8").strip()
    # the demo leaves the process as it found it
    assert os.getcwd() == cwd
    assert Context.build().transport is None and Context.build().clock is None
    assert os.environ["HW_ACCESS_KEY"] == "a-real-key-in-the-users-shell"
    assert "HW_AUTH_TOKEN" not in os.environ


def test_demo_piped_prints_plain_text(tmp_path: Path) -> None:
    d = tmp_path / "piped"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "demo", *SMALL, "--dir", str(d)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert _in_order(lines, HEADINGS) == []
    n = _drill_servers(d)
    # piped, the apply shows one plain line per change, not live bars
    assert sum(1 for line in lines if line.endswith(f"[{n}/{n}]")) == 1


def test_demo_resets_its_own_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "again"
    assert main(["demo", *SMALL, "--dir", str(d)]) == 0
    capsys.readouterr()
    assert main(["demo", *SMALL, "--dir", str(d)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{d}/ holds an earlier demo; starting afresh." in lines
    # a fresh state: the second drill restores everything again
    n = _drill_servers(d)
    assert f"Apply complete: {n} restored, 0 failed, 0 skipped, 0 unchanged." in lines
    assert len(list((d / ".restore-planner" / "runs").glob("*.jsonl"))) == 1


def test_demo_refuses_a_directory_it_did_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert main(["demo", *SMALL, "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {tmp_path} is not empty and was not made by the demo; refusing to write into it\n"
        "hint: pass --dir with a new or empty directory, e.g. --dir demo-out\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--servers", "2"], "error: --servers must be at least 3 (one per tier), not 2\n"),
        (
            ["--servers", "1001"],
            "error: --servers must be at most 1000 (the demo plan's guards.max_restores), not 1001\n"
            "hint: for larger drills write an inventory with `restore-planner sim generate` and serve it\n",
        ),
        (
            ["--time-scale", "-5"],
            "error: --time-scale must be positive, or 0 to choose one, not -5\n",
        ),
    ],
)
def test_demo_rejects_bad_arguments(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", *argv, "--dir", str(tmp_path / "d")]) == 1
    assert capsys.readouterr().err == message
    assert not (tmp_path / "d").exists()


def test_time_scale_fits_the_estimate_into_a_minute() -> None:
    assert choose_scale(16 * 3600) == 960.0
    assert choose_scale(30.0) == 1.0  # never slower than real time
    assert choose_scale(16 * 3600, requested=50.0) == 50.0
