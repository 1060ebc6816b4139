"""Shared helpers for simulator tests: a small hand-written inventory and a client."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from planner.clock import VirtualClock
from planner.sim import Simulator, parse_inventory

PRJ = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
T0 = 1_790_000_000.0

INVENTORY: dict[str, Any] = {
    "project_id": PRJ,
    "region": "sim-1",
    "servers": [
        {"id": "srv-a", "name": "db-01", "status": "ACTIVE", "az": "az1", "tags": {"tier": "db"},
         "volumes": [{"id": "va-boot", "device": "/dev/vda", "boot": True},
                     {"id": "va-data", "device": "/dev/vdb"}]},
        {"id": "srv-b", "name": "app-01", "status": "ACTIVE", "az": "az1", "tags": {"tier": "app"},
         "volumes": [{"id": "vb-boot", "device": "/dev/vda", "boot": True},
                     {"id": "vb-data", "device": "/dev/vdb"}]},
        {"id": "srv-err", "name": "web-01", "status": "ERROR", "az": "az2", "tags": {"tier": "web"},
         "volumes": []},
        {"id": "srv-del", "name": "web-02", "status": "DELETED", "az": "az2", "volumes": []},
        {"id": "srv-p", "name": "web-03", "status": "ACTIVE", "az": "az2",
         "volumes": [{"id": "vp-boot", "device": "/dev/vda", "boot": True}]},
    ],
    "volumes": [
        {"id": "va-boot", "name": "db-01-sys", "size_gb": 40, "az": "az1", "status": "in-use"},
        {"id": "va-data", "name": "db-01-data", "size_gb": 100, "az": "az1", "status": "in-use"},
        {"id": "vb-boot", "name": "app-01-sys", "size_gb": 40, "az": "az1", "status": "in-use"},
        {"id": "vb-data", "name": "app-01-data", "size_gb": 50, "az": "az1", "status": "in-use"},
        {"id": "vp-boot", "name": "web-03-sys", "size_gb": 40, "az": "az2", "status": "in-use"},
        {"id": "v-free", "name": "spare", "size_gb": 100, "az": "az1", "status": "available"},
        {"id": "v-free2", "name": "spare2", "size_gb": 100, "az": "az1", "status": "available"},
        {"id": "v-small", "name": "small", "size_gb": 10, "az": "az1", "status": "available"},
    ],
    "vaults": [{"id": "vault-1", "name": "main", "status": "available"},
               {"id": "vault-frozen", "name": "frozen", "status": "frozen"}],
    "backups": [
        {"id": "bk-a", "name": "autobk_a", "resource_id": "srv-a", "resource_type": "OS::Nova::Server",
         "status": "available", "created_at": "2026-11-19T10:00:00Z", "vault_id": "vault-1",
         "children": [{"id": "ch-a-boot", "resource_id": "va-boot", "size_gb": 40, "device": "/dev/vda", "bootable": True},
                      {"id": "ch-a-data", "resource_id": "va-data", "size_gb": 80, "device": "/dev/vdb"}]},
        {"id": "bk-a-old", "name": "autobk_old", "resource_id": "srv-a", "resource_type": "OS::Nova::Server",
         "status": "error", "created_at": "2026-11-18T10:00:00Z", "vault_id": "vault-1",
         "children": [{"id": "ch-old-boot", "resource_id": "va-boot", "size_gb": 40, "bootable": True}]},
        {"id": "bk-na", "name": "manualbk_na", "resource_id": "srv-a", "resource_type": "OS::Nova::Server",
         "status": "available", "restore_mode": "na", "created_at": "2026-11-17T10:00:00Z", "vault_id": "vault-1",
         "children": [{"id": "ch-na", "resource_id": "va-boot", "size_gb": 40, "bootable": True}]},
        {"id": "bk-frozen", "name": "autobk_f", "resource_id": "srv-a", "resource_type": "OS::Nova::Server",
         "status": "available", "created_at": "2026-11-16T10:00:00Z", "vault_id": "vault-frozen",
         "children": [{"id": "ch-f", "resource_id": "va-boot", "size_gb": 40, "bootable": True}]},
        {"id": "bk-vol", "name": "manualbk_v", "resource_id": "v-free", "resource_type": "OS::Cinder::Volume",
         "status": "available", "created_at": "2026-11-19T11:00:00Z", "size_gb": 60, "vault_id": "vault-1"},
        {"id": "bk-vol-big", "name": "manualbk_big", "resource_id": "v-small", "resource_type": "OS::Cinder::Volume",
         "status": "available", "created_at": "2026-11-19T12:00:00Z", "size_gb": 20, "vault_id": "vault-1"},
        {"id": "bk-vol-inuse", "name": "manualbk_iu", "resource_id": "va-data", "resource_type": "OS::Cinder::Volume",
         "status": "available", "created_at": "2026-11-19T13:00:00Z", "size_gb": 60, "vault_id": "vault-1"},
        {"id": "bk-p", "name": "autobk_p", "resource_id": "srv-p", "resource_type": "OS::Nova::Server",
         "status": "available", "created_at": "2026-11-19T09:00:00Z", "vault_id": "vault-1",
         "children": [{"id": "ch-p", "resource_id": "vp-boot", "size_gb": 40, "bootable": True}]},
        {"id": "bk-p-now", "name": "autobk_pn", "resource_id": "srv-p", "resource_type": "OS::Nova::Server",
         "status": "protecting", "created_at": "2026-11-19T14:00:00Z", "vault_id": "vault-1",
         "children": [{"id": "ch-pn", "resource_id": "vp-boot", "size_gb": 40, "bootable": True}]},
    ],
    # a pace without spread or per-disk overhead, so the tests know each restore's duration
    "rules": {"quota": 2, "rate_per_s": 1000, "restore_overhead_s": 60, "throughput_gb_per_min": 4,
              "per_disk_overhead_s": 0, "pace_spread": [1, 1]},
}


def make_sim(faults: str = "", seed: int = 0, **rules: Any) -> Simulator:
    data = dict(INVENTORY, rules={**INVENTORY["rules"], **rules})
    return Simulator(parse_inventory(data), clock=VirtualClock(T0), faults=faults, seed=seed)


def call(sim: Simulator, method: str, path: str, *, json: Any = None,
         params: Any = None, headers: dict[str, str] | None = None, auth: bool = True) -> httpx.Response:
    """One request through the in-process transport (token auth unless auth=False)."""
    hdrs = {"X-Auth-Token": sim.credentials.token} if auth else {}
    hdrs.update(headers or {})

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim.local") as c:
            return await c.request(method, path.replace("{p}", PRJ), json=json, params=params, headers=hdrs)

    return asyncio.run(go())


def restore(sim: Simulator, backup_id: str, body: dict[str, Any]) -> httpx.Response:
    return call(sim, "POST", f"/v3/{{p}}/backups/{backup_id}/restore", json={"restore": body})


FULL_A = {"server_id": "srv-a", "mappings": [{"backup_id": "ch-a-boot", "volume_id": "va-boot"},
                                             {"backup_id": "ch-a-data", "volume_id": "va-data"}]}
