"""Apply against one PostgreSQL state from real processes: crash, two applies, the lock, plan.

`sim serve` on 127.0.0.1 plays the cloud; apply runs as a subprocess with
``--backend postgres --workspace W`` and PG_CONN_STR in its environment only.
The simulator's ledger is the judge: no target restored twice.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.errors import StateLockedError, UserError
from planner.state.postgres import SCHEMA_VERSION, PostgresBackend
from tests.apply.checks import duplicates
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_apply, start_sim, stop

SCALE = 3000.0
ARGS = ["--auto-approve", "--no-color", "--parallelism", "6", "--poll-interval", "0.1"]

HOLDER = """
import sys
from planner.state.postgres import PostgresBackend
b = PostgresBackend(sys.argv[1], "restore_planner", sys.argv[2])
print(b.lock("apply").acquire().id, flush=True)
sys.stdin.read()
"""


def _pg(conn: str, workspace: str) -> list[str]:
    return ["--backend", "postgres", "--workspace", workspace]


def test_kill_9_then_apply_again_on_postgres(tmp_path: Path, pg_conn_str: str, pg_workspace: str) -> None:
    rng = random.Random(11)
    drill = make_drill(10, seed=11, time_scale=SCALE)
    inventory, plan = write_drill(drill, tmp_path)
    sim, env = start_sim(inventory, "5xx=0.03,429=0.03", 11, SCALE)
    env["PG_CONN_STR"] = pg_conn_str
    args = [str(plan), *ARGS, *_pg(pg_conn_str, pg_workspace)]
    try:
        for _ in range(3):
            proc = start_apply(args, env)
            try:
                assert proc.stdout is not None
                for _ in range(rng.randint(1, 40)):
                    if not proc.stdout.readline():
                        break
                time.sleep(rng.random() * 0.3)
            finally:
                stop(proc)  # kill -9: its connection dies, the database frees its lock
            PostgresBackend(pg_conn_str, "restore_planner", pg_workspace).store().load()
        for _ in range(5):
            proc = start_apply(args, env)
            try:
                out, err = proc.communicate(timeout=120)
            finally:
                stop(proc)
            if proc.returncode == 0:
                break
        assert proc.returncode == 0, err
        assert pg_conn_str not in out + err
        restores = ledger(env)["restores"]
    finally:
        stop(sim)
    assert duplicates({"restores": restores}) == []
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
    b = PostgresBackend(pg_conn_str, "restore_planner", pg_workspace)
    recorded = b.store().load().restores
    assert {r.status for r in recorded.values()} == {"succeeded"}
    assert len(recorded) == len(drill.target)
    assert b.journal().pending() == []
    assert len(b.list_runs()) >= 2
    assert not (tmp_path / ".restore-planner").exists()  # nothing went to local files
    b.close()


def test_two_applies_from_two_processes(tmp_path: Path, pg_conn_str: str, pg_workspace: str) -> None:
    drill = make_drill(6, seed=3, levels=1, time_scale=1000.0)  # one level: a few seconds
    inventory, plan = write_drill(drill, tmp_path)
    sim, env = start_sim(inventory, "", 3, 1000.0)
    env["PG_CONN_STR"] = pg_conn_str
    args = [str(plan), *ARGS, *_pg(pg_conn_str, pg_workspace)]
    try:
        first = start_apply(args, env)
        try:
            assert first.stdout is not None
            line = first.stdout.readline()  # the plan is printed with the lock held
            assert line
            second = start_apply(args, env)
            _, err = second.communicate(timeout=60)
            stop(second)
            assert second.returncode == 1
            assert f"is locked by apply (pid {first.pid} on " in err
            assert "lock id " in err
            _, err1 = first.communicate(timeout=120)
            assert first.returncode == 0, err1
        finally:
            stop(first)
        restores = ledger(env)["restores"]
    finally:
        stop(sim)
    assert duplicates({"restores": restores}) == []
    assert len(restores) == len(drill.target)


def test_a_killed_holder_frees_the_lock_and_force_unlock_works(
    pg_conn_str: str, pg_workspace: str
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, pg_conn_str, pg_workspace],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        lock_id = proc.stdout.readline().strip()
        b = PostgresBackend(pg_conn_str, "restore_planner", pg_workspace)
        with pytest.raises(StateLockedError) as exc:
            b.lock("apply").acquire()
        assert exc.value.message.endswith(f"lock id {lock_id}")
        assert f"force-unlock {lock_id} --backend postgres --workspace {pg_workspace}" in str(exc.value.hint)
        proc.kill()
        proc.wait(timeout=10)
        # PostgreSQL notices the dead connection; the advisory lock goes with it
        for _ in range(100):
            if b.held_lock() is None:
                break
            time.sleep(0.05)
        with b.lock("apply") as lock:
            assert lock.stale is not None and lock.stale.id == lock_id
        # force-unlock of a holder that is stuck: its connection is ended
        stuck = PostgresBackend(pg_conn_str, "restore_planner", pg_workspace)
        info = stuck.lock("apply").acquire()
        b2 = PostgresBackend(pg_conn_str, "restore_planner", pg_workspace)
        with pytest.raises(UserError):
            b2.force_unlock(info.id)  # alive (this very process): refused
        b.close()
        b2.close()
    finally:
        stop(proc)


def test_schema_is_versioned_and_a_newer_one_refused(pg_conn_str: str, pg_workspace: str) -> None:
    import psycopg

    schema = "rp_v_" + pg_workspace.replace("-", "_")
    b = PostgresBackend(pg_conn_str, schema, pg_workspace)
    b.store().load()  # created on first use
    with psycopg.connect(pg_conn_str, autocommit=True) as conn:
        got = conn.execute(f"SELECT value FROM {schema}.meta WHERE key = 'schema_version'").fetchone()
        assert got == (str(SCHEMA_VERSION),)
        conn.execute(f"UPDATE {schema}.meta SET value = '99' WHERE key = 'schema_version'")
    b.close()
    with pytest.raises(UserError) as exc:
        PostgresBackend(pg_conn_str, schema, pg_workspace).store().load()
    assert exc.value.message == (
        f"PostgreSQL schema {schema} has schema version 99, made by a newer restore-planner; "
        f"this version knows schema version {SCHEMA_VERSION}"
    )


def test_bad_connection_string_error_hides_the_password(pg_conn_str: str) -> None:
    bad = pg_conn_str.replace("rp@", "rp:s3cr3t-pw@").replace("/postgres", "/no_such_db")
    with pytest.raises(UserError) as exc:
        PostgresBackend(bad, "restore_planner", "x").store().load()
    assert exc.value.message.startswith("PostgreSQL state backend: cannot connect: ")
    assert "s3cr3t-pw" not in exc.value.message + str(exc.value.hint)
