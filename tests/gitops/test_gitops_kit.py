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


def _outputs(env: dict[str, str]) -> dict[str, str]:
    """Step outputs written to $GITHUB_OUTPUT so far (later lines win)."""
    out: dict[str, str] = {}
    path = Path(env["GITHUB_OUTPUT"])
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            out[key] = value
    return out


def _step_env(step: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    """The shell environment plus the step's env: entries that name earlier steps' outputs."""
    merged = dict(env)
    for key, value in (step.get("env") or {}).items():
        m = re.fullmatch(r"\$\{\{ steps\.[a-z_]+\.outputs\.([a-z_]+) \}\}", str(value))
        if m:
            merged[key] = _outputs(env).get(m.group(1), "")
    return merged


def _run_step(step: dict[str, Any], env: dict[str, str]) -> list[tuple[str, int]]:
    """Run a step's restore-planner lines in process and its python3 lines in a shell."""
    ran = []
    env = _step_env(step, env)
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
    assert plan["if"].startswith("github.event_name == 'pull_request' && ")
    assert apply["if"].startswith("github.event_name == 'push' && ")
    assert apply["environment"] == "${{ matrix.environment }}"
    assert apply["concurrency"]["cancel-in-progress"] is False
    comment = _named("plan", "Comment the plan on the pull request")
    assert comment["uses"].startswith("actions/github-script@")
    uploads = [
        s["with"]["name"]
        for j in ("plan", "apply")
        for s in _steps(j)
        if "upload-artifact" in s.get("uses", "")
    ]
    assert uploads == ["plan-${{ matrix.environment }}", "drill-report-${{ matrix.environment }}"]


def test_workflow_runs_only_touched_environments_with_a_long_timeout() -> None:
    wf: dict[Any, Any] = _workflow()
    for job in ("plan", "apply"):
        j = wf["jobs"][job]
        assert j["needs"] == "changes"
        assert j["strategy"]["matrix"]["environment"] == "${{ fromJSON(needs.changes.outputs.environments) }}"
        assert "needs.changes.outputs.environments != '[]'" in j["if"]
    assert wf["jobs"]["apply"]["timeout-minutes"] >= 16 * 60  # a 16-hour drill fits
    assert all("timeout-minutes" in j for j in wf["jobs"].values())
    installs = [s["run"] for j in ("plan", "apply") for s in _steps(j) if s.get("name") == "Install restore-planner"]
    assert len(installs) == 2
    for run in installs:
        assert "==" not in run and "git+$RESTORE_PLANNER_REPO@$RESTORE_PLANNER_REF" in run
        assert "restore-planner[postgres]" in run
    for job in ("plan", "apply"):
        for step in _steps(job):
            assert "--state" not in step.get("run", "")  # state is the plans' backend: block
            if "restore-planner plan " in step.get("run", "") or "restore-planner apply " in step.get("run", ""):
                assert step["env"]["PG_CONN_STR"] == "${{ secrets.PG_CONN_STR }}"
    for env in ENVIRONMENTS:
        text = "".join(p.read_text(encoding="utf-8") for p in (KIT / "plans" / env).glob("*.yaml"))
        assert f"backend: {{type: postgres, workspace: {env}}}" in text


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["plans/staging/drill.yaml"], ["staging"]),
        (["vars/prod.yaml", "README.md"], ["prod"]),
        ([".github/workflows/restore-plan.yml"], ["prod", "staging"]),
        (["README.md"], []),
    ],
)
def test_changes_job_names_the_touched_environments(
    changed: list[str], expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(KIT)
    out = tmp_path / "out"
    step = next(s for s in _workflow()["jobs"]["changes"]["steps"] if s.get("id") == "touched")
    (tmp_path / "changed.txt").write_text("\n".join(changed) + "\n", encoding="utf-8")
    line = next(x for x in _shell_lines(step["run"]) if x.startswith("python3 "))
    line = line.replace(" changed.txt", f" {tmp_path / 'changed.txt'}")
    _run_step({"run": line}, {"GITHUB_OUTPUT": str(out)})
    assert _outputs({"GITHUB_OUTPUT": str(out)})["environments"] == json.dumps(expected)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_workflow_commands_plan_and_apply_on_the_simulator(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_conn_str: str
) -> None:
    from planner.state.postgres import PostgresBackend

    repo = tmp_path / "repo"
    shutil.copytree(KIT, repo)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PG_CONN_STR", pg_conn_str)  # the secret, in the process only
    shell_env = {
        "ENVIRONMENT": env,
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
    apply_step = _named("apply", "Apply the reviewed plan")
    start = datetime(2026, 11, 20, 6, tzinfo=UTC).timestamp()
    clock = VirtualClock(start=start)
    sim = Simulator(load_inventory(str(FIXTURES / f"{env}-inventory.yaml")), clock=clock)
    with connected(sim, clock):
        # the pull request: validate, plan as markdown + saved plan
        ran = _run_step(_named("plan", "Validate (offline)"), shell_env)
        ran += _run_step(_named("plan", "Plan"), shell_env)
        markdown = Path(f"plan-{env}.md").read_text(encoding="utf-8")
        # after the merge: the artifact is the same files, the comment is the Markdown
        shutil.copy(f"plan-{env}.md", f"reviewed-{env}.md")
        ran += _run_step(_named("apply", "The reviewed plan's digest"), shell_env)
        ran += _run_step(_named("apply", "Does the plan change anything?"), shell_env)
        ran += _run_step(apply_step, shell_env)
        ran += _run_step(_named("apply", "Which run did the apply make?"), shell_env)
        ran += _run_step(_named("apply", "Drill report"), shell_env)
        # the same reviewed plan once more: refused (the state moved on), nothing restored
        line = _substitute(_shell_lines(apply_step["run"])[0], _step_env(apply_step, shell_env))
        rc_again = _run_cli(line.replace(f"apply-{env}.jsonl", f"again-{env}.jsonl"))
    commands = [line.split()[1] for line, _ in ran if line.startswith("restore-planner")]
    assert commands == ["validate", "plan", "show", "apply", "report", "report", "report"]
    assert [rc for _, rc in ran] == [0] * len(ran)
    assert rc_again == 1

    for address in EXPECTED_RESTORES[env]:
        assert address in markdown
    outputs = _outputs(shell_env)
    assert outputs["changes"] == "true"
    assert outputs["digest"].startswith("sha256:") and outputs["digest"] in markdown
    restored = sorted(r["target_id"] for r in sim.ledger()["restores"])
    assert len(restored) == len(EXPECTED_RESTORES[env]) == len(set(restored))
    backend = PostgresBackend(pg_conn_str, "restore_planner", env)
    try:
        assert sorted(backend.store().load().restores) == EXPECTED_RESTORES[env]
        assert outputs["run_id"] == backend.list_runs()[-1]
    finally:
        backend.close()
    assert not list(repo.rglob(".restore-planner"))  # no local state anywhere
    assert "<svg" in Path(f"report-{env}.html").read_text(encoding="utf-8")
    junit = ElementTree.parse(f"junit-{env}.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) == len(EXPECTED_RESTORES[env])
    assert not junit.findall(".//failure")
    assert outputs["run_id"] in Path(shell_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    for f in repo.rglob("*"):
        if f.is_file():
            assert pg_conn_str not in f.read_text(encoding="utf-8", errors="replace"), f


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
