"""A hostile saved plan: whatever a file holds, show and apply refuse it with its reason (never
a crash), a plan no `plan` writes is refused whatever its digest (anyone can recompute it), and
a tampered state location is refused before anything is created there. The simulator's
ledger shows that nothing was restored."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planner.cli.main import main
from planner.plan import planfile
from tests.apply.drill import DrillKit, make_drill

MODIFIED_HINT = (
    "hint: apply only a plan file as `restore-planner plan --out` wrote it; plan again and review the new plan\n"
)


class Kit(DrillKit):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(make_drill(6, seed=1), tmp_path)

    def reseal(self, data: dict[str, Any]) -> None:
        self.write(data, reseal=True)


@pytest.fixture
def kit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Kit:
    k = Kit(tmp_path)
    with k.cloud():
        assert main(["plan", str(k.plan), "--out", str(k.saved), "--no-color"]) == 0
    capsys.readouterr()
    return k


# -- files that are no JSON a plan holds ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"format_version":2,"digest":"x","created_at":' + "9" * 5000 + "}", "it holds a number too long to be one of a plan's"),
        ('{"format_version":2,"digest":"x","created_at":NaN}', "it holds NaN, which no saved plan does"),
        ('{"format_version":2,"digest":"x","estimate":{"makespan_s":-Infinity}}', "it holds -Infinity, which no saved plan does"),
        ('{"format_version":2,"digest":"x","estimate":{"makespan_s":1e999}}',
         "it holds 1e999, a number past a float's range, which no saved plan does"),
    ],
)  # fmt: skip
def test_a_plan_file_with_a_huge_number_or_nan_is_refused_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, why: str
) -> None:
    path = tmp_path / "bad.plan"
    path.write_text(text)
    assert main(["show", str(path), "--no-color"]) == 1
    shown = capsys.readouterr().err
    assert main(["apply", str(path), "--no-color"]) == 1
    applied = capsys.readouterr().err
    expected = (
        f"error: {path} is not a saved plan (not a restore plan: {why})\n"
        "hint: Make the plan again with `restore-planner plan --out FILE`.\n"
    )
    assert shown == expected and applied == expected


# -- a plan no `plan` writes, resealed --------------------------------------------------


def _restores(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in data["actions"] if a["action"] == "restore"]


def _volumes(action: dict[str, Any]) -> list[str]:
    return [d["volume_id"] for d in action["disks"]]


def _twin(data: dict[str, Any]) -> list[str]:
    """A copy of a restore under a new address: the same server restored twice in one run."""
    first = _restores(data)[0]
    twin = copy.deepcopy(first)
    twin["address"] = "s-twin"
    data["actions"].append(twin)
    data["summary"]["restore"] += 1
    server = first["target"]["id"]
    return [f"{first['address']} and s-twin both write server {server}"] + [
        f"{first['address']} and s-twin both write volume {v}" for v in _volumes(first)
    ]


def _through_disks(data: dict[str, Any]) -> list[str]:
    """A restore of one server whose disk map writes another restore's volumes (facts to match)."""
    a, b = _restores(data)[:2]
    sneaky = copy.deepcopy(a)
    sneaky["address"] = "s-sneaky"
    sneaky["target"] = copy.deepcopy(b["target"])
    old, new = a["target"]["id"], b["target"]["id"]
    sneaky["facts"] = {k.replace(old, new): v for k, v in a["facts"].items()}
    data["actions"].append(sneaky)
    data["summary"]["restore"] += 1
    return [f"{b['address']} and s-sneaky both write server {new}"] + [
        f"{a['address']} and s-sneaky both write volume {v}" for v in _volumes(a)
    ]


def _same_address(data: dict[str, Any]) -> list[str]:
    first = _restores(data)[0]
    data["actions"].append(copy.deepcopy(first))
    data["summary"]["restore"] += 1
    server = first["target"]["id"]
    addr = first["address"]
    return [f"{addr}: the address appears 2 times", f"{addr} and {addr} both write server {server}"]


def _disk_twice(data: dict[str, Any]) -> list[str]:
    first = _restores(data)[0]
    first["disks"].append(copy.deepcopy(first["disks"][0]))
    return [f"{first['address']}: writes volume {first['disks'][0]['volume_id']} twice"]


def _missing_dependency(data: dict[str, Any]) -> list[str]:
    first = _restores(data)[0]
    first["depends_on"] = ["s-nowhere"]
    return [f"{first['address']}: depends on 's-nowhere', which is no restore of the plan"]


def _cycle(data: dict[str, Any]) -> list[str]:
    a, b = _restores(data)[:2]
    a["depends_on"], b["depends_on"] = [b["address"]], [a["address"]]
    return ["the dependencies form a cycle: no order starts "]


def _forget_that_restores(data: dict[str, Any]) -> list[str]:
    """Shown as "forget: nothing in the cloud is touched", run as a restore without facts."""
    first = _restores(data)[0]
    first["action"] = "forget"
    first["facts"] = {}
    data["summary"]["restore"] -= 1
    data["summary"]["forget"] += 1
    return [f"{first['address']}: a forget carries a restore (a forget only drops the state entry)"]


EDITS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "a restore copied under a new address": _twin,
    "a restore writing another's volumes through its disk map": _through_disks,
    "an address twice": _same_address,
    "a disk map writing one volume twice": _disk_twice,
    "a dependency outside the plan": _missing_dependency,
    "a dependency cycle": _cycle,
    "a forget that carries a restore": _forget_that_restores,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_resealed_plan_no_plan_writes_is_refused_before_any_restore(
    kit: Kit, capsys: pytest.CaptureFixture[str], edit: str
) -> None:
    data = kit.data()
    lines = EDITS[edit](data)
    kit.reseal(data)
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--auto-approve", "--no-color"]) == 1
        applied = capsys.readouterr().err
        assert main(["show", str(kit.saved), "--no-color"]) == 1
        shown = capsys.readouterr().err
    assert applied == shown
    head = f"error: {kit.saved} is not a plan restore-planner makes: "
    assert applied.startswith(head), applied
    got = applied.splitlines()
    assert got[0] == f"{head}{len(got) - 2} problem(s) no plan it writes has"
    assert got[-1] + "\n" == MODIFIED_HINT
    for line in lines:
        assert any(g.startswith(f"  {line}") for g in got[1:-1]), (line, got)
    assert kit.restores() == []
    assert not kit.state.exists()


def test_the_plan_it_writes_passes_the_same_checks(kit: Kit, capsys: pytest.CaptureFixture[str]) -> None:
    """No false alarm: a plan with dependencies, re-restores and forgets applies."""
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 0
        assert planfile.plan_problems(planfile.load(str(kit.saved))) == []
        gone = kit.drill.levels[-1][0]  # nothing depends on it: renamed, it is forgotten
        kit.plan.write_text(kit.plan.read_text().replace(f"  {gone}:", f"  {gone}-renamed:"))
        again = kit.drill.levels[0][0]
        assert main(["plan", str(kit.plan), "--replace", again, "--out", str(kit.saved)]) == 0
        actions = {a["action"] for a in kit.data()["actions"]}
        assert {"forget", "re-restore", "unchanged", "restore"} <= actions, actions
        done = len(kit.restores())
        assert main(["apply", str(kit.saved), "--no-color"]) == 0
    capsys.readouterr()
    assert len(kit.restores()) == done + 2  # the re-restore, and the renamed block's restore


# -- a tampered state location ------------------------------------------------------------


def test_a_tampered_state_location_is_refused_before_anything_is_created(
    kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan made against a state, pointed at a place without one: nothing is made there."""
    with kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 0
        block = _restores(kit.data())[0]["address"]
        assert main(["plan", str(kit.plan), "--replace", block, "--out", str(kit.saved), "--no-color"]) == 0
        capsys.readouterr()
        data = kit.data()
        lineage, serial = data["state"]["lineage"], data["state"]["serial"]
        assert lineage is not None
        elsewhere = tmp_path / "elsewhere" / "state.json"
        data["state"]["location"] = str(elsewhere)
        kit.reseal(data)
        done = kit.restores()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    assert capsys.readouterr().err == (
        f"error: the plan was made against state lineage {lineage} (serial {serial}); there is no state "
        f"at {elsewhere}\nhint: apply it where its state is, or plan again and review the new plan\n"
    )
    assert not elsewhere.parent.exists()
    assert kit.restores() == done


def test_a_plan_made_before_its_state_pointed_at_another_state_leaves_it_untouched(
    kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No lineage (no state yet when it was made), pointed at an existing state: no lock beside it."""
    other = tmp_path / "other"
    with kit.cloud():
        assert main(["apply", str(kit.plan), "--auto-approve", "--no-color"]) == 0
        other.mkdir()
        shutil.copy(kit.state, other / "state.json")
        shutil.rmtree(kit.state.parent)
        capsys.readouterr()
        data = kit.data()
        assert data["state"]["lineage"] is None
        data["state"]["location"] = str(other / "state.json")
        kit.reseal(data)
        done = kit.restores()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the plan's restores were already applied (run "), err
    assert sorted(p.name for p in other.iterdir()) == ["state.json"]
    assert kit.restores() == done


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_show_names_the_state_location_apply_would_use(
    kit: Kit, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """A resealed plan's location is what apply reads and writes: the reviewer sees it, not
    only the path the plan was first given."""
    data = kit.data()
    elsewhere = tmp_path / "elsewhere" / "state.json"
    data["state"]["location"] = str(elsewhere)
    kit.reseal(data)
    assert main(["show", str(kit.saved), "--format", fmt, "--no-color"]) == 0
    out = capsys.readouterr().out
    assert str(elsewhere) in out
    data["state"]["location"] = str(kit.state.resolve())
    kit.reseal(data)
    assert main(["show", str(kit.saved), "--format", fmt, "--no-color"]) == 0
    out = capsys.readouterr().out
    assert str(elsewhere) not in out and str(kit.state.resolve()) in out


def test_a_second_apply_of_a_first_plan_while_the_first_runs_names_the_lock_holder(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan was made before any state existed; the first apply made the state and still
    holds its lock: the second is told who holds it, not that the plan was applied."""
    from planner.state.lock import StateLock
    from planner.state.model import State
    from planner.state.store import StateStore

    assert kit.data()["state"]["lineage"] is None
    StateStore(kit.state).write(State.new())  # what the first apply has made so far
    with StateLock(kit.state, "apply"), kit.cloud():
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert ("is locked by apply (pid " in err.splitlines()[0]), err
    assert "already applied" not in err
    assert kit.restores() == []



def test_a_sealed_plan_holding_a_number_past_a_float_s_range_is_refused_not_a_crash(
    kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    text = kit.saved.read_text()
    assert '"estimate_s": ' in text
    head, tail = text.split('"estimate_s": ', 1)
    kit.saved.write_text(head + '"estimate_s": -1e999' + tail[tail.index(","):])
    for command in ("show", "apply"):
        assert main([command, str(kit.saved), "--no-color"]) == 1
        err = capsys.readouterr().err
        assert "it holds -1e999, a number past a float's range" in err, err
        assert "bug" not in err
    assert kit.restores() == []
