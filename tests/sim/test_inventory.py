"""Inventory loading (good errors for a bad file) and `sim generate`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from planner.cli.main import main
from planner.errors import UserError
from planner.sim import Simulator, dump_inventory, generate_inventory, load_inventory
from planner.sim.http import SimRequest


def test_bad_inventory_lists_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "inv.yaml"
    p.write_text(yaml.safe_dump({
        "servers": [{"id": "s1", "name": "a", "volumes": [{"id": "v9"}], "colour": "red"}],
        "volumes": [{"id": "v1", "size_gb": 0}],
        "rules": {"cross_server_restore": "maybe"},
    }))
    with pytest.raises(UserError) as exc:
        load_inventory(p)
    assert exc.value.message == (
        f"{p}: invalid simulator inventory:\n"
        "  servers.0.colour: Extra inputs are not permitted\n"
        "  volumes.0.size_gb: Input should be greater than or equal to 1\n"
        "  rules.cross_server_restore: Input should be 'deny' or 'allow'"
    )


def test_dangling_references(tmp_path: Path) -> None:
    p = tmp_path / "inv.yaml"
    p.write_text(yaml.safe_dump({
        "servers": [{"id": "s1", "name": "a", "volumes": [{"id": "v9"}]}],
        "backups": [{"id": "b", "resource_id": "s1", "created_at": "2026-01-01T00:00:00Z", "vault_id": "nov"}],
    }))
    with pytest.raises(UserError) as exc:
        load_inventory(p)
    assert exc.value.message == (
        f"{p}: invalid simulator inventory:\n"
        "  server a: attached volume v9 is not in volumes\n"
        "  backup b: vault nov is not in vaults"
    )


def test_not_yaml_and_missing(tmp_path: Path) -> None:
    p = tmp_path / "inv.yaml"
    p.write_text("servers: [\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_inventory(p)
    with pytest.raises(UserError, match="cannot read inventory"):
        load_inventory(tmp_path / "missing.yaml")
    p.write_text("- 1\n")
    with pytest.raises(UserError, match="an inventory must be a YAML mapping, got list"):
        load_inventory(p)


def test_generate_is_deterministic_and_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.yaml"
    assert main(["sim", "generate", "--servers", "30", "--disks", "2", "--seed", "5", "--out", str(out)]) == 0
    assert main(["sim", "generate", "--servers", "30", "--disks", "2", "--seed", "5"]) == 0
    assert capsys.readouterr().out == out.read_text()
    assert dump_inventory(generate_inventory(30, 2, 6)) != out.read_text()
    inv = load_inventory(out)
    names = [s.name for s in inv.servers]
    assert names[:4] == ["db-01", "app-01", "web-01", "db-02"] and "web-10" in names
    assert {s.tags["env"] for s in inv.servers} == {"drill"}
    assert all(len(s.volumes) == 3 and s.volumes[0].boot for s in inv.servers)
    assert {v.size_gb for v in inv.volumes if v.name.endswith("-sys")} == {40}
    server_backups = [b for b in inv.backups if b.resource_type == "OS::Nova::Server"]
    assert 90 <= len(server_backups) <= 150 and all(len(b.children) == 3 for b in server_backups)
    assert any(s.status in ("SHUTOFF", "ERROR") for s in inv.servers)
    assert any(b.resource_type == "OS::Cinder::Volume" for b in inv.backups)


def test_scale_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a timing assert: prints the load and paging figures for a 2,000-server inventory."""
    p = tmp_path / "big.json"
    assert main(["sim", "generate", "--servers", "2000", "--disks", "2", "--seed", "1", "--out", str(p)]) == 0
    t0 = time.perf_counter()
    inv = load_inventory(p)
    sim = Simulator(inv)
    t1 = time.perf_counter()
    hdr = {"x-auth-token": sim.credentials.token}
    seen, page = 0, 1
    while True:
        q = [("limit", "1000"), ("offset", str(page))]
        resp = sim.handle(SimRequest("GET", f"/v1/{inv.project_id}/cloudservers/detail", q, hdr))
        if not resp.body["servers"]:
            break
        seen += len(resp.body["servers"])
        page += 1
    t2 = time.perf_counter()
    assert seen == 2000 and len(inv.volumes) >= 6000
    assert json.loads(p.read_text()) == generate_inventory(2000, 2, 1)
    with capsys.disabled():
        print(f"\n[sim scale] 2,000 servers: load {t1 - t0:.2f}s, page all servers {t2 - t1:.2f}s")
