"""The pre-commit hook validates the plans of the changed files, with no args:
run through `pre-commit try-repo` on a copy of the GitOps kit, and by running the
hook's entry with file names appended, exactly as pre-commit does."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "examples" / "gitops"
HOOK = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]


def _kit(tmp_path: Path) -> Path:
    repo = tmp_path / "kit"
    shutil.copytree(KIT, repo)
    return repo


def _entry(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(HOOK["entry"])
    assert argv[0] == "restore-planner"
    exe = Path(sys.executable).parent / "restore-planner"
    return subprocess.run([str(exe), *argv[1:], *files], cwd=repo, capture_output=True, text=True, timeout=120)


def test_entry_validates_each_changed_plan_once_with_its_var_file(tmp_path: Path) -> None:
    repo = _kit(tmp_path)
    out = _entry(repo, "plans/prod/db.yaml", "plans/prod/app.yaml", "vars/staging.yaml")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "plans/prod: Valid: 4 restores (3 blocks) in 2 files.",
        "plans/staging: Valid: 3 restores (3 blocks) in 1 file.",
    ]


def test_entry_reports_the_broken_plan(tmp_path: Path) -> None:
    repo = _kit(tmp_path)
    app = repo / "plans" / "prod" / "app.yaml"
    app.write_text(app.read_text().replace("before:", "befor:", 1))
    out = _entry(repo, "plans/prod/app.yaml")
    assert out.returncode == 1
    assert "plans/prod/app.yaml:" in out.stderr and "error[RP110]: unknown key 'befor'" in out.stderr


def test_entry_ignores_files_that_are_not_plans(tmp_path: Path) -> None:
    repo = _kit(tmp_path)
    out = _entry(repo, "vars/nowhere.yaml")
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    repo = _kit(tmp_path)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "kit"]):
        subprocess.run([*git, *cmd], cwd=repo, check=True, timeout=60)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run(
        [str(pre_commit), "try-repo", str(ROOT), "restore-planner-validate", "--files", "plans/prod/db.yaml"],
        cwd=repo, capture_output=True, text=True, timeout=600, env=env,
    )
    if out.returncode == 3 and "pip" in out.stdout + out.stderr:  # no package index reachable
        pytest.skip(f"pre-commit could not install the hook's environment:\n{out.stdout[-2000:]}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "restore-planner validate" in out.stdout and "Passed" in out.stdout
