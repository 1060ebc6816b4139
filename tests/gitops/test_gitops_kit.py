"""The GitOps kit in examples/gitops works as shipped.

Every example plan validates; the schema the modelines point at is the one the
tool prints; the CI workflow's restore-planner commands, taken from the
workflow file itself, validate, plan (markdown and --out), show, apply the
saved plan and report against a simulator holding the servers the plans name;
the pre-commit hook definition and the kit's example config agree with the CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from planner.cli.main import main
from planner.cli.schema import schema_text
from planner.clock import VirtualClock
from planner.demo.cloud import connected
from planner.sim import Simulator, load_inventory

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "examples" / "gitops"
WORKFLOW = KIT / ".github" / "workflows" / "restore-plan.yml"
FIXTURES = Path(__file__).parent / "fixtures"
ENVIRONMENTS = ("prod", "staging")
MODELINE = "# yaml-language-server: $schema=../../schema/plan.schema.json"
EXPECTED_RESTORES = {
    "prod": ['app["shop-app-01"]', 'app["shop-app-02"]', 'db["shop-db-01"]', 'db["shop-db-02"]',
             'web["shop-web-01"]', 'web["shop-web-02"]'],
    "staging": ['app["stg-app-01"]', 'db["stg-db-01"]', 'web["stg-web-01"]'],
}  # fmt: skip


def _workflow() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return doc


def _shell_lines(script: str) -> list[str]:
    """The script's commands, with backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in script.splitlines():
        line = raw.strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return [line for line in lines if line]


def _substitute(line: str, env: dict[str, str]) -> str:
    out = re.sub(r"\$\{?([A-Z_][A-Z0-9_]*)\}?", lambda m: env[m.group(1)], line)
    assert "$" not in out, f"unsubstituted expression in {line!r}"
    return out


def _run_cli(line: str) -> int:
    """Run one `restore-planner ...` line in process, honouring > and >> redirections."""
    words = shlex.split(line)
    assert words[0] == "restore-planner"
    target: tuple[str, str] | None = None
    if len(words) > 2 and words[-2] in (">", ">>"):
        target = (words[-2], words[-1])
        words = words[:-2]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(words[1:])
    if target is not None:
        with open(target[1], "a" if target[0] == ">>" else "w", encoding="utf-8") as f:
            f.write(buf.getvalue())
    return rc


def _run_step(step: dict[str, Any], env: dict[str, str]) -> list[tuple[str, int]]:
    """Run a step's restore-planner lines in process and its python3 lines in a shell."""
    ran = []
    for line in _shell_lines(step["run"]):
        if line.startswith("restore-planner "):
            ran.append((line, _run_cli(_substitute(line, env))))
        elif line.startswith("python3 "):
            proc = subprocess.run(
                ["bash", "-c", line.replace("python3 ", f"{shlex.quote(sys.executable)} ", 1)],
                env={**env, "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            ran.append((line, proc.returncode))
    return ran


def _steps(job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _workflow()["jobs"][job]["steps"]
    return steps


def _named(job: str, name: str) -> dict[str, Any]:
    return next(s for s in _steps(job) if s.get("name") == name)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_example_plans_validate(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["validate", str(KIT / "plans" / env), "--var-file", str(KIT / "vars" / f"{env}.yaml")]
    )
    out = capsys.readouterr().out
    assert rc == 0
    expected = {
        "prod": "Valid: 4 restores (3 blocks) in 2 files.\n",
        "staging": "Valid: 3 restores (3 blocks) in 1 file.\n",
    }
    assert out == expected[env]


def test_plan_files_point_editors_at_the_current_schema() -> None:
    plans = sorted(KIT.glob("plans/*/*.yaml"))
    assert {p.parent.name for p in plans} == set(ENVIRONMENTS)
    for plan in plans:
        assert plan.read_text(encoding="utf-8").splitlines()[0] == MODELINE, plan
        assert (
            plan.parent / "../../schema/plan.schema.json"
        ).resolve() == KIT / "schema" / "plan.schema.json"
    # the committed copy is what `restore-planner schema` prints today
    assert (KIT / "schema" / "plan.schema.json").read_text(encoding="utf-8") == schema_text()


def test_workflow_takes_cloud_credentials_from_the_secret_store() -> None:
    seen = 0
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            for key, value in (step.get("env") or {}).items():
                if key.startswith("HW_"):
                    seen += 1
                    store = "secrets" if key in ("HW_ACCESS_KEY", "HW_SECRET_KEY") else "vars"
                    assert value == f"${{{{ {store}.{key} }}}}", (key, value)
    assert seen == 8  # plan and apply, four variables each


def test_workflow_applies_only_after_merge_in_a_protected_environment() -> None:
    wf: dict[Any, Any] = _workflow()
    triggers = wf["on"] if "on" in wf else wf[True]  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request", "push"}
    assert triggers["push"]["branches"] == ["main"]
    plan, apply = wf["jobs"]["plan"], wf["jobs"]["apply"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert apply["if"] == "github.event_name == 'push'"
    assert apply["environment"] == "${{ matrix.environment }}"
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert plan["runs-on"] == apply["runs-on"]  # one runner holds the state
    comment = _named("plan", "Comment the plan on the pull request")
    assert comment["uses"].startswith("actions/github-script@")
    uploads = [
        s["with"]["name"]
        for j in ("plan", "apply")
        for s in _steps(j)
        if "upload-artifact" in s.get("uses", "")
    ]
    assert uploads == ["plan-${{ matrix.environment }}", "drill-report-${{ matrix.environment }}"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workflow_commands_plan_and_apply_on_the_simulator(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(KIT, repo)
    monkeypatch.chdir(repo)
    shell_env = {
        "ENVIRONMENT": env,
        "STATE_ROOT": str(tmp_path / "state-disk"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
    start = datetime(2026, 11, 20, 6, tzinfo=UTC).timestamp()
    clock = VirtualClock(start=start)
    sim = Simulator(load_inventory(str(FIXTURES / f"{env}-inventory.yaml")), clock=clock)
    with connected(sim, clock):
        # the pull request: validate, plan as markdown + saved plan
        ran = _run_step(_named("plan", "Validate (offline)"), shell_env)
        ran += _run_step(_named("plan", "Plan"), shell_env)
        markdown = Path(f"plan-{env}.md").read_text(encoding="utf-8")
        # after the merge: the artifact is the same file; show, apply, report
        ran += _run_step(_named("apply", "Does the plan change anything?"), shell_env)
        output = Path(shell_env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
        ran += _run_step(_named("apply", "Apply the reviewed plan"), shell_env)
        ran += _run_step(_named("apply", "Drill report"), shell_env)
    commands = [line.split()[1] for line, _ in ran if line.startswith("restore-planner")]
    assert commands == ["validate", "plan", "show", "apply", "report", "report", "report"]
    assert [rc for _, rc in ran] == [0] * len(ran)

    for address in EXPECTED_RESTORES[env]:
        assert address in markdown
    assert output == "changes=true\n"
    restored = sorted(r["target_id"] for r in sim.ledger()["restores"])
    assert len(restored) == len(EXPECTED_RESTORES[env]) == len(set(restored))
    state = json.loads((tmp_path / "state-disk" / env / "state.json").read_text(encoding="utf-8"))
    assert sorted(state["restores"]) == EXPECTED_RESTORES[env]
    assert "<svg" in Path(f"report-{env}.html").read_text(encoding="utf-8")
    junit = ElementTree.parse(f"junit-{env}.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) == len(EXPECTED_RESTORES[env])
    assert not junit.findall(".//failure")
    assert Path(shell_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8").strip()


def test_pre_commit_hook_runs_validate_on_plan_changes() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "restore-planner-validate"
    assert hook["entry"] == "restore-planner validate --changed"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True  # the plans of the changed files (tests/cli/test_pre_commit_hook.py)
    files = re.compile(hook["files"])
    for path in ("plans/prod/db.yaml", "examples/gitops/plans/staging/drill.yaml", "vars/prod.yml"):
        assert files.search(path), path
    for path in ("README.md", "planner/cli/plans.py", "specs/plan.schema.json", "myplans.yaml"):
        assert not files.search(path), path


def test_kit_pre_commit_config_validates_each_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((KIT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert hooks == [{"id": "restore-planner-validate"}]  # no args: the changed files name the plans
    monkeypatch.chdir(KIT)
    files = [str(p.relative_to(KIT)) for p in sorted(KIT.glob("plans/*/*.yaml"))]
    assert main(["validate", "--changed", *files]) == 0
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines()] == [f"plans/{env}" for env in sorted(ENVIRONMENTS)]
    assert all(": Valid: " in line for line in out.splitlines())
