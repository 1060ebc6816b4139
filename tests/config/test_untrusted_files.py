"""Files a pull request controls never crash, hang or exhaust `validate` (issue 10, item 7).

Each case runs the CLI in a child process under RLIMIT_AS (2 GiB) and RLIMIT_CPU, with a
wall-clock timeout, and asserts the exact diagnostic and exit code 1. Before the fix these
were a RecursionError/ValueError/OverflowError crash log, a read of /dev/zero to
exhaustion, a hang on a FIFO, and FIFOs/devices/looping links silently skipped.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="FIFOs, /dev/zero and limits as on Linux")

AS_LIMIT = 2 * 1024**3
PLAN = "version: 1\nrestores:\n  db:\n    server: s1\n    backup: b1\n"


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def validate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "planner", "validate", *args, "--no-color"],
        cwd=cwd, env=env, preexec_fn=_limits, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr and "This is a bug" not in done.stderr, done.stderr[-3000:]
    return done


def out(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


@pytest.mark.parametrize("depth", [65, 500, 5000])
def test_deep_nesting_is_a_positioned_diagnostic(tmp_path: Path, depth: int) -> None:
    (tmp_path / "p.yaml").write_text(f"version: 1\nvars:\n  x: {'[' * depth}{']' * depth}\n" + PLAN.split("\n", 1)[1])
    done = validate(tmp_path, "p.yaml")
    assert done.returncode == 1
    assert "p.yaml:3:" in out(done) and "error[RP100]: " in out(done)
    if depth < 1000:  # libyaml's own limit reports deeper ones first
        assert "p.yaml:3:68: error[RP100]: invalid YAML: nested more than 64 levels deep" in out(done)


def test_deep_mappings_too(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\nvars:\n  x: " + "{a: " * 500 + "1" + "}" * 500 + "\n")
    done = validate(tmp_path, "p.yaml")
    assert done.returncode == 1
    assert "error[RP100]: invalid YAML: nested more than 64 levels deep" in out(done)


def test_huge_integer_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PLAN + "    wave: " + "9" * 5000 + "\n")
    done = validate(tmp_path, "p.yaml")
    assert done.returncode == 1
    assert "p.yaml:6:11: error[RP111]: number too large (5000 digits)" in out(done)


@pytest.mark.parametrize("value", ["99999999999999999999d", "9" * 5000 + "s", "99999999999999999h"])
def test_huge_duration_is_a_diagnostic(tmp_path: Path, value: str) -> None:
    (tmp_path / "p.yaml").write_text(f"version: 1\nguards:\n  max_backup_age: {value}\n" + PLAN.split("\n", 1)[1])
    done = validate(tmp_path, "p.yaml")
    assert done.returncode == 1
    assert "p.yaml:3:19: error[RP115]: guards.max_backup_age: invalid duration" in out(done)
    assert "is too long a duration" in out(done)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_device_as_plan_or_var_file_is_refused(tmp_path: Path, device: str) -> None:
    done = validate(tmp_path, device)
    assert done.returncode == 1
    assert f"error[RP108]: cannot read {device}: it is a device, not a regular file" in out(done)
    (tmp_path / "p.yaml").write_text(PLAN)
    os.symlink(device, tmp_path / "vars.yaml")
    done = validate(tmp_path, "p.yaml", "--var-file", "vars.yaml")
    assert done.returncode == 1
    assert "error[RP108]: cannot read vars.yaml: it is a device, not a regular file" in out(done)


def test_fifo_as_plan_or_var_file_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "p.yaml").write_text(PLAN)
    done = validate(tmp_path, "fifo.yaml")  # hung forever before (timeout=120 above)
    assert done.returncode == 1
    assert "error[RP108]: cannot read fifo.yaml: it is a FIFO, not a regular file" in out(done)
    done = validate(tmp_path, "p.yaml", "--var-file", "fifo.yaml")
    assert done.returncode == 1
    assert "error[RP108]: cannot read fifo.yaml: it is a FIFO, not a regular file" in out(done)


def test_odd_entries_in_a_plan_directory_are_reported(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a.yaml").write_text(PLAN)
    os.mkfifo(plans / "b.yaml")
    os.symlink("/dev/zero", plans / "c.yaml")
    os.symlink("loop.yaml", plans / "loop.yaml")
    os.symlink("missing", plans / "dangling.yml")
    (plans / "dir.yaml").mkdir()
    done = validate(tmp_path, "plans")
    assert done.returncode == 1
    text = out(done)
    assert "error[RP108]: cannot read plans/b.yaml: it is a FIFO, not a regular file" in text
    assert "error[RP108]: cannot read plans/c.yaml: it is a device, not a regular file" in text
    assert "error[RP108]: cannot read plans/loop.yaml: Too many levels of symbolic links" in text
    assert "error[RP108]: cannot read plans/dangling.yml: No such file or directory" in text
    assert "error[RP108]: cannot read plans/dir.yaml: it is a directory, not a regular file" in text
