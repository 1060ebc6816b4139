"""A saved plan is exactly what was reviewed, applied once, against its own state (issue 10 items
3 and 4, issue 14 items 2 and 7): every refusal is exit 1 with the exact reason, and the
simulator's ledger shows that nothing was restored."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.cli.main import main
from planner.plan import planfile
from planner.state.store import StateStore
from tests.apply.drill import Drill, DrillKit, make_drill

DIGEST = re.compile(r"^Plan digest: (sha256:[0-9a-f]{64})$", re.M)


class Kit(DrillKit):
    def __init__(self, tmp_path: Path) -> None:
        drill: Drill = make_drill(6, seed=1)
        # one database stays off after its restore: the edit that turns it on must be refused
        self.off = drill.levels[0][0]
        drill.plan_yaml = drill.plan_yaml.replace(f"  {self.off}:\n", f"  {self.off}:\n    power_on: false\n", 1)
        super().__init__(drill, tmp_path)


@pytest.fixture
def kit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Kit:
    k = Kit(tmp_path)
    with k.cloud():
        assert main(["plan", str(k.plan), "--out", str(k.saved), "--no-color"]) == 0
    capsys.readouterr()
    return k


def _server_action(data: dict[str, Any]) -> dict[str, Any]:
    action = next(a for a in data["actions"] if a["action"] == "restore" and a["disks"])
    assert isinstance(action, dict)
    return action


def _empty_facts(data: dict[str, Any]) -> None:
    _server_action(data)["facts"] = {}


def _drop_facts(data: dict[str, Any]) -> None:
    del _server_action(data)["facts"]


def _retarget(data: dict[str, Any]) -> None:
    actions = [a for a in data["actions"] if a["action"] == "restore"]
    actions[0]["target"]["id"] = actions[1]["target"]["id"]


def _power_on(data: dict[str, Any]) -> None:
    (action,) = [a for a in data["actions"] if a["power_on"] is False]
    action["power_on"] = True


def _repoint_disks(data: dict[str, Any]) -> None:
    actions = [a for a in data["actions"] if a["action"] == "restore" and a["disks"]]
    actions[0]["disks"][0]["volume_id"] = actions[1]["disks"][0]["volume_id"]


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "facts emptied": _empty_facts,
    "facts deleted": _drop_facts,
    "target id changed": _retarget,
    "power_on flipped": _power_on,
    "disks repointed": _repoint_disks,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_plan_is_refused_as_modified(
    kit: Kit, capsys: pytest.CaptureFixture[str], edit: str
) -> None:
    data = kit.data()
    EDITS[edit](data)
    kit.write(data)
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--auto-approve", "--no-color"]) == 1
        assert main(["show", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert (
        f"error: the plan file {kit.saved} was modified after it was made: its content does not "
        f"match its digest {data['digest']}\n"
    ) in err
    assert kit.restores() == []


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ("facts emptied", "it carries no facts"),
        ("facts deleted", "it carries no facts"),
        ("target id changed", "its facts lack 'server "),
        ("disks repointed", "disk volume "),
    ],
)
def test_a_resealed_edit_without_matching_facts_is_refused(
    kit: Kit, capsys: pytest.CaptureFixture[str], edit: str, why: str
) -> None:
    """Recomputing the digest is easy: the facts still have to vouch for every restore."""
    data = kit.data()
    EDITS[edit](data)
    kit.write(data, reseal=True)
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert (
        f"error: {kit.saved} cannot be checked for staleness: 1 action(s) without the facts they "
        "rely on\n"
    ) in err
    assert why in err
    assert kit.restores() == []


def test_require_digest_applies_only_the_reviewed_plan(kit: Kit, capsys: pytest.CaptureFixture[str]) -> None:
    reviewed = kit.data()["digest"]
    data = kit.data()
    _power_on(data)  # facts cannot tell: only the digest the reviewer saw can
    kit.write(data, reseal=True)
    with kit.cloud():
        rc = main(["apply", str(kit.saved), "--require-digest", reviewed, "--no-color"])
        err = capsys.readouterr().err
        assert rc == 1
        assert f"error: the saved plan's digest is {data['digest']}, not the required {reviewed}\n" in err
        assert main(["apply", str(kit.saved), "--require-digest", "abc123", "--no-color"]) == 1
        assert "error: --require-digest 'abc123' is not a plan digest" in capsys.readouterr().err
        assert main(["apply", str(kit.plan), "--require-digest", reviewed, "--no-color"]) == 1
        assert "error: --require-digest applies to a saved plan only" in capsys.readouterr().err
        # a CI variable that expanded to nothing is a bad digest, not "no digest required"
        assert main(["apply", str(kit.saved), "--require-digest", "", "--no-color"]) == 1
        assert "error: --require-digest '' is not a plan digest" in capsys.readouterr().err
        assert main(["apply", str(kit.plan), "--require-digest", "", "--no-color"]) == 1
        assert "error: --require-digest applies to a saved plan only" in capsys.readouterr().err
        assert kit.restores() == []
        # the resealed file itself, with its own digest (no prefix, upper case): applied
        rc = main(["apply", str(kit.saved), "--require-digest", data["digest"][7:].upper(), "--no-color"])
        assert rc == 0
    assert len(kit.restores()) == len(kit.drill.size_gb)
    (flipped,) = [a for a in data["actions"] if a["address"] == kit.off]
    (entry,) = [r for r in kit.restores() if r["target_id"] == flipped["target"]["id"]]
    assert entry["power_on"] is True  # what the resealed file said, nothing else


def test_plan_show_and_apply_print_one_digest_and_apply_asks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    k = Kit(tmp_path)
    with k.cloud():
        assert main(["plan", str(k.plan), "--out", str(k.saved), "--no-color"]) == 0
        planned = capsys.readouterr().out
        digest = DIGEST.findall(planned)
        assert len(digest) == 1 and k.data()["digest"] == digest[0]
        assert planfile.load(str(k.saved)).digest == digest[0]
        assert main(["show", str(k.saved), "--no-color"]) == 0
        assert DIGEST.findall(capsys.readouterr().out) == digest
        assert main(["show", str(k.saved), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["digest"] == digest[0]
        assert main(["show", str(k.saved), "--format", "markdown"]) == 0
        assert f"Plan digest: `{digest[0]}`" in capsys.readouterr().out
        # stdin is not a terminal and there is no --auto-approve: a saved plan does not ask
        assert main(["apply", str(k.saved), "--no-color"]) == 0
    out = capsys.readouterr().out
    names = ", ".join(f"server {s['name']}" for s in k.drill.inventory["servers"] if s["id"] in k.drill.target.values())
    assert out.startswith(
        f"Applying the saved plan {k.saved} (checked: not modified, not stale).\n"
        f"Plan digest: {digest[0]}\n"
        f"It overwrites 6 target(s): "
    )
    assert sorted(out.splitlines()[2].split(": ", 1)[1].split(", ")) == sorted(names.split(", "))
    assert "Overwrite" not in out and "yes" not in out
    assert len(k.restores()) == len(k.drill.size_gb)


def test_reapplying_says_the_plan_was_already_applied_naming_the_run(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 0
        done = len(kit.restores())
        capsys.readouterr()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    state = StateStore(kit.state).load()  # snapshot and log
    runs = {r.run_id for r in state.restores.values()}
    assert len(runs) == 1
    serial = state.serial
    err = capsys.readouterr().err
    assert (
        f"error: the plan's restores were already applied (run {runs.pop()}, state serial 0 -> {serial}), "
        "by this plan or another made from the same state; a saved plan is applied once\n"
    ) in err
    assert "lineage" not in err
    assert len(kit.restores()) == done


def test_another_state_is_refused(kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.json"
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--state", str(other), "--no-color"]) == 1
        err = capsys.readouterr().err
        assert (
            f"error: the plan was made against the state {kit.state.resolve()}; --state names "
            f"{other.resolve()}\n"
        ) in err
        # the same state named another way is the same state
        rel = os.path.relpath(kit.state)
        assert main(["apply", str(kit.saved), "--state", rel, "--no-color"]) == 0
    assert len(kit.restores()) == len(kit.drill.size_gb)


def test_a_state_of_another_lineage_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    k = Kit(tmp_path)
    with k.cloud():
        assert main(["apply", str(k.plan), "--auto-approve", "--no-color"]) == 0
        assert main(["plan", str(k.plan), "--out", str(k.saved), "--replace", k.drill.levels[0][0]]) == 0
        old = json.loads(k.state.read_text())
        lineage = old["lineage"]
        old["lineage"] = "00000000-0000-4000-8000-000000000000"
        for name in ("state.json.log", "state.json.backup"):
            (k.state.parent / name).unlink(missing_ok=True)
        k.state.write_text(json.dumps(old))
        capsys.readouterr()
        before = len(k.restores())
        assert main(["apply", str(k.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert (
        f"error: the plan was made against state lineage {lineage}, the state is "
        "00000000-0000-4000-8000-000000000000\n"
    ) in err
    assert len(k.restores()) == before


def test_applied_from_another_directory_uses_the_plans_own_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plan` with a relative state path; apply from elsewhere: the same state, not a new one."""
    k = Kit(tmp_path)
    monkeypatch.chdir(tmp_path)
    with k.cloud():
        assert main(["plan", "drill.yaml", "--out", "drill.plan", "--no-color"]) == 0
        assert k.data()["state"]["path"] == ".restore-planner/state.json"
        assert k.data()["state"]["location"] == str(k.state.resolve())
        assert main(["apply", "drill.plan", "--no-color"]) == 0
        done = len(k.restores())
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        capsys.readouterr()
        assert main(["apply", "../drill.plan", "--no-color"]) == 1
    assert "error: the plan's restores were already applied (run " in capsys.readouterr().err
    assert not (elsewhere / ".restore-planner").exists()
    assert len(k.restores()) == done


@pytest.mark.parametrize("location", ["relative/state.json", "{root}/a/../state.json", "{link}/state.json"])
def test_a_state_location_that_is_not_plain_is_never_followed(
    kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str], location: str
) -> None:
    link = tmp_path / "link"
    (tmp_path / "elsewhere").mkdir()
    link.symlink_to(tmp_path / "elsewhere")
    data = kit.data()
    data["state"]["location"] = location.format(root=tmp_path, link=link)
    kit.write(data, reseal=True)
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert f"error: the saved plan names its state as {data['state']['location']!r}, which is not a plain " in err
    assert "never followed" in err
    assert not (tmp_path / "elsewhere" / "state.json").exists()
    assert not (tmp_path / "relative").exists()
    assert kit.restores() == []


def test_a_replay_from_another_machine_is_refused_by_the_operation_logs(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another machine has the plan file but not the state: the cloud remembers the restores."""
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 0
        done = kit.restores()
        shutil.rmtree(kit.state.parent)  # the other machine: no state at all
        capsys.readouterr()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert f"error: the saved plan is stale: {len(done)} fact(s) it relies on changed\n" in err
    lines = [x for x in err.splitlines() if "restored since the plan was made: task " in x]
    by_target = {r["target_id"]: r for r in done}
    expected = set()
    for a in kit.data()["actions"]:
        r = by_target[a["target"]["id"]]
        expected.add(f"  {a['address']}: restored since the plan was made: task {r['job_id']} at {r['accepted_at']}")
    assert set(lines) == expected and len(lines) == len(done)
    assert kit.restores() == done


def test_a_plan_without_facts_where_a_kind_needs_none_still_loads(kit: Kit) -> None:
    """Facts are required where the cloud is called; a plan whose actions are all unchanged is fine."""
    data = kit.data()
    for a in data["actions"]:
        a["action"] = "unchanged"
        a["facts"] = {}
        a["batch"] = None
    kit.write(data, reseal=True)
    assert planfile.load(str(kit.saved)).actions


def test_the_markdown_cut_note_names_the_file_the_plan_was_saved_as(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 item 7: `show big.plan`, not a fixed plan.json (a small cap stands in for a big plan)."""
    from planner.render import plan_markdown

    full = plan_markdown.render_markdown

    def capped(plan: Any, max_chars: int = 60000, *, plan_file: str | None = None) -> str:
        return full(plan, 1500, plan_file=plan_file)

    monkeypatch.setattr(plan_markdown, "render_markdown", capped)
    k = Kit(tmp_path)
    with k.cloud():
        out = str(tmp_path / "big.plan")
        assert main(["plan", str(k.plan), "--format", "markdown", "--out", out]) == 0
        text = capsys.readouterr().out
        assert f"run restore-planner show `{out}` for all_" in text
        assert main(["show", out, "--format", "markdown"]) == 0
        assert f"run restore-planner show `{out}` for all_" in capsys.readouterr().out
    assert f"Plan digest: `{json.loads(Path(out).read_text())['digest']}`" in text


def test_reapplying_after_state_rm_says_how_much_the_run_recorded(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    block = kit.drill.levels[-1][0]
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 0
        assert main(["state", "rm", block, "--state", str(kit.state)]) == 0
        done = len(kit.restores())
        capsys.readouterr()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    state = StateStore(kit.state).load()
    (run,) = {r.run_id for r in state.restores.values()}
    err = capsys.readouterr().err
    assert (
        f"error: the plan's restores were already applied (run {run} recorded 5 of its 6 restores; state serial "
        f"0 -> {state.serial}), by this plan or another made from the same state; a saved plan is applied once\n"
    ) in err
    assert len(kit.restores()) == done


def test_a_saved_plan_on_postgres_is_bound_to_its_workspace(
    tmp_path: Path, pg_env: str, pg_workspace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    k = Kit(tmp_path)
    ref = f"postgres:restore_planner/{pg_workspace}"
    with k.cloud():
        pg = ["--backend", "postgres", "--workspace", pg_workspace]
        assert main(["plan", str(k.plan), "--out", str(k.saved), *pg]) == 0
        assert k.data()["state"]["location"] == ref
        capsys.readouterr()
        assert main(["apply", str(k.saved), "--backend", "local"]) == 1
        assert f"error: the plan was made against the state {ref}; this apply would use " in capsys.readouterr().err
        assert main(["apply", str(k.saved), "--workspace", pg_workspace + "-x"]) == 1
        assert (
            f"error: the plan was made against the state {ref}; this apply would use {ref}-x\n"
        ) in capsys.readouterr().err
        assert k.restores() == []
        assert main(["apply", str(k.saved), "--no-color"]) == 0
        done = len(k.restores())
        capsys.readouterr()
        assert main(["apply", str(k.saved), "--no-color"]) == 1
    assert "error: the plan's restores were already applied (run " in capsys.readouterr().err
    assert not (tmp_path / "postgres:restore_planner").exists()
    assert len(k.restores()) == done
