"""`apply PLANFILE` refuses a stale saved plan, naming the action and the fact old -> new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.cli.main import main
from tests.apply.drill import Drill, in_process, make_drill, simulator, write_drill


def _saved(tmp_path: Path) -> tuple[Drill, Path, Path]:
    drill = make_drill(6, seed=1)
    _inv, plan = write_drill(drill, tmp_path)
    return drill, plan, tmp_path / "drill.plan"


def test_server_gone_error_refuses_the_saved_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill, plan, saved = _saved(tmp_path)
    sim, clock = simulator(drill)
    block = drill.levels[0][0]
    server = drill.target[block]
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        capsys.readouterr()
        sim.state.server_status[server] = "ERROR"
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert (
        "error: the saved plan is stale: 1 fact(s) it relies on changed\n"
        f"  {block}: server {server} state: restorable -> ERROR\n"
    ) in err
    assert sim.ledger()["restores"] == []


def test_backup_status_change_refuses_the_saved_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill, plan, saved = _saved(tmp_path)
    sim, clock = simulator(drill)
    block = drill.levels[1][0]
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        capsys.readouterr()
        backup = next(
            b for b in sim.state.backups.values() if b.resource_id == drill.target[block] and b.id in drill.plan_yaml
        )
        backup.status = "error"
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert "error: the saved plan is stale: 1 fact(s) it relies on changed\n" in err
    line = next(x for x in err.splitlines() if x.startswith(f"  {block}: "))
    assert backup.id in line and line.endswith("available -> error"), line
    assert sim.ledger()["restores"] == []


def test_state_serial_change_refuses_the_saved_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill, plan, saved = _saved(tmp_path)
    sim, clock = simulator(drill)
    first, other = drill.levels[0][0], drill.levels[-1][0]
    state = tmp_path / ".restore-planner" / "state.json"
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
        assert main(["plan", str(plan), "--out", str(saved), "--replace", first, "--no-color"]) in (0, 2)
        serial = int(json.loads(state.read_text())["serial"])
        assert main(["state", "rm", other, "--state", str(state)]) == 0
        capsys.readouterr()
        before = len(sim.ledger()["restores"])
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert f"error: the state changed since the plan was made (serial {serial} -> {serial + 1})\n" in err
    assert len(sim.ledger()["restores"]) == before


def test_options_that_would_change_a_saved_plan_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill, plan, saved = _saved(tmp_path)
    sim, clock = simulator(drill)
    block = drill.levels[0][0]
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        capsys.readouterr()
        rc = main(["apply", str(saved), "--auto-approve", "--no-color", "--target", block, "--var", "a=b"])
        err = capsys.readouterr().err
        assert rc == 1
        assert "error: --target, --var cannot change a saved plan: it runs exactly as it was reviewed" in err
        assert sim.ledger()["restores"] == []
        # execution settings are not part of the plan
        assert main(["apply", str(saved), "--auto-approve", "--no-color", "--parallelism", "3"]) == 0
    assert len(sim.ledger()["restores"]) == len(drill.size_gb)


def test_saved_plan_names_its_region_and_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without HW_REGION_NAME/HW_PROJECT_ID, apply uses the saved plan's; with others, it refuses."""
    drill, plan, saved = _saved(tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock) as cloud:
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        cloud.env["HW_PROJECT_ID"] = "0" * 32  # another (well-formed) project
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 1
        assert "the plan was made for sim-1/" in capsys.readouterr().err
        assert sim.ledger()["restores"] == []
        del cloud.env["HW_PROJECT_ID"], cloud.env["HW_REGION_NAME"]
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 0
    assert len(sim.ledger()["restores"]) == len(drill.size_gb)


def test_a_target_tagged_as_guarded_after_the_plan_refuses_the_saved_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # guards.deny_target_tags is checked at plan time; a server tagged env=prod after
    # the plan was saved must not be overwritten by apply of that plan (it was)
    drill = make_drill(6, seed=1)
    drill.plan_yaml = drill.plan_yaml.replace(
        "version: 1\n", "version: 1\nguards:\n  deny_target_tags: {env: prod}\n", 1
    )
    _inv, plan = write_drill(drill, tmp_path)
    saved = tmp_path / "drill.plan"
    sim, clock = simulator(drill)
    block = drill.levels[0][0]
    server = drill.target[block]
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        capsys.readouterr()
        was = sim.state.servers[server].tags.get("env", "<none>")
        sim.state.servers[server].tags["env"] = "staging"  # another value: not guarded
        sim.state.servers[drill.target[drill.levels[1][0]]].tags["team"] = "x"  # not a guarded key
        assert main(["plan", str(plan), "--no-color"]) in (0, 2)
        sim.state.servers[server].tags["env"] = "prod"
        assert main(["plan", str(plan), "--no-color"]) == 1  # a new plan says RP350
        assert "error[RP350]" in capsys.readouterr().err
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert (
        "error: the saved plan is stale: 1 fact(s) it relies on changed\n"
        f"  {block}: server {server} tag env: {was} -> prod\n"
    ) in err
    assert sim.ledger()["restores"] == []


def test_a_vault_frozen_after_the_plan_refuses_the_saved_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a frozen vault fails every restore from it (BackupService.6202): refused before
    # anything is sent, as a new plan would refuse it (RP323), not sent and failed
    drill, plan, saved = _saved(tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        capsys.readouterr()
        for vault in sim.state.vaults.values():
            vault.status = "lock"  # a locked vault still restores: not a change that matters
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 0
        assert len(sim.ledger()["restores"]) == 6
    drill, plan, saved = _saved(tmp_path / "frozen")
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        capsys.readouterr()
        (vault,) = sim.state.vaults.values()
        vault.status = "frozen"
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert "error: the saved plan is stale: 6 fact(s) it relies on changed\n" in err
    assert f": vault {vault.id} status: restorable -> frozen\n" in err
    assert sim.ledger()["restores"] == []
