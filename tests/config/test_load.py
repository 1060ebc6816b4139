from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from planner.addresses import Address
from planner.config.load import load_plan
from planner.config.spec import BackupSelector, DiskMapEntry, SelectRef, TargetRef

GOOD = Path(__file__).resolve().parent.parent / "fixtures" / "good"


def test_good_plan_evaluates() -> None:
    path = str(GOOD / "plan.yaml")
    config, diags = load_plan(path, [], [])
    assert diags == [] and config is not None
    assert (config.region, config.project_id, config.files) == ("ap-southeast-1", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", (path,))
    assert config.guards.max_backup_age == timedelta(days=7)
    assert config.guards.deny_target_tags == (("env", "prod"),)
    assert config.estimates.restore_overhead_s == 90.0
    by = {str(r.address): r for r in config.restores}
    assert list(by) == ["db", 'app["app-01"]', 'app["app-02"]', "web"]
    db = by["db"]
    assert db.target == TargetRef("server", id="s-db") and db.backup == "b-db" and db.power_on is True
    assert db.disks == (DiskMapEntry("c1", "v1", db.disks[0].range if db.disks else None),)
    assert db.disks is not None and str(db.disks[0].range) == f"{path}:14:9"
    app = by['app["app-02"]']
    assert app.address == Address("app", "app-02")
    assert app.target == TargetRef("server", name="app-02")
    assert app.backup == BackupSelector(before=datetime(2026, 11, 20, tzinfo=UTC))
    assert app.power_on is False  # from defaults
    assert [str(d.address) for d in app.depends_on] == ["db"]
    assert str(app.depends_on[0].range) == f"{path}:19:18"
    assert str(app.range_of("block")) == f"{path}:15:3"
    assert str(app.range_of("for_each")) == f"{path}:16:15"
    web = by["web"]
    assert web.target == SelectRef("server", (("tier", "web"),), "web-*") and web.wave == 2
    assert str(config.ranges["guards.max_restores"]) == f"{path}:7:55"


def test_variable_precedence_and_digest(tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text('version: 1\nvars: {a: from-vars, b: from-vars}\nrestores:\n  r: {server: "{{ a }}--{{ b }}", backup: x}\n')
    vf = tmp_path / "v.yaml"
    vf.write_text("a: from-file\nb: from-file\n")
    config, _ = load_plan(str(plan), [str(vf)], ["b=from-arg"])
    assert config is not None and config.restores[0].target == TargetRef("server", id="from-file--from-arg")
    other, _ = load_plan(str(plan), [str(vf)], ["b=other"])
    same, _ = load_plan(str(plan), [str(vf)], ["b=from-arg"])
    assert other is not None and same is not None
    assert config.digest == same.digest != other.digest
    assert len(config.digest) == 64


def test_var_arg_is_a_string(tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text('version: 1\nrestores:\n  r: {server: s, backup: x, wave: "{{ w }}"}\n')
    _, diags = load_plan(str(plan), [], ["w=2"])
    assert [(d.code, d.summary) for d in diags] == [("RP111", "restores.r.wave: input should be a valid integer, got a string")]


def test_directory_merges_sorted_files() -> None:
    config, diags = load_plan(str(GOOD / "split"), [], [])
    assert diags == [] and config is not None
    assert [Path(f).name for f in config.files] == ["01-main.yaml", "02-app.yaml"]
    assert [str(r.address) for r in config.restores] == ["db", 'app["a"]', 'app["b"]']
    assert config.restores[2].target == TargetRef("server", id="srv-b")


def test_all_problems_reported_not_the_first(tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text("version: 1\nrestores:\n  a: {server: s, backup: 1}\n  b: {server: s}\n  c: {backup: x}\n")
    _, diags = load_plan(str(plan), [], [])
    assert [(d.code, d.range.line if d.range else 0) for d in diags] == [("RP111", 3), ("RP112", 4), ("RP113", 5)]
