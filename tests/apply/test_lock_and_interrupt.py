"""Two applies on one state, and Ctrl-C during an apply (DESIGN sections 7 and 11).

A slow apply (a simulator at a low time scale) holds the lock: a second apply
fails at once naming the holder. SIGINT to the first: it starts nothing new,
tracks what is in flight to the end, records it, exits 130; a following apply
finishes the rest without restoring anything twice.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.apply.checks import duplicates, read_state
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ledger, start_apply, start_sim, stop

SCALE = 1500.0


def test_second_apply_names_the_holder_and_ctrl_c_finishes_in_flight(tmp_path: Path) -> None:
    drill = make_drill(12, seed=5, time_scale=SCALE)
    inventory, plan = write_drill(drill, tmp_path)
    args = [str(plan), "--auto-approve", "--no-color", "--parallelism", "3", "--poll-interval", "0.1"]
    sim, env = start_sim(inventory, "", 5, SCALE)
    first = start_apply(args, env)
    try:
        assert first.stdout is not None
        while "accepted, task" not in (line := first.stdout.readline()):
            assert line, "the first apply ended before starting a restore"
        began = time.monotonic()
        second = start_apply(args, env)
        try:
            _out, err = second.communicate(timeout=30)
        finally:
            stop(second)
        assert second.returncode == 1
        assert time.monotonic() - began < 15  # at once: it never waits for the lock
        assert f" is locked by apply (pid {first.pid} on " in err
        in_flight = len(ledger(env)["restores"])
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
        assert first.returncode == 130, err
        assert "Interrupted: starting nothing new; waiting for restores in flight" in err
        assert "Apply interrupted: " in out
        after_stop = ledger(env)["restores"]
        # nothing new after the signal: at most the restores whose POST was already going out
        assert len(after_stop) <= in_flight + 3
        assert {r["status"] for r in after_stop} == {"success"}  # tracked to the end
        recorded = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
        assert sorted(r["task_id"] for r in recorded.values()) == sorted(r["job_id"] for r in after_stop)
        assert {r["status"] for r in recorded.values()} == {"succeeded"}
        assert len(after_stop) < len(drill.target)

        again = start_apply([*args[:-4], "--parallelism", "12", "--poll-interval", "0.1"], env)
        try:
            _out, err = again.communicate(timeout=120)
        finally:
            stop(again)
        assert again.returncode == 0, err
        final = ledger(env)["restores"]
    finally:
        stop(first)
        stop(sim)
    assert duplicates({"restores": final}) == []
    assert sorted(r["target_id"] for r in final) == sorted(drill.target.values())


def test_a_second_ctrl_c_ends_the_apply_at_once_and_the_next_apply_reconciles(tmp_path: Path) -> None:
    """Real signals: restores of hours at 60x run minutes of wall time; after the second
    SIGINT the process is gone within seconds, what the cloud accepted stays "started",
    and the next apply looks those tasks up instead of sending them again."""
    drill = make_drill(4, seed=5, levels=1)
    inventory, plan = write_drill(drill, tmp_path)
    args = [str(plan), "--auto-approve", "--no-color", "--parallelism", "4"]
    sim, env = start_sim(inventory, "", 5, 60.0)
    first = start_apply(args, env)
    try:
        assert first.stdout is not None
        accepted = 0
        while accepted < len(drill.target):
            line = first.stdout.readline()
            assert line, "the apply ended before its restores were accepted"
            accepted += "accepted, task" in line
        first.send_signal(signal.SIGINT)
        time.sleep(0.3)
        first.send_signal(signal.SIGINT)
        began = time.monotonic()
        _out, err = first.communicate(timeout=30)
        took = time.monotonic() - began
        assert first.returncode == 130, err
        assert took < 5.0, f"the apply took {took:.1f} s to end after the second Ctrl-C"
        assert "Interrupted again: no longer tracking" in err
        recorded = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
        sent = {r["job_id"] for r in ledger(env)["restores"]}
        assert {r["status"] for r in recorded.values()} == {"started"}
        assert {r["task_id"] for r in recorded.values()} == sent  # exactly what the cloud accepted

        again = start_apply([*args, "--format", "json"], env)
        adopted: set[str] = set()
        try:
            assert again.stdout is not None
            while len(adopted) < len(drill.target):  # the restores take minutes: adopting is enough
                line = again.stdout.readline()
                assert line, "the next apply ended before adopting every restore"
                event = json.loads(line)
                if event.get("kind") == "restore_started":
                    assert event.get("adopted") is True, event
                    adopted.add(event["address"])
        finally:
            stop(again)
        final = ledger(env)["restores"]
    finally:
        stop(first)
        stop(sim)
    assert duplicates({"restores": final}) == [] and len(final) == len(drill.target)
