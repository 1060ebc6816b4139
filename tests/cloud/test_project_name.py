"""HW_PROJECT_NAME without HW_PROJECT_ID: the id comes from IAM, as the Terraform provider does.

Over HTTP against `sim serve`, whose one project is named like its region: the
plan runs with each credential kind, and a name IAM does not know is a user
error (exit 1, no traceback) that says what to set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, stop

_CREDS = ("HW_AUTH_TOKEN", "HW_ACCESS_KEY", "HW_SECRET_KEY", "HW_USER_NAME", "HW_USER_PASSWORD", "HW_DOMAIN_NAME")


def _serve(inventory: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "sim", "serve", "--inventory", str(inventory), "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    exports: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.startswith("export "):
            break
        key, _, value = line[len("export "):].strip().partition("=")
        exports[key] = value
        if key == "HW_SECRET_KEY":
            break
    return proc, exports


@pytest.mark.parametrize("creds", ["token", "aksk"])
def test_the_project_id_is_looked_up_by_name(tmp_path: Path, creds: str) -> None:
    drill = make_drill(3, seed=4, levels=1)
    inventory, plan = write_drill(drill, tmp_path)
    sim, exports = _serve(inventory)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
        env["HW_ENDPOINT"] = exports["HW_ENDPOINT"]
        env["HW_REGION_NAME"] = exports["HW_REGION_NAME"]
        env["HW_PROJECT_NAME"] = exports["HW_REGION_NAME"]  # the region's default project
        if creds == "token":
            env["HW_AUTH_TOKEN"] = exports["HW_AUTH_TOKEN"]
        else:
            env["HW_ACCESS_KEY"], env["HW_SECRET_KEY"] = exports["HW_ACCESS_KEY"], exports["HW_SECRET_KEY"]
        run = [sys.executable, "-m", "planner", "plan", str(plan), "--no-color"]
        out = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert f"project {exports['HW_PROJECT_ID']}" in out.stdout

        env["HW_PROJECT_NAME"] = "no-such-project"
        out = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 1
        assert "HW_PROJECT_NAME 'no-such-project' names no project(s) the credentials can see" in out.stderr
        assert "Traceback" not in out.stderr and "set HW_PROJECT_ID" in out.stderr
        for name in _CREDS:
            assert not env.get(name) or env[name] not in out.stdout + out.stderr
    finally:
        stop(sim)
