"""End to end over real HTTP: `sim serve` and `plan` as separate processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from planner.sim import dump_inventory, generate_inventory

ROOT = Path(__file__).resolve().parents[2]

PLAN = """\
version: 1
vars:
  point_in_time: "2026-11-20T00:00:00Z"
restores:
  db:
    select: {kind: server, tags: {tier: db, env: drill}}
    backup: {before: "{{ point_in_time }}"}
    power_on: false
    wave: 1
  web:
    select: {kind: server, tags: {tier: web, env: drill}}
    backup: {before: "{{ point_in_time }}"}
    wave: 2
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    inv = generate_inventory(12, 1, seed=3)
    for s in inv["servers"]:
        if s["status"] != "ACTIVE":
            s["tags"]["env"] = "quarantine"
    (tmp_path / "inv.yaml").write_text(dump_inventory(inv))
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "sim", "serve", "--inventory", str(tmp_path / "inv.yaml"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        env = dict(os.environ)
        assert proc.stdout is not None
        for _ in range(6):
            line = proc.stdout.readline().strip()
            assert line.startswith("export "), line
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
        assert env["HW_ENDPOINT"].startswith("http://127.0.0.1:")
        env.pop("NO_COLOR", None)
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _plan(env: dict[str, str], tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp / "drill.yaml").write_text(PLAN)
    return subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(tmp / "drill.yaml"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
    )


def test_plan_text_json_and_exit_codes(served: dict[str, str], tmp_path: Path) -> None:
    out = _plan(served, tmp_path, "--detailed-exitcode")
    assert out.returncode == 2, out.stderr
    assert "\x1b[" not in out.stdout  # piped: no colour
    assert 'db["db-01"]' in out.stdout
    assert "Plan: " in out.stdout and " to restore" in out.stdout
    assert served["HW_AUTH_TOKEN"] not in out.stdout + out.stderr

    js = _plan(served, tmp_path, "--format", "json", "--out", str(tmp_path / "drill.plan"))
    assert js.returncode == 0, js.stderr
    doc = json.loads(js.stdout)
    schema = json.loads((ROOT / "specs" / "plan-output.schema.json").read_text())
    jsonschema.validate(doc, schema)
    restores = [a for a in doc["actions"] if a["action"] == "restore"]
    assert restores and all(a["target"]["kind"] == "server" for a in restores)
    assert all(a["disks"] for a in restores)
    assert doc["summary"]["restore"] == len(restores)
    saved = json.loads((tmp_path / "drill.plan").read_text())
    assert saved["state"]["serial"] == 0 and saved["config_digest"]
    assert served["HW_AUTH_TOKEN"] not in (tmp_path / "drill.plan").read_text()


def test_wrong_credentials_are_refused_clearly(served: dict[str, str], tmp_path: Path) -> None:
    env = dict(served)
    env.pop("HW_AUTH_TOKEN")
    env["HW_SECRET_KEY"] = "0" * 40
    out = _plan(env, tmp_path)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ")
    assert env["HW_SECRET_KEY"] not in out.stderr


def test_region_and_project_may_come_from_the_plan(served: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in served.items() if k not in ("HW_REGION_NAME", "HW_PROJECT_ID")}
    cloud = f"cloud: {{region: {served['HW_REGION_NAME']}, project_id: {served['HW_PROJECT_ID']}}}\n"
    (tmp_path / "drill.yaml").write_text(PLAN.replace("version: 1\n", "version: 1\n" + cloud))
    out = subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(tmp_path / "drill.yaml"), "--detailed-exitcode"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert 'db["db-01"]' in out.stdout

    # the environment still wins, and a plan for another project is refused
    env["HW_PROJECT_ID"] = "0123456789abcdef0123456789abcdef"  # well formed, not the plan's
    out = subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(tmp_path / "drill.yaml")],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 1
    assert "error[RP361]" in out.stderr and "drill.yaml:2:" in out.stderr


def test_plan_problems_come_before_cloud_settings(tmp_path: Path) -> None:
    """A broken plan is reported in full even where no cloud is configured."""
    (tmp_path / "drill.yaml").write_text(PLAN.replace("backup: {before", "bakup: {before", 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    for command in ("plan", "apply"):
        out = subprocess.run(
            [sys.executable, "-m", "planner", command, str(tmp_path / "drill.yaml"), "--no-color"],
            env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert out.returncode == 1, out.stderr
        assert "error[RP110]: unknown key 'bakup'" in out.stderr
        assert "cloud settings" not in out.stderr
