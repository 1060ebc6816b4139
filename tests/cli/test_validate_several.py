"""validate over several plans (a directory of plan directories, several paths):
JSON is one document a machine can parse, and text keeps every diagnostic at the
start of its own line (the plan's result line goes to stdout after them)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[2] / "examples" / "gitops"


def _kit(tmp: Path) -> Path:
    repo = tmp / "kit"
    shutil.copytree(KIT / "plans", repo / "plans")
    shutil.copytree(KIT / "vars", repo / "vars")
    return repo


def _validate(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", "validate", *args, "--no-color"],
        cwd=repo, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_json_over_several_plans_is_one_document(tmp_path: Path) -> None:
    repo = _kit(tmp_path)
    (repo / "plans" / "staging" / "drill.yaml").write_text(
        "version: 1\nrestores:\n  db: {server: {name: db-01}, backup: {before: \"2026-11-20T00:00:00Z\"}}\n"
    )
    out = _validate(repo, "plans/", "--format", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)  # one document, not one per plan
    by_path = {p["path"]: p for p in doc["plans"]}
    assert sorted(by_path) == ["plans/prod", "plans/staging"]
    assert by_path["plans/staging"]["valid"] is True and by_path["plans/staging"]["errors"] == 0
    assert by_path["plans/prod"]["valid"] is False and by_path["plans/prod"]["errors"] == 3
    assert doc["errors"] == 3 and len(doc["diagnostics"]) == 3
    assert all(d["range"]["file"].startswith("plans/prod/") for d in doc["diagnostics"]), doc["diagnostics"]


def test_text_over_several_plans_starts_each_diagnostic_on_its_own_line(tmp_path: Path) -> None:
    repo = _kit(tmp_path)
    out = subprocess.run(
        f"{sys.executable} -m planner validate plans/ --no-color 2>&1",
        shell=True, cwd=repo, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    lines = out.stdout.splitlines()
    problems = [line for line in lines if "error[" in line]
    assert len(problems) == 6
    assert all(line.startswith("plans/") and ": error[RP121]" in line for line in problems), problems
    assert "plans/prod: Invalid: 3 errors, 0 warnings." in lines
    assert "plans/staging: Invalid: 3 errors, 0 warnings." in lines
    ok = _validate(repo, "plans/prod", "plans/staging", "--var-file", "vars/prod.yaml")
    assert ok.stdout.splitlines()[0].startswith("plans/prod: Valid: ")
