"""`sim generate`: a realistic, deterministic synthetic inventory.

Servers named ``<tier>-NN`` spread round-robin over the tiers, each in an AZ
with a 40 GB boot volume plus K data volumes (20-500 GB), 3-5 server backups
over the past days (one child per volume), a few backups in ``error`` or
``protecting``, a few servers SHUTOFF/ERROR, and a few standalone disk backups.
Times are relative to a fixed epoch, so the output is a function of the seed.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from planner.sim.inventory import SERVER_TYPE, VOLUME_TYPE, default_vault

EPOCH = datetime(2026, 11, 20, tzinfo=UTC)
AZS = ("sim-1a", "sim-1b", "sim-1c")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_inventory(servers: int, disks: int, seed: int = 0, tiers: list[str] | None = None) -> dict[str, Any]:
    """The inventory as plain data (dump it with yaml); deterministic for the arguments."""
    rng = random.Random(f"generate:{seed}")
    tiers = tiers or ["db", "app", "web"]
    project_id = uuid.UUID(int=rng.getrandbits(128)).hex
    vault = default_vault(project_id)
    inv: dict[str, Any] = {
        "project_id": project_id,
        "region": "sim-1",
        "servers": [],
        "volumes": [],
        "vaults": [{"id": vault.id, "name": vault.name, "status": "available"}],
        "backups": [],
    }
    counters = dict.fromkeys(tiers, 0)
    epoch = EPOCH + timedelta(days=seed % 97)
    for i in range(servers):
        tier = tiers[i % len(tiers)]
        counters[tier] += 1
        _add_server(inv, rng, f"{tier}-{counters[tier]:02d}", tier, AZS[i % len(AZS)], disks, epoch, vault.id)
    for server in rng.sample(inv["servers"], k=min(len(inv["servers"]), max(1, servers // 20))):
        server["status"] = rng.choice(["SHUTOFF", "ERROR"])
    for vol in rng.sample(inv["volumes"], k=min(len(inv["volumes"]), max(1, servers // 10))):
        inv["volumes"].append(standalone := {"id": _uuid(rng), "name": f"{vol['name']}-spare",
                                             "size_gb": vol["size_gb"], "az": vol["az"],
                                             "status": "available"})
        inv["backups"].append({
            "id": _uuid(rng), "name": f"manualbk_{rng.getrandbits(16):04x}",
            "resource_id": standalone["id"], "resource_type": VOLUME_TYPE, "status": "available",
            "created_at": _time(epoch - timedelta(hours=rng.randint(1, 72))),
            "size_gb": standalone["size_gb"], "vault_id": vault.id,
        })
    return inv


def _add_server(inv: dict[str, Any], rng: random.Random, name: str, tier: str, az: str,
                disks: int, epoch: datetime, vault_id: str) -> None:
    sid = _uuid(rng)
    vols: list[dict[str, Any]] = [{"id": _uuid(rng), "name": f"{name}-sys", "size_gb": 40, "az": az, "status": "in-use"}]
    for d in range(disks):
        vols.append({"id": _uuid(rng), "name": f"{name}-data{d + 1}", "size_gb": rng.randint(20, 500),
                     "az": az, "status": "in-use"})
    devices = [f"/dev/vd{chr(ord('a') + k)}" for k in range(len(vols))]
    inv["volumes"].extend(vols)
    inv["servers"].append({
        "id": sid, "name": name, "status": "ACTIVE", "az": az, "tags": {"tier": tier, "env": "drill"},
        "volumes": [{"id": v["id"], "device": dev, "boot": k == 0} for k, (v, dev) in enumerate(zip(vols, devices, strict=True))],
    })
    size = sum(int(v["size_gb"]) for v in vols)
    count = rng.randint(3, 5)
    for n in range(count):
        created = epoch - timedelta(days=count - n, minutes=rng.randint(0, 90))
        status = "available"
        if rng.random() < 0.03:
            status = "error"
        elif n == count - 1 and rng.random() < 0.02:
            status = "protecting"
        inv["backups"].append({
            "id": _uuid(rng), "name": f"autobk_{rng.getrandbits(16):04x}", "resource_id": sid,
            "resource_type": SERVER_TYPE, "status": status, "created_at": _time(created),
            "size_gb": size, "vault_id": vault_id, "restore_mode": "backup",
            "children": [{"id": _uuid(rng), "resource_id": v["id"], "size_gb": v["size_gb"],
                          "device": dev, "bootable": k == 0}
                         for k, (v, dev) in enumerate(zip(vols, devices, strict=True))],
        })


def dump_inventory(inv: dict[str, Any], fmt: str = "yaml") -> str:
    """YAML for people; ``fmt="json"`` (also valid YAML) for large inventories: it loads fast."""
    import json

    import yaml

    if fmt == "json":
        return json.dumps(inv, separators=(",", ":")) + "\n"
    header = "# restore-planner simulator inventory (sim generate)\n"
    return header + yaml.dump(inv, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=None, width=200)
