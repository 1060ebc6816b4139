"""The client against the project's simulator: every auth method, a wrong key, refresh."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from planner.clock import VirtualClock
from planner.cloud.client import CloudClient
from planner.cloud.errors import CloudAuthError
from planner.cloud.settings import CloudSettings
from planner.cloud.world import RefreshNeeds, SelectNeed, Window, refresh
from planner.sim import Simulator, generate_inventory, parse_inventory, serve_in_thread


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(parse_inventory(generate_inventory(servers=30, disks=1, seed=3)), clock=VirtualClock())


def _env(sim: Simulator, base: str = "http://127.0.0.1:1", **creds: str) -> dict[str, str]:
    return {"HW_REGION_NAME": sim.region, "HW_PROJECT_ID": sim.project_id, "HW_ENDPOINT": base, **creds}


def _creds(sim: Simulator, method: str) -> dict[str, str]:
    c = sim.credentials
    return {
        "token": {"HW_AUTH_TOKEN": c.token},
        "aksk": {"HW_ACCESS_KEY": c.access_key, "HW_SECRET_KEY": c.secret_key},
        "password": {"HW_USER_NAME": c.user, "HW_USER_PASSWORD": c.password, "HW_DOMAIN_NAME": c.domain},
    }[method]


def _run(sim: Simulator, env: dict[str, str], transport: httpx.AsyncBaseTransport | None = None) -> Any:
    async def go() -> Any:
        async with CloudClient(CloudSettings.from_env(env), transport or sim.transport(), clock=sim.clock) as c:
            servers = await c.list_servers()
            vols = await c.list_volumes(ids=[v.id for s in servers[:3] for v in s.volumes])
            backups = await c.list_backups(resource_id=servers[0].id, status="available")
            return servers, vols, backups, c.request_count

    return asyncio.run(go())


@pytest.mark.parametrize("method", ["token", "aksk", "password"])
def test_auth_methods_in_process(sim: Simulator, method: str) -> None:
    servers, vols, backups, count = _run(sim, _env(sim, **_creds(sim, method)))
    assert len(servers) == 30 and len(vols) == 6 and backups
    assert all(b.resource_id == servers[0].id for b in backups)
    assert count == 3 + (method == "password")


def test_aksk_over_real_http(sim: Simulator) -> None:
    with serve_in_thread(sim) as base:
        servers, _, _, _ = _run(sim, _env(sim, base, **_creds(sim, "aksk")), transport=httpx.AsyncHTTPTransport())
    assert len(servers) == 30


def test_wrong_secret_key_is_a_clear_error(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    env = _env(sim, HW_ACCESS_KEY=sim.credentials.access_key, HW_SECRET_KEY="not-the-key-SECRET")
    with pytest.raises(CloudAuthError) as info:
        _run(sim, env)
    assert str(info.value) == (
        "the cloud refused the credentials (APIGW.0301: Incorrect IAM authentication information: "
        "verify aksk signature fail); check HW_ACCESS_KEY and HW_SECRET_KEY "
        "(and the machine's clock: signatures expire after 15 min)"
    )
    assert "not-the-key-SECRET" not in caplog.text


def test_refresh_select_against_sim(sim: Simulator) -> None:
    before = datetime(2100, 1, 1, tzinfo=UTC)
    needs = RefreshNeeds(selects=[SelectNeed("server", (("tier", "web"),), None, Window(before=before))])

    async def go() -> Any:
        env = _env(sim, **_creds(sim, "token"))
        async with CloudClient(CloudSettings.from_env(env), sim.transport(), clock=sim.clock) as c:
            return await refresh(c, needs), c.request_count

    world, count = asyncio.run(go())
    assert len(world.servers) == 10 and all(s.tags["tier"] == "web" for s in world.servers.values())
    assert world.complete_backups_for == set(world.servers)
    # every web server with an available backup has it in the world
    assert {b.resource_id for b in world.backups.values()} <= set(world.servers)
    # the listing shows server backups with "children": [] (the documented shape): the
    # newest one of each server, the one its selector picks, is read again with ShowBackup
    newest: dict[str, Any] = {}
    for b in world.backups.values():
        if b.resource_id not in newest or b.created_at > newest[b.resource_id].created_at:
            newest[b.resource_id] = b
    assert newest and all(b.children for b in newest.values())
    assert count <= 5 + len(newest)
