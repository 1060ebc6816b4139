"""planner.plan.planfile: the saved plan's file (atomic save, bounded load), digest and facts."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from planner.errors import UserError
from planner.plan import planfile
from planner.plan.model import ExecutionPlan
from planner.state.model import State
from tests.render import conftest as kit


def _sealed(tmp_path: Path) -> ExecutionPlan:
    plan = kit.make_plan(kit.tiered_actions())
    for a in plan.actions:
        if a.action == "forget":
            a.restore = None  # as plan makes a forget (a saved forget with a restore is refused)
        if a.restore is not None and a.action in ("restore", "re-restore", "reconcile"):
            r = a.restore
            a.facts = {f"backup {r.backup.id} status": "available"}
            if r.target.kind == "server":
                volumes = ",".join(f"{d.device or '?'}={d.volume_id}" for d in r.disks)
                a.facts |= {f"server {r.target.id} state": "restorable", f"server {r.target.id} volumes": volumes}
            else:
                a.facts[f"volume {r.target.id} status"] = "in-use"
    planfile.seal(plan, State.new(), tmp_path / "state.json", existed=False, cloud_now=1.8e9)
    return plan


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    plan = _sealed(tmp_path)
    out = tmp_path / "p.plan"
    out.write_text("the old plan")
    planfile.save(plan, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.plan"]
    assert (out.stat().st_mode & 0o777) == 0o644
    loaded = planfile.load(str(out))
    assert loaded == plan and loaded.digest == planfile.digest_of(plan)


def test_save_into_a_missing_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"cannot save the plan to .*/nowhere/p\.plan: No such file or directory"):
        planfile.save(_sealed(tmp_path), tmp_path / "nowhere" / "p.plan")


def test_the_digest_covers_everything_but_itself(tmp_path: Path) -> None:
    plan = _sealed(tmp_path)
    assert plan.digest.startswith("sha256:") and len(plan.digest) == 71
    moved = plan.model_copy(deep=True)
    moved.warnings = []
    assert planfile.digest_of(moved) != plan.digest
    same = plan.model_copy(deep=True)
    same.digest = "sha256:" + "0" * 64
    assert planfile.digest_of(same) == plan.digest


def test_state_binding(tmp_path: Path) -> None:
    plan = _sealed(tmp_path)
    assert plan.state.lineage is None and plan.state.identity == ""
    assert plan.state.location == str((tmp_path / "state.json").resolve())
    state = State.new()
    planfile.seal(plan, state, tmp_path / "x" / ".." / "state.json", existed=True, cloud_now=1.8e9)
    assert plan.state.location == str((tmp_path / "state.json").resolve())
    bound = plan.state  # a new StateRef (mypy narrowed the old one's lineage to None)
    assert (bound.lineage, bound.identity) == (state.lineage, planfile.state_identity(state))


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "p.plan"
    os.mkfifo(fifo)
    assert not planfile.is_saved_plan(str(fifo))
    result: list[BaseException] = []

    def load() -> None:
        try:
            planfile.load(str(fifo))
        except UserError as exc:
            result.append(exc)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    t.join(timeout=30)  # generous: only a hang fails this
    assert not t.is_alive(), "loading a FIFO blocked"
    assert [str(e) for e in result] == [f"{fifo} is not a saved plan (not a regular file)"]


def test_a_directory_and_an_oversized_file_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match=r"is not a saved plan \(not a regular file\)"):
        planfile.load(str(tmp_path))
    out = tmp_path / "p.plan"
    planfile.save(_sealed(tmp_path), out)
    monkeypatch.setattr(planfile, "MAX_PLAN_BYTES", 1000)
    with pytest.raises(UserError, match=r"is not a saved plan \([\d,]+ bytes; a saved plan is at most 1,000\)"):
        planfile.load(str(out))


def test_a_plan_without_a_digest_or_of_format_1_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "p.plan"
    planfile.save(_sealed(tmp_path), out)
    data = json.loads(out.read_text())
    data["digest"] = ""
    out.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"is not a saved plan \(it has no digest\)"):
        planfile.load(str(out))
    data["format_version"] = 1
    out.write_text(json.dumps(data))
    with pytest.raises(UserError, match="format version 1, made before saved plans carried a digest"):
        planfile.load(str(out))


def test_require_digest_parsing() -> None:
    hexd = "ab" * 32
    assert planfile.parse_digest(f"  SHA256:{hexd.upper()} ") == f"sha256:{hexd}"
    assert planfile.parse_digest(hexd) == f"sha256:{hexd}"
    for bad in ("", "sha256:", hexd[:-1], hexd + "0", "g" * 64, "md5:" + hexd):
        with pytest.raises(UserError, match="is not a plan digest"):
            planfile.parse_digest(bad)


def test_the_file_digest_of_a_saved_plan_is_its_digest(tmp_path: Path) -> None:
    """load compares the file's own digest (no rebuild of the public view): for what
    `plan --out` wrote it is the plan's digest, and any byte of content moved changes it."""
    plan = _sealed(tmp_path)
    out = tmp_path / "p.plan"
    planfile.save(plan, out)
    data = json.loads(out.read_text())
    assert planfile._raw_digest(data) == plan.digest == planfile.digest_of(planfile.load(str(out)))
    data["actions"][0]["address"] += "x"
    assert planfile._raw_digest(data) != plan.digest
    out.write_text(json.dumps(data))
    with pytest.raises(UserError, match="modified after it was made"):
        planfile.load(str(out))
    data = json.loads(out.read_text())
    data["estimate"] = {"makespan_s": float("nan")}
    assert planfile._raw_digest(data) is None  # not comparable: the model's view decides


def test_the_file_digest_is_canonical_json_s_whichever_encoder_computes_it() -> None:
    """orjson computes the digest first; where its bytes differ from canonical_json's (a
    float with an exponent, an integer past 64 bits) canonical_json's digest decides."""
    import hashlib

    for value in (1.5, 1e-05, 2**70, "é\u2028\x00"):
        view = {"b": [value], "a": {"z": 1, "y": None}}
        stated = planfile.DIGEST_PREFIX + hashlib.sha256(planfile.canonical_json(view)).hexdigest()
        assert planfile._raw_digest({**view, "digest": stated}) == stated, value
        edited = {**view, "a": {"z": 2, "y": None}, "digest": stated}
        assert planfile._raw_digest(edited) not in (None, stated), value
