"""`sim generate`: a realistic, deterministic synthetic inventory.

Servers named ``<tier>-NN`` spread round-robin over the tiers, each in an AZ
with a 40 GB boot volume plus K data volumes (20-500 GB), 3-5 server backups
over the past days (one child per volume), a few backups in ``error`` or
``protecting``, a few servers SHUTOFF/ERROR, and a few standalone disk backups.
Times are relative to a fixed epoch, so the output is a function of the seed.

``for_examples`` adds what the plans in specs/examples/ name (their region,
project, vault, pinned servers, volumes and backups) to such an inventory, so
those plans run verbatim against `sim serve`: the examples keep the ids and
region a real project would have, rather than being rewritten for the simulator.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from planner.sim.inventory import SERVER_TYPE, VOLUME_TYPE, default_vault
from planner.timefmt import rfc3339_s

EPOCH = datetime(2026, 11, 20, tzinfo=UTC)
AZS = ("sim-1a", "sim-1b", "sim-1c")

# what specs/examples/*/plan.yaml name (drill-300 pins 300 ids of its own: not covered)
EXAMPLES_REGION = "ap-southeast-1"
EXAMPLES_PROJECT = "f841e01fd2b14e7fa41b6ae7aa6b0594"
EXAMPLES_VAULT = "3b5816b5-f29c-4172-9d9a-76c719a659ce"
SFS_TYPE = "OS::Sfs::Turbo"
# Nightly backups of the examples' servers land in the 25 minutes before this,
# the evening before their point in time, so their guards (skew 30m, age 24h) hold.
_EXAMPLES_NIGHT = datetime(2026, 11, 20, 23, 55, tzinfo=UTC)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _time(dt: datetime) -> str:
    return rfc3339_s(dt)


def generate_inventory(
    servers: int,
    disks: int,
    seed: int = 0,
    tiers: list[str] | None = None,
    *,
    region: str | None = None,
    project_id: str | None = None,
    for_examples: bool = False,
) -> dict[str, Any]:
    """The inventory as plain data (dump it with yaml); deterministic for the arguments."""
    rng = random.Random(f"generate:{seed}")
    tiers = tiers or ["db", "app", "web"]
    derived = uuid.UUID(int=rng.getrandbits(128)).hex
    if for_examples:
        return _for_examples(servers, disks, rng, tiers, region, project_id)
    project_id = project_id or derived
    vault = default_vault(project_id)
    inv: dict[str, Any] = {
        "project_id": project_id,
        "region": region or "sim-1",
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
        _add_server(
            inv,
            rng,
            f"{tier}-{counters[tier]:02d}",
            tier,
            AZS[i % len(AZS)],
            disks,
            epoch,
            vault.id,
        )
    for server in rng.sample(inv["servers"], k=min(len(inv["servers"]), max(1, servers // 20))):
        server["status"] = rng.choice(["SHUTOFF", "ERROR"])
    for vol in rng.sample(inv["volumes"], k=min(len(inv["volumes"]), max(1, servers // 10))):
        inv["volumes"].append(
            standalone := {
                "id": _uuid(rng),
                "name": f"{vol['name']}-spare",
                "size_gb": vol["size_gb"],
                "az": vol["az"],
                "status": "available",
            }
        )
        inv["backups"].append(
            {
                "id": _uuid(rng),
                "name": f"manualbk_{rng.getrandbits(16):04x}",
                "resource_id": standalone["id"],
                "resource_type": VOLUME_TYPE,
                "status": "available",
                "created_at": _time(epoch - timedelta(hours=rng.randint(1, 72))),
                "size_gb": standalone["size_gb"],
                "vault_id": vault.id,
            }
        )
    return inv


def _add_server(
    inv: dict[str, Any],
    rng: random.Random,
    name: str,
    tier: str,
    az: str,
    disks: int,
    epoch: datetime,
    vault_id: str,
    window_min: int = 90,
    steady: bool = False,
) -> None:
    sid = _uuid(rng)
    vols: list[dict[str, Any]] = [
        {"id": _uuid(rng), "name": f"{name}-sys", "size_gb": 40, "az": az, "status": "in-use"}
    ]
    for d in range(disks):
        vols.append(
            {
                "id": _uuid(rng),
                "name": f"{name}-data{d + 1}",
                "size_gb": rng.randint(20, 500),
                "az": az,
                "status": "in-use",
            }
        )
    devices = [f"/dev/vd{chr(ord('a') + k)}" for k in range(len(vols))]
    inv["volumes"].extend(vols)
    inv["servers"].append(
        {
            "id": sid,
            "name": name,
            "status": "ACTIVE",
            "az": az,
            "tags": {"tier": tier, "env": "drill"},
            "volumes": [
                {"id": v["id"], "device": dev, "boot": k == 0}
                for k, (v, dev) in enumerate(zip(vols, devices, strict=True))
            ],
        }
    )
    size = sum(int(v["size_gb"]) for v in vols)
    count = rng.randint(3, 5)
    for n in range(count):
        created = epoch - timedelta(days=count - n, minutes=rng.randint(0, window_min))
        status = "available"
        if rng.random() < 0.03:
            status = "error"
        elif n == count - 1 and rng.random() < 0.02:
            status = "protecting"
        if steady and n == count - 1:
            status = "available"  # the night the examples restore from went well
        inv["backups"].append(
            {
                "id": _uuid(rng),
                "name": f"autobk_{rng.getrandbits(16):04x}",
                "resource_id": sid,
                "resource_type": SERVER_TYPE,
                "status": status,
                "created_at": _time(created),
                "size_gb": size,
                "vault_id": vault_id,
                "restore_mode": "backup",
                "children": [
                    {
                        "id": _uuid(rng),
                        "resource_id": v["id"],
                        "size_gb": v["size_gb"],
                        "device": dev,
                        "bootable": k == 0,
                    }
                    for k, (v, dev) in enumerate(zip(vols, devices, strict=True))
                ],
            }
        )


def dump_inventory(inv: dict[str, Any], fmt: str = "yaml") -> str:
    """YAML for people; ``fmt="json"`` (also valid YAML) for large inventories: it loads fast."""
    import json

    import yaml

    if fmt == "json":
        return json.dumps(inv, separators=(",", ":")) + "\n"
    header = "# restore-planner simulator inventory (sim generate)\n"
    return header + yaml.dump(
        inv, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=None, width=200
    )


def _for_examples(
    servers: int,
    disks: int,
    rng: random.Random,
    tiers: list[str],
    region: str | None,
    project_id: str | None,
) -> dict[str, Any]:
    """Tiered drill servers plus every object specs/examples/ names, in their project.

    Broken servers are tagged ``env: quarantine`` (out of the drill's selectors) and
    the newest backups all succeeded, so each example plans cleanly out of the box.
    """
    inv: dict[str, Any] = {
        "project_id": project_id or EXAMPLES_PROJECT,
        "region": region or EXAMPLES_REGION,
        "servers": [],
        "volumes": [],
        "vaults": [{"id": EXAMPLES_VAULT, "name": "vault-drill", "status": "available"}],
        "backups": [],
    }
    servers = max(servers, 3 * len(tiers))  # tiered-app names app-01 .. app-03
    night = _EXAMPLES_NIGHT
    zones = tuple(f"{inv['region']}{z}" for z in "abc")
    counters = dict.fromkeys(tiers, 0)
    for i in range(servers):
        tier = tiers[i % len(tiers)]
        counters[tier] += 1
        _add_server(
            inv,
            rng,
            f"{tier}-{counters[tier]:02d}",
            tier,
            zones[i % 3],
            disks,
            night,
            EXAMPLES_VAULT,
            window_min=25,
            steady=True,
        )
    named = {"app-01", "app-02", "app-03"}  # tiered-app names these: they must be healthy
    spare = [s for s in inv["servers"] if s["name"] not in named]
    for server in rng.sample(spare, k=min(len(spare), servers // 20)):
        server["status"] = rng.choice(["SHUTOFF", "ERROR"])
        server["tags"]["env"] = "quarantine"
    for i, (name, tier) in enumerate(
        (("db-primary", "db"), ("cache-node-a1", "cache"), ("cache-node-b1", "cache"))
    ):
        _add_server(
            inv, rng, name, tier, zones[i % 3], 1, night, EXAMPLES_VAULT, window_min=25, steady=True
        )
    _pinned_examples(inv, night - timedelta(days=1, minutes=15), zones[0])
    return inv


def _pinned_examples(inv: dict[str, Any], at: datetime, az: str) -> None:
    """The ids single-vm, waves and tiered-app pin, exactly as they spell them."""
    created = _time(at)
    server, sys_vol, data_vol = (
        "94eba8b2-acc9-4d82-badc-127144cc5526",
        "eccbcfdd-f843-4bbb-b2c0-a5ce861f9376",
        "6a1f9d2e-3b4c-4d5e-8f60-7a8b9c0d1e2f",
    )
    inv["volumes"] += [
        {"id": sys_vol, "name": "billing-db-sys", "size_gb": 40, "az": az, "status": "in-use"},
        {"id": data_vol, "name": "billing-db-data1", "size_gb": 200, "az": az, "status": "in-use"},
        # tiered-app's app_logs: a detached log volume with a disk backup of its own
        {
            "id": "7c1e5f20-1a61-4b7e-9b55-0d1f3c2e8a90",
            "name": "app-logs",
            "size_gb": 100,
            "az": az,
            "status": "available",
        },
    ]
    inv["servers"].append(
        {
            "id": server,
            "name": "billing-db",
            "status": "ACTIVE",
            "az": az,
            "tags": {"app": "billing", "env": "drill"},
            "volumes": [
                {"id": sys_vol, "device": "/dev/vda", "boot": True},
                {"id": data_vol, "device": "/dev/vdb", "boot": False},
            ],
        }
    )
    inv["backups"] += [
        {
            "id": "a5200268-74a5-4806-acc6-95793ab0228b",
            "name": "autobk_billing",
            "resource_id": server,
            "resource_type": SERVER_TYPE,
            "status": "available",
            "created_at": created,
            "size_gb": 240,
            "vault_id": EXAMPLES_VAULT,
            "restore_mode": "backup",
            "children": [
                {
                    "id": "5d822633-2bbf-4af8-a16e-5ab1c7705235",
                    "resource_id": sys_vol,
                    "size_gb": 40,
                    "device": "/dev/vda",
                    "bootable": True,
                },
                {
                    "id": "0c3e6c8e-9f7a-4b1e-8d44-1f6b2a7c9e10",
                    "resource_id": data_vol,
                    "size_gb": 200,
                    "device": "/dev/vdb",
                    "bootable": False,
                },
            ],
        },
        {
            "id": "4b7d9e21-0c5a-4f3e-9a81-6d2c7b0e5f14",
            "name": "manualbk_applogs",
            "resource_id": "7c1e5f20-1a61-4b7e-9b55-0d1f3c2e8a90",
            "resource_type": VOLUME_TYPE,
            "status": "available",
            "created_at": created,
            "size_gb": 100,
            "vault_id": EXAMPLES_VAULT,
        },
        # waves' shared_files: an SFS Turbo file system restored to a path
        {
            "id": "9e0d7a55-1c2b-4e8f-a3d4-5b6c7d8e9f01",
            "name": "sfsbk_shared",
            "resource_id": "3a2b9c41-6d0e-4f55-8d1c-2b7e6f0a9d13",
            "resource_type": SFS_TYPE,
            "status": "available",
            "created_at": created,
            "size_gb": 50,
            "vault_id": EXAMPLES_VAULT,
        },
    ]
