"""A damaged or hostile state file is refused with a message, never a crash, a hang or
a read to exhaustion (issue 10, items 7 and 8). Every reader goes through StateStore:
`state list/show`, `plan`, `apply`, `report`."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from planner.errors import UserError
from planner.state.store import StateStore

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="FIFOs, /dev/zero and limits as on Linux")

HEAD = b'{"format_version":1,"lineage":"4a0f5a4e-1f2b-4c3d-8e9f-0a1b2c3d4e5f",'


def _refused(path: Path) -> UserError:
    with pytest.raises(UserError) as info:
        StateStore(path).load()
    return info.value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HEAD + b'"serial":0,"restores":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "is not valid JSON (nested too deeply)"),
        (HEAD + b'"serial":' + b"9" * 5000 + b',"restores":{}}', "is not valid JSON (Exceeds the limit (4300 digits)"),
        (HEAD + b'"serial":-1,"restores":{}}', "is not valid: serial: Input should be greater than or equal to 0"),
        (HEAD + b'"serial":true,"restores":{}}', "is not valid: serial: Input should be a valid integer"),
        (HEAD + b'"serial":1,"serial":7,"restores":{}}', "is not valid JSON (duplicate key 'serial')"),
        (
            HEAD + b'"serial":1,"restores":{"db":{},"db":{}}}',
            "is not valid JSON (duplicate key 'db')",
        ),
    ],
)
def test_damaged_state_is_refused(tmp_path: Path, body: bytes, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(body)
    err = _refused(path)
    assert err.message.startswith(f"state file {path} {message}"), err.message
    assert path.read_bytes() == body  # left untouched


def test_damaged_log_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(HEAD + b'"serial":1,"restores":{}}')
    log = tmp_path / "state.json.log"
    log.write_bytes(b'{"serial":-5,"lineage":"4a0f5a4e-1f2b-4c3d-8e9f-0a1b2c3d4e5f","remove":"db"}\n')
    assert "line 1 is damaged (serial is not a non-negative integer)" in _refused(path).message
    log.write_bytes(b"[" * 100_000 + b"\n")
    assert "line 1 is damaged (nested too deeply)" in _refused(path).message


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_state_that_is_not_a_regular_file_is_refused(tmp_path: Path, target: str) -> None:
    path = tmp_path / "state.json"
    if target == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(target, path)
    err = _refused(path)
    assert err.message == f"state file {path} is not a regular file"
    log = tmp_path / "ok.json.log"
    (tmp_path / "ok.json").write_bytes(HEAD + b'"serial":1,"restores":{}}')
    os.symlink("/dev/zero", log)
    assert _refused(tmp_path / "ok.json").message == f"state log {log} is not a regular file"


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


@pytest.mark.parametrize("command", [["state", "list"], ["state", "show", "db"]])
def test_cli_refuses_a_state_linked_to_dev_zero(tmp_path: Path, command: list[str]) -> None:
    os.symlink("/dev/zero", tmp_path / "state.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "planner", *command, "--state", "state.json", "--no-color"],
        cwd=tmp_path, env=env, preexec_fn=_limits, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "error: state file state.json is not a regular file" in done.stderr
    assert "Traceback" not in done.stderr and "This is a bug" not in done.stderr
