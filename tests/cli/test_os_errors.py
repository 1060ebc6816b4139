"""What the machine does to a command is the operator's to fix, never "This is a bug":
stdout on a full device, stdout closed, and a CI runner's SIGTERM during apply (handled
as a second Ctrl-C: in-flight restores recorded as started, a summary, exit 130; the
next apply reconciles them and restores nothing twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apply.checks import duplicates
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_apply, start_sim, stop

WAVES = str(ROOT / "specs" / "examples" / "waves")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_stdout_on_a_full_device_is_an_error_not_a_bug() -> None:
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "planner", "validate", WAVES, "--format", "json"],
                             cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 1
    assert out.stderr.startswith("error: No space left on device"), out.stderr
    assert "bug" not in out.stderr


def test_a_closed_stdout_is_written_to_nowhere() -> None:
    out = subprocess.run([sys.executable, "-m", "planner", "validate", WAVES], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=60, close_fds=True,
                         preexec_fn=lambda: os.close(1))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "bug" not in out.stderr and "Traceback" not in out.stderr


def test_sigterm_during_apply_stops_it_as_a_second_ctrl_c(tmp_path: Path) -> None:
    drill = make_drill(3, seed=1, levels=1)
    inv, plan = write_drill(drill, tmp_path)
    sim, env = start_sim(inv, time_scale=600.0)
    try:
        proc = start_apply([str(plan), "--auto-approve", "--no-color"], env)
        try:
            deadline = time.monotonic() + 60
            while not ledger(env)["restores"] and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        finally:
            stop(proc)
        assert proc.returncode == 130, err
        assert "Apply interrupted" in out and "bug" not in err
        again = start_apply([str(plan), "--auto-approve", "--no-color"], env)
        try:
            _out2, err2 = again.communicate(timeout=180)
        finally:
            stop(again)
        assert again.returncode == 0, err2
        restores = ledger(env)["restores"]
        assert duplicates({"restores": restores}) == []
        assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
    finally:
        stop(sim)


def test_a_reader_closing_apply_output_mid_apply_stops_the_output_not_the_apply(tmp_path: Path) -> None:
    """`apply ... | head -3`: the reader goes away while restores are in flight. The
    apply goes on to the end and records every outcome (stopping would leave them
    untracked for want of a display); exit 141, as for any closed pipe."""
    drill = make_drill(3, seed=1, levels=1)
    inv, plan = write_drill(drill, tmp_path)
    state = tmp_path / "st" / "state.json"
    sim, env = start_sim(inv, time_scale=600.0)
    try:
        proc = start_apply([str(plan), "--auto-approve", "--no-color", "--state", str(state)], env)
        try:
            assert proc.stdout is not None
            while "restoring" not in proc.stdout.readline():  # the plan, then the first start
                pass
            proc.stdout.close()  # the reader goes away with restores in flight
            _out, err = proc.communicate(timeout=180)
        finally:
            stop(proc)
        assert proc.returncode == 141, err
        assert "output stopped" in err and "the apply goes on" in err, err
        assert "bug" not in err and "Traceback" not in err, err
        restores = ledger(env)["restores"]
        assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
        records = json.loads(state.read_text())["restores"]
        assert sorted(r["status"] for r in records.values()) == ["succeeded"] * 3, records
    finally:
        stop(sim)
