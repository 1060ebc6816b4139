"""A closed stdout pipe (`state list | head -1`) ends quietly: no "This is a bug",
no crash log, status 141 (128 + SIGPIPE), which is what a shell reports for git
or terraform in the same pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from planner.state.model import BackupInfo, RestoreRecord, State, TargetInfo
from planner.state.store import StateStore

ROOT = Path(__file__).resolve().parents[2]


def _closed_pipe_run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader is already gone: the first write fails, every time."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "planner", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=60)
    finally:
        os.close(write_end)


def _crash_logs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("restore-planner-crash-*")}


def _record(address: str) -> RestoreRecord:
    at = datetime(2026, 11, 20, 6, tzinfo=UTC)
    return RestoreRecord(
        address=address, target=TargetInfo(kind="server", id=f"id-{address}", name=address),
        backup=BackupInfo(id="b-1", name="autobk_0001", created_at=at), status="succeeded",
        started_at=at, ended_at=at, run_id="20261120T060000Z-0001",
    )


@pytest.fixture
def plan_with_state(tmp_path: Path) -> Path:
    (tmp_path / "plan.yaml").write_text(
        'version: 1\nrestores:\n  db:\n    server: {name: db-01}\n    backup: {before: "2026-11-20T00:00:00Z"}\n'
    )
    state = State.new()
    for name in ("db", "app", "web"):
        state.record(_record(name))
    store = StateStore(tmp_path / ".restore-planner" / "state.json")
    store.write(state)
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ["schema"],
        ["state", "list"],
        ["state", "list", "--format", "json"],
        ["validate", "."],
        ["validate", ".", "--format", "json"],
        ["graph", "."],
        ["completion", "bash"],
    ],
)
def test_closed_stdout_ends_quietly(argv: list[str], plan_with_state: Path) -> None:
    before = _crash_logs()
    out = _closed_pipe_run(argv, plan_with_state)
    assert out.returncode == 141, out.stderr
    assert out.stderr == ""
    assert _crash_logs() == before


def test_a_real_pipe_into_head(tmp_path: Path) -> None:
    # 3,000 lines do not fit in a pipe buffer: head exits while schema still writes
    restores = "".join(
        f"  r{i}:\n    server: {{name: s{i}}}\n    backup: {{before: \"2026-11-20T00:00:00Z\"}}\n"
        for i in range(1000)
    )
    (tmp_path / "plan.yaml").write_text("version: 1\nrestores:\n" + restores)
    before = _crash_logs()
    out = subprocess.run(
        ["bash", "-c", f'set -o pipefail; "{sys.executable}" -m planner graph . | head -1; echo "status=${{PIPESTATUS[0]}}"'],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    lines = out.stdout.splitlines()
    assert lines[0].startswith("digraph")
    assert lines[-1] in ("status=141", "status=0")  # 0 when head read before the writer filled the pipe
    assert "This is a bug" not in out.stderr and "Error" not in out.stderr
    assert _crash_logs() == before


def test_state_show_json_into_a_closed_pipe(plan_with_state: Path) -> None:
    shown = subprocess.run([sys.executable, "-m", "planner", "state", "show", "db", "--format", "json"],
                           capture_output=True, text=True, cwd=plan_with_state, timeout=60)
    assert shown.returncode == 0 and json.loads(shown.stdout)
    out = _closed_pipe_run(["state", "show", "db", "--format", "json"], plan_with_state)
    assert (out.returncode, out.stderr) == (141, "")


@pytest.mark.parametrize("argv", [["--help"], ["plan", "--help"], ["state", "list", "--help"], ["--version"]])
def test_help_and_version_into_a_closed_pipe_end_with_141(argv: list[str], tmp_path: Path) -> None:
    """argparse swallows the write error and exits 0: a script would read success."""
    out = _closed_pipe_run(argv, tmp_path)
    assert (out.returncode, out.stderr) == (141, "")


def test_a_reader_that_goes_away_mid_document_still_gets_141(tmp_path: Path) -> None:
    """`sim generate --servers 3000 | head -c 10`: one write of the whole 11 MB lost the
    closed pipe's error in CPython (exit 0, output cut); it is written in slices now."""
    proc = subprocess.Popen([sys.executable, "-m", "planner", "sim", "generate", "--servers", "3000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "bug" not in err
