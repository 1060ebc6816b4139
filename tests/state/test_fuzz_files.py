"""Damaged files the tool reads back (saved plan, state, state log, run log, journal):
every command exits 0 or 1 with a message, never with a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli.main import main
from tests.apply.drill import in_process, make_drill, simulator, write_drill

_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a saved plan, and the state, run log and journal of its apply."""
    root = tmp_path_factory.mktemp("applied")
    drill = make_drill(5, seed=2)
    _inv, plan = write_drill(drill, root)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(root / "drill.plan"), "--no-color"]) in (0, 2)
        assert main(["apply", str(root / "drill.plan"), "--auto-approve", "--no-color"]) == 0
    return root


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, data: st.DataObject) -> Any:
    """Replace or delete one node of a JSON document, chosen by hypothesis."""
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)
    return doc


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main([*argv, "--no-color"]) if argv[0] != "report" else main(argv)
    err = capsys.readouterr().err
    assert rc in (0, 1), err
    assert "This is a bug" not in err, err
    assert "Traceback" not in err, err


def _copy(applied: Path, tmp: Path) -> Path:
    work = tmp / "w"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(applied, work)
    return work


def _state_dir(work: Path) -> Path:
    return next(p.parent for p in work.rglob("state.json"))


@_SETTINGS
@given(data=st.data())
def test_damaged_saved_plan(applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    work = _copy(applied, tmp_path)
    doc = _mutate(json.loads((work / "drill.plan").read_text()), data)
    (work / "drill.plan").write_text(json.dumps(doc))
    _run(["show", str(work / "drill.plan")], capsys)
    _run(["show", str(work / "drill.plan"), "--format", "markdown"], capsys)


@_SETTINGS
@given(data=st.data())
def test_damaged_state(applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject) -> None:
    work = _copy(applied, tmp_path)
    state = _state_dir(work) / "state.json"
    doc = _mutate(json.loads(state.read_text()), data)
    state.write_text(json.dumps(doc))
    _run(["state", "list", "--state", str(state)], capsys)
    _run(["state", "show", 's-' + "x", "--state", str(state)], capsys)


@_SETTINGS
@given(data=st.data(), cut=st.integers(0, 400))
def test_damaged_run_log(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject, cut: int
) -> None:
    work = _copy(applied, tmp_path)
    log = next((_state_dir(work) / "runs").glob("*.jsonl"))
    lines = log.read_text().splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    lines[i] = json.dumps(_mutate(json.loads(lines[i]), data)) if data.draw(st.booleans()) else lines[i][:cut]
    log.write_text("\n".join(lines) + "\n")
    for fmt in ("markdown", "html", "junit", "json"):
        _run(["report", "--state", str(_state_dir(work) / "state.json"), "--format", fmt], capsys)


@_SETTINGS
@given(garbage=st.binary(max_size=200))
def test_damaged_state_log_and_journal(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], garbage: bytes
) -> None:
    work = _copy(applied, tmp_path)
    d = _state_dir(work)
    (d / "state.json.log").write_bytes(b'{"serial": 99, "lineage": "x", "record": {}}\n' + garbage)
    (d / "state.json.journal").write_bytes(garbage)
    _run(["state", "list", "--state", str(d / "state.json")], capsys)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(data=st.data())
def test_damaged_saved_plan_is_refused_or_applied_never_crashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    """apply of a damaged saved plan: a refusal (exit 1), or a clean run; the simulator's
    ledger never shows a restore the undamaged plan did not contain."""
    work = tmp_path / "w"
    if work.exists():
        shutil.rmtree(work)
    drill = make_drill(4, seed=3)
    _inv, plan = write_drill(drill, work)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(work / "drill.plan"), "--no-color"]) in (0, 2)
        original = json.loads((work / "drill.plan").read_text())
        allowed = {(a["backup"]["id"], a["target"]["id"]) for a in original["actions"] if a.get("backup")}
        (work / "drill.plan").write_text(json.dumps(_mutate(original, data)))
        capsys.readouterr()
        _run(["apply", str(work / "drill.plan"), "--auto-approve", "--format", "json"], capsys)
    done = {(r["backup_id"], r["target_id"]) for r in sim.ledger()["restores"]}
    assert done <= allowed, done - allowed
