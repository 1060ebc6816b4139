"""The simulator against the official Huawei Cloud Python SDK (test-only dependency).

Two halves:
- every answer the simulator gives (server, volume, backup list and show, vault,
  operation-log list and show, restore) is checked strictly against the SDK's response
  model: a key the SDK model does not know, or a field its model requires and the
  answer lacks, fails the test (recursively, through ``openapi_types``);
- the SDK's own clients, signing with the SDK's AK/SK signer, talk to ``sim serve``
  started as a real HTTP server on 127.0.0.1, and read every answer and error body.

"Required" is what the SDK model's ``__init__`` assigns unconditionally (the generated
code guards every optional field with ``if x is not None``); a required key present
with a null value counts as present (ECS answers unknown ids that way).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.sim.simkit import FULL_A, INVENTORY, PRJ, call, make_sim, restore

cbr = pytest.importorskip("huaweicloudsdkcbr.v1")
ecs = pytest.importorskip("huaweicloudsdkecs.v2")
evs = pytest.importorskip("huaweicloudsdkevs.v2")
core_credentials = pytest.importorskip("huaweicloudsdkcore.auth.credentials")
core_exceptions = pytest.importorskip("huaweicloudsdkcore.exceptions.exceptions")

ROOT = Path(__file__).resolve().parents[2]
_LIST = re.compile(r"list\[(.*)\]$")
_DICT = re.compile(r"dict\(([^,]*), (.*)\)$")
PRIMITIVES = {"str", "int", "float", "bool", "object", "date", "datetime", "decimal"}
# keys the simulator sends that the SDK model lacks, each with the source that shows
# the real cloud sends it too
DOCUMENTED_EXTRA = {
    # the documented 202 body is empty; the Terraform provider reads job_id from it
    # (resource_huaweicloud_cbr_restore.go) and fails without it
    ("RestoreBackupResponse", "job_id"),
    # real backup answers carry it as null [HW cbr_04_0028, the ListBackups example]
    ("BackupResp", "progress"),
}


@cache
def required_fields(klass: type) -> frozenset[str]:
    """Python attribute names the SDK model's __init__ sets without an ``if`` guard."""
    tree = ast.parse(inspect.getsource(klass.__init__).strip())  # type: ignore[misc]
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    out = set()
    for stmt in fn.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Attribute):
            name = stmt.targets[0].attr
            if not name.startswith("_") and name != "discriminator":
                out.add(name)
    return frozenset(out)


def _model(klass: type, name: str) -> type | None:
    package = importlib.import_module(klass.__module__.rsplit(".", 1)[0])
    found = getattr(package, name, None)
    return found if isinstance(found, type) else None


def problems(data: Any, klass: type, where: str = "$") -> list[str]:
    """Every key the SDK model does not know, and every required field missing."""
    if not isinstance(data, dict):
        return [f"{where}: expected an object for {klass.__name__}, got {type(data).__name__}"]
    attr_of_key = {json_key: attr for attr, json_key in klass.attribute_map.items()}  # type: ignore[attr-defined]
    out = [
        f"{where}.{k}: unknown to {klass.__name__}"
        for k in data
        if k not in attr_of_key and (klass.__name__, k) not in DOCUMENTED_EXTRA
    ]
    for attr in sorted(required_fields(klass)):
        key = klass.attribute_map[attr]  # type: ignore[attr-defined]
        if key not in data:
            out.append(f"{where}.{key}: required by {klass.__name__}, missing")
    for key, value in data.items():
        field = attr_of_key.get(key)
        if field is None or value is None:
            continue
        out += _check_value(value, klass.openapi_types[field], klass, f"{where}.{key}")  # type: ignore[attr-defined]
    return out


def _check_value(value: Any, type_name: str, owner: type, where: str) -> list[str]:
    if m := _LIST.match(type_name):
        if not isinstance(value, list):
            return [f"{where}: expected a list ({type_name})"]
        return [p for i, v in enumerate(value) if v is not None for p in _check_value(v, m[1], owner, f"{where}[{i}]")]
    if m := _DICT.match(type_name):
        if not isinstance(value, dict):
            return [f"{where}: expected an object ({type_name})"]
        return [p for k, v in value.items() if v is not None for p in _check_value(v, m[2], owner, f"{where}.{k}")]
    if type_name in PRIMITIVES:
        return _check_primitive(value, type_name, where)
    sub = _model(owner, type_name)
    if sub is None:
        return [f"{where}: the SDK has no model {type_name}"]
    if not sub.openapi_types:  # type: ignore[attr-defined]
        return []  # an enum-like model: any scalar
    return problems(value, sub, where)


def _check_primitive(value: Any, type_name: str, where: str) -> list[str]:
    checks: dict[str, Callable[[Any], bool]] = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
    }
    ok = checks.get(type_name, lambda v: True)
    return [] if ok(value) else [f"{where}: {value!r} is not {type_name}"]


def assert_fits(body: Any, klass: type) -> None:
    found = problems(body, klass)
    assert not found, "\n".join(found)


# ---- the checker itself must be able to fail --------------------------------------------


def test_checker_finds_unknown_and_missing_fields() -> None:
    assert problems({"vault": {"id": "x"}}, cbr.ShowVaultResponse) == [
        "$.vault.billing: required by Vault, missing",
        "$.vault.name: required by Vault, missing",
        "$.vault.project_id: required by Vault, missing",
        "$.vault.provider_id: required by Vault, missing",
        "$.vault.resources: required by Vault, missing",
    ]
    bad = {"count": 1, "operation_logs": [{"id": "t", "status_x": 1}]}
    assert "$.operation_logs[0].status_x: unknown to OperationLog" in problems(bad, cbr.ListOpLogsResponse)
    assert problems({"count": "1", "backups": []}, cbr.ListBackupsResponse) == ["$.count: '1' is not int"]


# ---- every answer of the simulator, in process ----------------------------------------


def _answers() -> Iterator[tuple[str, Any, type]]:
    sim = make_sim(quota=1)
    job = restore(sim, "bk-a", {**FULL_A, "power_on": False})
    assert job.status_code == 202
    yield "restore", job.json(), cbr.RestoreBackupResponse
    queued = restore(sim, "bk-vol", {"volume_id": "v-free"})
    yield "restore queued", queued.json(), cbr.RestoreBackupResponse
    yield "list backups", call(sim, "GET", "/v3/{p}/backups").json(), cbr.ListBackupsResponse
    yield "list children", call(sim, "GET", "/v3/{p}/backups", params={"parent_id": "bk-a"}).json(), cbr.ListBackupsResponse
    flat = make_sim(listed_children="flat")
    yield "list backups flat", call(flat, "GET", "/v3/{p}/backups").json(), cbr.ListBackupsResponse
    disks = call(flat, "GET", "/v3/{p}/backups", params={"resource_type": "OS::Cinder::Volume"}).json()
    assert "ch-a-boot" in {b["id"] for b in disks["backups"]}
    yield "list disk backups flat", disks, cbr.ListBackupsResponse
    yield "list backups nested", call(make_sim(listed_children="nested"), "GET", "/v3/{p}/backups").json(), cbr.ListBackupsResponse
    for bid in ("bk-a", "bk-vol", "ch-a-boot"):
        yield f"show backup {bid}", call(sim, "GET", f"/v3/{{p}}/backups/{bid}").json(), cbr.ShowBackupResponse
    yield "list vaults", call(sim, "GET", "/v3/{p}/vaults").json(), cbr.ListVaultResponse
    for vid in ("vault-1", "vault-frozen"):
        yield f"show vault {vid}", call(sim, "GET", f"/v3/{{p}}/vaults/{vid}").json(), cbr.ShowVaultResponse
    for t in (0, 1000, 5000):
        sim.clock.advance(t)  # type: ignore[attr-defined]
        yield f"list op logs +{t}", call(sim, "GET", "/v3/{p}/operation-logs").json(), cbr.ListOpLogsResponse
        log = call(sim, "GET", f"/v3/{{p}}/operation-logs/{job.json()['job_id']}").json()
        yield f"show op log +{t}", log, cbr.ShowOpLogResponse
    yield "list servers", call(sim, "GET", "/v1/{p}/cloudservers/detail").json(), ecs.ListServersDetailsResponse
    stubs = call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"server_id": "srv-a,no-such"}).json()
    yield "list servers by id", stubs, ecs.ListServersDetailsResponse
    yield "show server", call(sim, "GET", "/v1/{p}/cloudservers/srv-a").json(), ecs.ShowServerResponse
    yield "list volumes", call(sim, "GET", "/v2/{p}/cloudvolumes/detail", params={"limit": 2}).json(), evs.ListVolumesResponse
    yield "show volume", call(sim, "GET", "/v2/{p}/cloudvolumes/va-boot").json(), evs.ShowVolumeResponse


ANSWERS = list(_answers())


@pytest.mark.parametrize(("name", "body", "klass"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answer_fits_the_sdk_model(name: str, body: Any, klass: type) -> None:
    assert_fits(body, klass)


def test_unknown_server_ids_come_back_as_stubs() -> None:
    sim = make_sim()
    body = call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"server_id": "srv-a,no-such"}).json()
    by_id = {s["id"]: s for s in body["servers"]}
    assert set(by_id) == {"srv-a", "no-such"}
    stub = by_id["no-such"]
    assert stub["fault"] is not None
    assert {k for k, v in stub.items() if v is not None} == {"id", "fault"}


def test_vault_status_is_billing_status_in_the_sdk_enum() -> None:
    sim = make_sim()
    vaults = call(sim, "GET", "/v3/{p}/vaults").json()["vaults"]
    assert {v["id"]: v["billing"]["status"] for v in vaults} == {"vault-1": "available", "vault-frozen": "frozen"}
    assert all("status" not in v and isinstance(v["locked"], bool) for v in vaults)


# ---- the SDK's own requests against `sim serve` ---------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    yield from _serve(tmp_path_factory, INVENTORY)


@pytest.fixture(scope="module")
def served_flat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``sim serve`` listing every disk backup as a top-level item too (``listed_children: flat``)."""
    yield from _serve(tmp_path_factory, {**INVENTORY, "rules": {**INVENTORY["rules"], "listed_children": "flat"}})


def _serve(tmp_path_factory: pytest.TempPathFactory, inventory: dict[str, Any]) -> Iterator[dict[str, str]]:
    import yaml

    tmp = tmp_path_factory.mktemp("sdk")
    (tmp / "inv.yaml").write_text(yaml.safe_dump(inventory))
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "sim", "serve", "--inventory", str(tmp / "inv.yaml"),
         "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        env: dict[str, str] = {}
        assert proc.stdout is not None
        while "HW_SECRET_KEY" not in env:
            line = proc.stdout.readline()
            assert line, "sim serve ended before printing its settings"
            if line.startswith("export "):
                key, _, value = line.strip().removeprefix("export ").partition("=")
                env[key] = value
        assert env["HW_ENDPOINT"].startswith("http://127.0.0.1:")
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(module: Any, name: str, env: dict[str, str]) -> Any:
    creds = core_credentials.BasicCredentials(env["HW_ACCESS_KEY"], env["HW_SECRET_KEY"], env["HW_PROJECT_ID"])
    builder = getattr(module, name).new_builder().with_credentials(creds).with_endpoints([env["HW_ENDPOINT"]])
    return builder.build()


def _raw(resp: Any) -> Any:
    return json.loads(resp.raw_content) if resp.raw_content else None


def test_sdk_reads_every_answer_over_http(served: dict[str, str]) -> None:
    c = _client(cbr, "CbrClient", served)
    backups = c.list_backups(cbr.ListBackupsRequest(resource_id="srv-a", status="available", limit=100, offset=0))
    assert_fits(_raw(backups), cbr.ListBackupsResponse)
    ids = {b.id for b in backups.backups}
    assert {"bk-a", "bk-na"} <= ids and "bk-a-old" not in ids
    listed = next(b for b in backups.backups if b.id == "bk-a")
    assert listed.children == []  # the documented ListBackups shape: children in ShowBackup
    shown = c.show_backup(cbr.ShowBackupRequest(backup_id="bk-a"))
    assert_fits(_raw(shown), cbr.ShowBackupResponse)
    assert sorted(ch.id for ch in shown.backup.children) == ["ch-a-boot", "ch-a-data"]
    assert {ch.provider_id for ch in shown.backup.children} == {"0daac4c5-6707-4851-97ba-169e36266b66"}
    kids = c.list_backups(cbr.ListBackupsRequest(parent_id="bk-a"))
    assert sorted(b.id for b in kids.backups) == ["ch-a-boot", "ch-a-data"]
    vaults = c.list_vault(cbr.ListVaultRequest())
    assert_fits(_raw(vaults), cbr.ListVaultResponse)
    assert {v.id: v.billing.status for v in vaults.vaults} == {"vault-1": "available", "vault-frozen": "frozen"}
    vault = c.show_vault(cbr.ShowVaultRequest(vault_id="vault-1"))
    assert_fits(_raw(vault), cbr.ShowVaultResponse)

    body = cbr.BackupRestoreReq(restore=cbr.BackupRestore(
        server_id="srv-b", power_on=False,
        mappings=[cbr.BackupRestoreServerMapping(backup_id="ch-a-boot", volume_id="vb-boot")]))
    with pytest.raises(core_exceptions.ClientRequestException) as refused:
        c.restore_backup(cbr.RestoreBackupRequest(backup_id="bk-a", body=body))
    assert (refused.value.status_code, refused.value.error_code) == (400, "BackupService.2003")
    assert refused.value.error_msg and refused.value.request_id

    body = cbr.BackupRestoreReq(restore=cbr.BackupRestore(volume_id="v-free", power_on=False))
    accepted = c.restore_backup(cbr.RestoreBackupRequest(backup_id="bk-vol", body=body))
    assert accepted.status_code == 202
    job_id = _raw(accepted)["job_id"]
    logs = c.list_op_logs(cbr.ListOpLogsRequest(operation_type="restore", limit=100, offset=0))
    assert_fits(_raw(logs), cbr.ListOpLogsResponse)
    assert [o.id for o in logs.operation_logs] == [job_id]
    log = c.show_op_log(cbr.ShowOpLogRequest(operation_log_id=job_id))
    assert_fits(_raw(log), cbr.ShowOpLogResponse)
    extra = log.operation_log.extra_info
    assert (extra.restore.backup_id, extra.resource.id) == ("bk-vol", "v-free")
    assert extra.common.request_id.startswith("req-")

    with pytest.raises(core_exceptions.ClientRequestException) as missing:
        c.show_backup(cbr.ShowBackupRequest(backup_id="no-such"))
    assert (missing.value.status_code, missing.value.error_code) == (404, "BackupService.6200")
    with pytest.raises(core_exceptions.ClientRequestException) as no_log:
        c.show_op_log(cbr.ShowOpLogRequest(operation_log_id="no-such"))
    assert (no_log.value.status_code, no_log.value.error_code) == (404, "BackupService.6500")


def test_sdk_reads_the_flat_listing_over_http(served_flat: dict[str, str]) -> None:
    c = _client(cbr, "CbrClient", served_flat)
    listed = c.list_backups(cbr.ListBackupsRequest(limit=1000, offset=0))
    assert_fits(_raw(listed), cbr.ListBackupsResponse)
    by_id = {b.id: b for b in listed.backups}
    assert by_id["bk-a"].children == []
    assert (by_id["ch-a-data"].parent_id, by_id["ch-a-data"].resource_id) == ("bk-a", "va-data")
    assert by_id["ch-a-data"].checkpoint_id == by_id["bk-a"].checkpoint_id
    disks = c.list_backups(cbr.ListBackupsRequest(resource_type="OS::Cinder::Volume", vault_id="vault-1",
                                                  status="available", limit=2, offset=0))
    assert_fits(_raw(disks), cbr.ListBackupsResponse)
    assert len(disks.backups) == 2 and all(b.resource_type == "OS::Cinder::Volume" for b in disks.backups)
    rest = c.list_backups(cbr.ListBackupsRequest(resource_type="OS::Cinder::Volume", vault_id="vault-1",
                                                 status="available", limit=1000, offset=2))
    every = {b.id for b in disks.backups} | {b.id for b in rest.backups}
    assert disks.count == len(every) and {"ch-a-boot", "ch-a-data", "bk-vol"} <= every
    assert "ch-f" not in every  # its vault is vault-frozen


def test_sdk_ecs_and_evs_over_http(served: dict[str, str]) -> None:
    e = _client(ecs, "EcsClient", served)
    servers = e.list_servers_details(ecs.ListServersDetailsRequest(limit=2))
    assert_fits(_raw(servers), ecs.ListServersDetailsResponse)
    assert servers.count == len(INVENTORY["servers"]) and len(servers.servers) == 2
    after = e.list_servers_details(ecs.ListServersDetailsRequest(limit=2, marker=servers.servers[-1].id))
    assert [s.id for s in after.servers] == [s["id"] for s in INVENTORY["servers"][2:4]]
    by_id = e.list_servers_details(ecs.ListServersDetailsRequest(server_id="srv-a,no-such"))
    assert_fits(_raw(by_id), ecs.ListServersDetailsResponse)
    stub = next(s for s in by_id.servers if s.id == "no-such")
    assert stub.status is None and stub.name is None and stub.fault is not None
    shown = e.show_server(ecs.ShowServerRequest(server_id="srv-a"))
    assert_fits(_raw(shown), ecs.ShowServerResponse)
    with pytest.raises(core_exceptions.ClientRequestException) as gone:
        e.show_server(ecs.ShowServerRequest(server_id="no-such"))
    assert (gone.value.status_code, gone.value.error_code) == (404, "Ecs.0114")

    v = _client(evs, "EvsClient", served)
    vols = v.list_volumes(evs.ListVolumesRequest(limit=3))
    assert_fits(_raw(vols), evs.ListVolumesResponse)
    assert vols.count == len(INVENTORY["volumes"]) and len(vols.volumes) == 3
    vol = v.show_volume(evs.ShowVolumeRequest(volume_id="va-boot"))
    assert_fits(_raw(vol), evs.ShowVolumeResponse)
    assert vol.volume.bootable == "true"
    with pytest.raises(core_exceptions.ClientRequestException) as no_vol:
        v.show_volume(evs.ShowVolumeRequest(volume_id="no-such"))
    assert (no_vol.value.status_code, no_vol.value.error_code) == (404, "EVS.5404")


def test_a_bad_sdk_signature_is_apigw_0301(served: dict[str, str]) -> None:
    bad = {**served, "HW_SECRET_KEY": served["HW_SECRET_KEY"] + "x"}
    c = _client(cbr, "CbrClient", bad)
    with pytest.raises(core_exceptions.ClientRequestException) as refused:
        c.list_backups(cbr.ListBackupsRequest())
    assert (refused.value.status_code, refused.value.error_code) == (401, "APIGW.0301")
    assert served["HW_PROJECT_ID"] == PRJ
