"""Paging and filters, the way each service pages."""

from __future__ import annotations

from typing import Any

from tests.sim.simkit import FULL_A, call, make_sim, restore


def test_cbr_record_offset_paging_and_count() -> None:
    sim = make_sim()
    ids = []
    offset = 0
    while True:
        body = call(sim, "GET", "/v3/{p}/backups", params={"limit": 3, "offset": offset}).json()
        assert (body["limit"], body["offset"], body["count"]) == (3, offset, 9)
        if not body["backups"]:
            break
        ids += [b["id"] for b in body["backups"]]
        offset += len(body["backups"])
    assert ids == ["bk-p-now", "bk-vol-inuse", "bk-vol-big", "bk-vol", "bk-a", "bk-p", "bk-a-old",
                   "bk-na", "bk-frozen"]  # created_at desc


def test_cbr_filters_and_sort() -> None:
    sim = make_sim()
    q = [("status", "error"), ("status", "protecting"), ("sort", "created_at:asc")]
    body = call(sim, "GET", "/v3/{p}/backups", params=q).json()
    assert [b["id"] for b in body["backups"]] == ["bk-a-old", "bk-p-now"]
    body = call(sim, "GET", "/v3/{p}/backups", params={"resource_id": "srv-a", "start_time": "2026-11-17T00:00:00Z",
                                                         "end_time": "2026-11-18T23:00:00Z"}).json()
    assert [b["id"] for b in body["backups"]] == ["bk-a-old", "bk-na"]
    body = call(sim, "GET", "/v3/{p}/backups", params={"parent_id": "bk-a"}).json()
    assert [(b["id"], b["parent_id"]) for b in body["backups"]] == [("ch-a-boot", "bk-a"), ("ch-a-data", "bk-a")]
    body = call(sim, "GET", "/v3/{p}/backups", params={"resource_type": "OS::Cinder::Volume", "vault_id": "vault-1",
                                                         "marker": "bk-vol-inuse"}).json()
    assert [b["id"] for b in body["backups"]] == ["bk-vol-big", "bk-vol"]


def test_cbr_limit_out_of_range() -> None:
    sim = make_sim()
    for bad in ("0", "1001", "x"):
        r = call(sim, "GET", "/v3/{p}/backups", params={"limit": bad})
        assert (r.status_code, r.json()["error_code"]) == (400, "BackupService.9900")
    r = call(sim, "GET", "/v3/{p}/backups", params={"sort": "size:desc"})
    assert r.json()["error_msg"] == "Invalid parameter sort: 'size:desc'."


def test_ecs_page_number_offset() -> None:
    sim = make_sim()
    def names(b: dict[str, Any]) -> list[str]:
        return [s["name"] for s in b["servers"]]

    p0 = call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"limit": 2, "offset": 0}).json()
    p1 = call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"limit": 2, "offset": 1}).json()
    p3 = call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"limit": 2, "offset": 3}).json()
    assert names(p0) == names(p1) == ["db-01", "app-01"]
    assert names(p3) == ["web-03"] and p3["count"] == 5
    default = call(sim, "GET", "/v1/{p}/cloudservers/detail").json()
    assert len(default["servers"]) == 5
    r = call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"limit": 1001})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "Ecs.0005")


def test_ecs_filters() -> None:
    sim = make_sim()
    def get(**q: str) -> list[str]:
        return [s["id"] for s in call(sim, "GET", "/v1/{p}/cloudservers/detail", params=q).json()["servers"]]

    assert get(name="web") == ["srv-err", "srv-del", "srv-p"]
    assert get(status="ERROR") == ["srv-err"]
    assert get(tags="tier=db") == ["srv-a"]
    assert get(server_id="srv-b,srv-a") == ["srv-b", "srv-a"]
    s = call(sim, "GET", "/v1/{p}/cloudservers/srv-a").json()["server"]
    assert s["os-extended-volumes:volumes_attached"][0] == {
        "id": "va-boot", "device": "/dev/vda", "bootIndex": "0", "delete_on_termination": "false"}
    assert s["tags"] == ["tier=db"]
    r = call(sim, "GET", "/v1/{p}/cloudservers/nope")
    assert r.json() == {"error": {"code": "Ecs.0114", "message": "The ECS nope does not exist."}}


def test_evs_marker_paging() -> None:
    sim = make_sim()
    seen, marker = [], None
    while True:
        q = {"limit": 3, **({"marker": marker} if marker else {})}
        body = call(sim, "GET", "/v2/{p}/cloudvolumes/detail", params=q).json()
        seen += [v["id"] for v in body["volumes"]]
        if "volumes_links" not in body:
            break
        marker = body["volumes_links"][0]["href"].split("marker=")[1]
    assert len(seen) == 8 and len(set(seen)) == 8
    body = call(sim, "GET", "/v2/{p}/cloudvolumes/detail", params={"status": "available", "ids": "['v-free','v-small']"}).json()
    assert [v["id"] for v in body["volumes"]] == ["v-free", "v-small"]
    vol = call(sim, "GET", "/v2/{p}/cloudvolumes/va-boot").json()["volume"]
    assert (vol["bootable"], vol["size"], vol["attachments"][0]["server_id"]) == ("true", 40, "srv-a")


def test_operation_log_filters() -> None:
    sim = make_sim()
    a = restore(sim, "bk-a", FULL_A).json()["job_id"]
    sim.clock.advance(10)  # type: ignore[attr-defined]
    v = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]

    def ids(**q: Any) -> list[str]:
        return [o["id"] for o in call(sim, "GET", "/v3/{p}/operation-logs", params=q).json()["operation_logs"]]

    assert ids() == [v, a]
    assert ids(resource_id="srv-a") == [a]
    assert ids(resource_id="v-free") == [v]
    assert ids(operation_type="backup") == []
    assert ids(status="running", start_time="2026-09-21T14:13:25Z") == [v]
    assert ids(limit=1, offset=1) == [a]
    sim.clock.advance(1000)  # type: ignore[attr-defined]
    assert ids(status=["success", "failed"]) == [v]
    r = call(sim, "GET", "/v3/{p}/operation-logs/nope")
    assert r.json() == {"error_code": "BackupService.6500", "error_msg": "Operation log does not exist."}


def test_vaults() -> None:
    body = call(make_sim(), "GET", "/v3/{p}/vaults").json()
    assert [(v["id"], v["billing"]["status"]) for v in body["vaults"]] == [("vault-1", "available"), ("vault-frozen", "frozen")]
    assert body["count"] == 2
