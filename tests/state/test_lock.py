from __future__ import annotations

import getpass
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner.errors import StateLockedError, UserError
from planner.state.lock import StateLock, force_unlock, lock_paths, read_lock_info

# Holds the state lock until its stdin closes; prints the lock id once it holds it.
HOLDER = """
import sys
from pathlib import Path
from planner.state.lock import StateLock
lock = StateLock(Path(sys.argv[1]), sys.argv[2])
print(lock.acquire().id, flush=True)
sys.stdin.read()
lock.release()
"""

# Holds only the OS lock (as a child that inherited it would), no info file.
RAW_HOLDER = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1], timeout=0)
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def _spawn(script: str, *argv: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    assert first, "holder process failed to start"
    return proc, first


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_second_process_fails_at_once_naming_the_holder(
    state_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    proc, lock_id = _spawn(HOLDER, str(state_path), "apply")
    holders.append(proc)
    info = read_lock_info(state_path)
    assert info is not None and info.id == lock_id

    with pytest.raises(StateLockedError) as exc:
        StateLock(state_path, "state rm").acquire()
    assert exc.value.message == (
        f"state {state_path} is locked by apply (pid {proc.pid} on {socket.gethostname()}, "
        f"user {getpass.getuser()}, since {info.created}); lock id {lock_id}"
    )
    assert exc.value.hint == (
        f"if that process is dead, run: restore-planner force-unlock {lock_id} --state {state_path}"
    )

    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
    assert not lock_paths(state_path)[1].exists()  # a clean release removes its info
    with StateLock(state_path, "apply") as lock:
        assert lock.stale is None


def test_lock_info_file_format(state_path: Path) -> None:
    with StateLock(state_path, "apply") as lock:
        raw = json.loads(lock_paths(state_path)[1].read_text())
        assert lock.info is not None
        assert raw["id"] == lock.info.id
        assert sorted(raw) == ["created", "holder", "host", "id", "operation", "pid", "version"]
        assert raw["operation"] == "apply"
        assert raw["pid"] > 0
    assert not lock_paths(state_path)[1].exists()


def test_same_process_second_lock_fails(state_path: Path) -> None:
    first = StateLock(state_path, "apply")
    first.acquire()
    with pytest.raises(StateLockedError):
        StateLock(state_path, "apply").acquire()
    first.release()
    first.release()  # idempotent
    with StateLock(state_path, "apply"):
        pass


def test_stale_lock_after_kill_9_does_not_block(
    state_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    proc, lock_id = _spawn(HOLDER, str(state_path), "apply")
    holders.append(proc)
    proc.kill()  # SIGKILL: no release, the info file stays behind
    proc.wait(timeout=10)
    assert read_lock_info(state_path) is not None

    with StateLock(state_path, "apply") as lock:
        assert lock.stale is not None
        assert (lock.stale.id, lock.stale.pid) == (lock_id, proc.pid)
        current = read_lock_info(state_path)
        assert current is not None and lock.info is not None
        assert current.id == lock.info.id != lock_id
    assert read_lock_info(state_path) is None


def test_force_unlock_checks_the_id(state_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    proc, lock_id = _spawn(HOLDER, str(state_path), "apply")
    holders.append(proc)
    proc.kill()
    proc.wait(timeout=10)

    with pytest.raises(UserError) as exc:
        force_unlock(state_path, "nope")
    assert exc.value.message.startswith(
        f"lock id nope does not match the lock on {state_path}: it is {lock_id}, held by apply (pid {proc.pid} "
    )
    assert read_lock_info(state_path) is not None

    info = force_unlock(state_path, lock_id)
    assert info.pid == proc.pid
    assert read_lock_info(state_path) is None
    with pytest.raises(UserError) as exc:
        force_unlock(state_path, lock_id)
    assert exc.value.message == f"state {state_path} is not locked (no state.json.lock.info)"


def test_force_unlock_refuses_a_live_holder(
    state_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    proc, lock_id = _spawn(HOLDER, str(state_path), "apply")
    holders.append(proc)
    with pytest.raises(UserError) as exc:
        force_unlock(state_path, lock_id)
    assert exc.value.message.startswith(
        f"lock {lock_id} is held by a running process: apply (pid {proc.pid} "
    )
    with pytest.raises(StateLockedError):
        StateLock(state_path, "apply").acquire()


def test_held_lock_whose_holder_died_can_be_forced(
    state_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    # The recorded holder is dead but the OS lock is still held (say, by a child
    # that inherited it): acquire must not break it; force-unlock may.
    lock_file, info_file = lock_paths(state_path)
    state_path.parent.mkdir(parents=True)
    proc, _ = _spawn(RAW_HOLDER, str(lock_file))
    holders.append(proc)
    dead = _dead_pid()
    info_file.write_text(
        json.dumps(
            {
                "id": "0f0f",
                "holder": "ci",
                "host": socket.gethostname(),
                "pid": dead,
                "operation": "apply",
                "created": "2026-11-28T12:00:00Z",
                "version": "0.1.0",
            }
        )
    )
    with pytest.raises(StateLockedError) as exc:
        StateLock(state_path, "apply").acquire()
    assert exc.value.message == (
        f"state {state_path} is locked by apply (pid {dead} on {socket.gethostname()}, user ci, since "
        "2026-11-28T12:00:00Z), which is no longer running, but the lock is still held "
        "(by a child process or another host?); lock id 0f0f"
    )
    force_unlock(state_path, "0f0f")
    with StateLock(state_path, "apply") as lock:
        assert lock.stale is None


def test_locked_without_info_yet(state_path: Path, holders: list[subprocess.Popen[str]]) -> None:
    lock_file, _ = lock_paths(state_path)
    state_path.parent.mkdir(parents=True)
    proc, _ = _spawn(RAW_HOLDER, str(lock_file))
    holders.append(proc)
    with pytest.raises(StateLockedError) as exc:
        StateLock(state_path, "apply").acquire()
    assert exc.value.message == (
        f"state {state_path} is locked by another process (it has not written state.json.lock.info yet)"
    )
