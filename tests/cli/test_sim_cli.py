"""`sim generate --region/--project/--for-examples`, `sim serve --env-file`, `sim wait`, run as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RP = [sys.executable, "-m", "planner"]


def _run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RP, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_generate_region_and_project(tmp_path: Path) -> None:
    out = _run("sim", "generate", "--servers", "3", "--region", "eu-west-101", "--project", "ab" * 16, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    inv = yaml.safe_load(out.stdout)
    assert (inv["region"], inv["project_id"]) == ("eu-west-101", "ab" * 16)


def test_generate_for_examples_holds_what_the_examples_name(tmp_path: Path) -> None:
    out = _run("sim", "generate", "--for-examples", "--servers", "6", "--out", "inv.yaml", cwd=tmp_path)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    inv = yaml.safe_load((tmp_path / "inv.yaml").read_text())
    waves = yaml.safe_load((ROOT / "specs/examples/waves/plan.yaml").read_text())
    single = yaml.safe_load((ROOT / "specs/examples/single-vm/plan.yaml").read_text())
    assert inv["region"] == waves["cloud"]["region"] == single["cloud"]["region"]
    assert inv["project_id"] == waves["cloud"]["project_id"] == single["cloud"]["project_id"]
    assert [v["id"] for v in inv["vaults"]] == [waves["vars"]["drill_vault"]]
    backups = {b["id"] for b in inv["backups"]} | {c["id"] for b in inv["backups"] for c in b.get("children", [])}
    assert waves["restores"]["shared_files"]["backup"] in backups
    assert single["restores"]["db"]["backup"] in backups
    assert {d["backup"] for d in single["restores"]["db"]["disks"]} <= backups
    names = {s["name"] for s in inv["servers"]}
    assert {"db-primary", "cache-node-a1", "cache-node-b1", "app-01", "app-02", "web-01"} <= names
    again = _run("sim", "generate", "--for-examples", "--servers", "6", cwd=tmp_path)
    assert again.stdout == (tmp_path / "inv.yaml").read_text()  # deterministic


def test_examples_plan_against_sim_serve(tmp_path: Path) -> None:
    assert _run("sim", "generate", "--for-examples", "--servers", "6", "--out", "inv.yaml", cwd=tmp_path).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("HW_")}
    server = subprocess.Popen([*RP, "sim", "serve", "--inventory", "inv.yaml", "--env-file", "sim.env"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _run("sim", "wait", "sim.env", cwd=tmp_path).returncode == 0
        lines = (tmp_path / "sim.env").read_text().splitlines()
        assert [line.split("=")[0] for line in lines] == [
            "export HW_ENDPOINT", "export HW_REGION_NAME", "export HW_PROJECT_ID", "export HW_AUTH_TOKEN",
            "export HW_ACCESS_KEY", "export HW_SECRET_KEY"]
        assert (tmp_path / "sim.env").stat().st_mode & 0o077 == 0  # it holds a token
        for line in lines:
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
        for example in ("single-vm", "tiered-app", "waves"):
            out = _run("plan", str(ROOT / "specs/examples" / example), "--state", str(tmp_path / f"{example}.json"),
                       cwd=tmp_path, env=env)
            assert out.returncode == 0, (example, out.stderr)
            assert "Plan: " in out.stdout and " to restore" in out.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert not (tmp_path / "sim.env").exists()


def test_wait_gives_up_naming_the_file(tmp_path: Path) -> None:
    out = _run("sim", "wait", "never.env", "--timeout", "0.2", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("error: never.env did not appear within 0.2 s\n")


def test_serve_removes_a_stale_env_file_before_loading(tmp_path: Path) -> None:
    (tmp_path / "sim.env").write_text("export HW_ENDPOINT=http://127.0.0.1:1\n")
    out = _run("sim", "serve", "--inventory", "missing.yaml", "--env-file", "sim.env", cwd=tmp_path)
    assert out.returncode == 1 and "cannot read inventory missing.yaml" in out.stderr
    assert not (tmp_path / "sim.env").exists()  # a waiting script is not sent to a dead port
