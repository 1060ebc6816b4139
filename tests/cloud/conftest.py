"""A fake cloud for httpx.MockTransport: paging as the real APIs do, checking the params it gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from planner.clock import VirtualClock
from planner.cloud.client import CloudClient
from planner.cloud.settings import CloudSettings

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TOKEN = "tok-SECRET-0123456789"
BASE_ENV = {
    "HW_REGION_NAME": "sim-1",
    "HW_PROJECT_ID": PROJECT,
    "HW_ENDPOINT": "http://127.0.0.1:9",
}


class FakeCloud:
    def __init__(self) -> None:
        self.servers: list[dict[str, Any]] = []
        self.volumes: list[dict[str, Any]] = []
        self.backups: list[dict[str, Any]] = []
        self.vaults: list[dict[str, Any]] = [{"id": "vault-1", "name": "v", "status": "available"}]
        self.oplogs: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        # responses (or exceptions) served before the normal answer, in order
        self.faults: list[httpx.Response | Exception] = []
        self.on_restore: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(
            202, json={"job_id": "job-1"}
        )
        self.max_page = 1000  # the fake never returns more than this many items per page
        self.wrong_count = False  # CBR lists: a count that is neither total nor page length

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return fault
        path = request.url.path
        q = request.url.params
        p = f"/v3/{PROJECT}"
        if path == f"/v1/{PROJECT}/cloudservers/detail":
            return self._ecs_list(q)
        if path.startswith(f"/v1/{PROJECT}/cloudservers/"):
            sid = path.rsplit("/", 1)[1]
            for s in self.servers:
                if s["id"] == sid:
                    return httpx.Response(200, json={"server": s})
            return httpx.Response(404, json={"error": {"code": "Ecs.0114", "message": "not found"}})
        if path == f"/v2/{PROJECT}/cloudvolumes/detail":
            return self._evs_list(q)
        if path == f"{p}/backups":
            items = [b for b in self.backups if _backup_match(b, q)]
            if q.get("sort") == "created_at:desc":
                items.sort(key=lambda b: b["created_at"], reverse=True)
            return self._offset_page(items, q, "backups")
        if path.startswith(f"{p}/backups/") and path.endswith("/restore"):
            assert request.method == "POST"
            return self.on_restore(request)
        if path.startswith(f"{p}/backups/"):
            bid = path.rsplit("/", 1)[1]
            for b in self.backups:
                if b["id"] == bid:
                    return httpx.Response(200, json={"backup": b})
            return httpx.Response(
                404,
                json={"error_code": "BackupService.6200", "error_msg": "backup does not exist"},
                headers={"X-Request-Id": "req-404"},
            )
        if path == f"{p}/vaults":
            return self._offset_page(self.vaults, q, "vaults")
        if path.startswith(f"{p}/vaults/"):
            vid = path.rsplit("/", 1)[1]
            for v in self.vaults:
                if v["id"] == vid:
                    return httpx.Response(200, json={"vault": v})
            return httpx.Response(404, json={"error_code": "BackupService.6105", "error_msg": "no vault"})
        if path == f"{p}/operation-logs":
            items = [o for o in self.oplogs if q.get("operation_type") in (None, o["operation_type"])]
            return self._offset_page(items, q, "operation_logs")
        if path.startswith(f"{p}/operation-logs/"):
            oid = path.rsplit("/", 1)[1]
            for o in self.oplogs:
                if o["id"] == oid:
                    return httpx.Response(200, json={"operation_log": o})
            return httpx.Response(404, json={"error_code": "BackupService.6500", "error_msg": "no"})
        return httpx.Response(404, json={"error_code": "APIGW.0101", "error_msg": f"no route {path}"})

    def _ecs_list(self, q: httpx.QueryParams) -> httpx.Response:
        assert "offset" not in q, "ECS page-number offset is deprecated: page by marker"
        limit = int(q["limit"])
        assert limit <= 1000
        items = self.servers
        if "server_id" in q:
            known = {s["id"]: s for s in items}
            # an unknown id comes back as a stub: only id and fault, every other field null
            items = [known.get(i) or {"id": i, "name": None, "status": None, "fault": {"code": 404}}
                     for i in q["server_id"].split(",")]
        if "name" in q:
            items = [s for s in items if q["name"] in s["name"]]
        start = 0
        if "marker" in q:
            start = next(i for i, s in enumerate(items) if s["id"] == q["marker"]) + 1
        page = items[start : start + min(limit, self.max_page)]
        return httpx.Response(200, json={"count": len(items), "servers": page})

    def _evs_list(self, q: httpx.QueryParams) -> httpx.Response:
        limit = int(q["limit"])
        assert "offset" not in q, "EVS pages by marker"
        items = self.volumes
        if "ids" in q:
            raw = q["ids"]
            assert raw.startswith("[") and raw.endswith("]")
            wanted = {x.strip("'") for x in raw[1:-1].split(",")}
            assert len(wanted) <= 60, "EVS accepts at most 60 ids"
            items = [v for v in items if v["id"] in wanted]
        start = 0
        if "marker" in q:
            start = next(i for i, v in enumerate(items) if v["id"] == q["marker"]) + 1
        page = items[start : start + min(limit, self.max_page)]
        return httpx.Response(200, json={"count": len(items), "volumes": page})

    def _offset_page(self, items: list[dict[str, Any]], q: httpx.QueryParams, key: str) -> httpx.Response:
        offset, limit = int(q["offset"]), int(q["limit"])
        assert offset >= 0 and limit <= 1000
        page = items[offset : offset + min(limit, self.max_page)]
        # wrong_count: the client must not trust a count that disagrees with the pages
        count = 3 if self.wrong_count else len(items)
        return httpx.Response(200, json={key: page, "count": count, "offset": offset, "limit": limit})


def _backup_match(b: dict[str, Any], q: httpx.QueryParams) -> bool:
    statuses = q.get_list("status")
    if statuses and b["status"] not in statuses:
        return False
    for key in ("resource_id", "resource_type", "vault_id"):
        if key in q and b.get(key) != q[key]:
            return False
    if "end_time" in q and b["created_at"][:19] > q["end_time"][:19]:
        return False
    return not ("start_time" in q and b["created_at"][:19] < q["start_time"][:19])


def make_server(i: int, tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": f"srv-{i:05d}",
        "name": f"web-{i:05d}",
        "status": "ACTIVE",
        "OS-EXT-AZ:availability_zone": "az1",
        "tags": [f"{k}={v}" for k, v in (tags or {"tier": "web"}).items()],
        "os-extended-volumes:volumes_attached": [
            {"id": f"vol-{i:05d}-a", "device": "/dev/vda", "bootIndex": "0"},
            {"id": f"vol-{i:05d}-b", "device": "/dev/vdb", "bootIndex": "-1"},
        ],
        "unknown_field": {"nested": None},
    }


def make_backup(i: int, day: int, status: str = "available") -> dict[str, Any]:
    return {
        "id": f"bk-{i:05d}-{day:02d}",
        "name": f"autobk_{i}",
        "status": status,
        "resource_id": f"srv-{i:05d}",
        "resource_type": "OS::Nova::Server",
        "resource_size": 50,
        "vault_id": "vault-1",
        "created_at": f"2026-11-{day:02d}T10:38:34.209782",
        "extend_info": {"supported_restore_mode": "backup", "bootable": None},
        "children": [
            {"id": f"ch-{i:05d}-{day:02d}-a", "resource_id": f"vol-{i:05d}-a", "resource_size": 40,
             "extend_info": {"bootable": True}, "status": "available"},
        ],
        "progress": None,
    }


def env(**extra: str) -> dict[str, str]:
    return {**BASE_ENV, **extra}


@pytest.fixture
def fake() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def make_client(fake: FakeCloud, clock: VirtualClock) -> Callable[..., CloudClient]:
    def make(**environ: str) -> CloudClient:
        settings = CloudSettings.from_env(env(**(environ or {"HW_AUTH_TOKEN": TOKEN})))
        return CloudClient(settings, transport=fake.transport(), clock=clock)

    return make


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content or b"null")


class Kit:
    """Helpers for tests (test modules cannot import conftest under --import-mode=importlib)."""

    PROJECT = PROJECT
    TOKEN = TOKEN
    make_server = staticmethod(make_server)
    make_backup = staticmethod(make_backup)
    env = staticmethod(env)
    body_of = staticmethod(body_of)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
