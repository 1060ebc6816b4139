"""The API endpoints of the simulated cloud (after faults, rate limit and auth).

``route(sim, req)`` dispatches on method and path to one small handler per
call; handlers read SimState/TaskEngine and return SimResponse values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from planner.sim import views
from planner.sim.http import SimRequest, SimResponse, cbr_error, nested_error, service_error
from planner.sim.listing import (
    QueryError,
    after_marker,
    apply_sort,
    int_param,
    parse_sort,
    record_page,
    time_param,
)
from planner.sim.rules import ApiError, check_restore
from planner.sim.state import BackupRec, SimState
from planner.sim.tasks import Task

if TYPE_CHECKING:
    from planner.sim.core import Simulator

Handler = Callable[["Simulator", SimRequest, list[str]], SimResponse]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def _route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        _ROUTES.append((method, re.compile("^" + pattern + "/?$"), fn))
        return fn

    return deco


def find_route(method: str, path: str) -> tuple[Handler, list[str]] | str | None:
    """The handler and path args; ``"method"`` when only the method is wrong; None if unknown."""
    wrong_method = False
    for m, rx, fn in _ROUTES:
        match = rx.match(path)
        if match:
            if m == method:
                return fn, list(match.groups())
            wrong_method = True
    return "method" if wrong_method else None


def _cbr_bad(message: str) -> SimResponse:
    return cbr_error(400, "BackupService.9900", message)


# ---- IAM projects (KeystoneListProjects): HW_PROJECT_NAME -> project id ---------


@_route("GET", r"/v3/projects")
def list_projects(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    """The simulator has one project, named like its region (as IAM names a region's
    default project)."""
    name = req.param("name")
    project = {
        "id": sim.project_id,
        "name": sim.region,
        "enabled": True,
        "is_domain": False,
        "domain_id": "0" * 32,
        "parent_id": "0" * 32,
        "description": "",
    }
    projects = [project] if name in (None, sim.region) else []
    return SimResponse(
        200, {"projects": projects, "links": {"self": req.path, "next": None, "previous": None}}
    )


# ---- CBR backups -------------------------------------------------------------


def _backup_key(b: BackupRec, key: str) -> Any:
    if key in ("created_at", "updated_at", "protected_at"):
        return b.created_at
    return getattr(b, key)


@_route("GET", r"/v3/([^/]+)/backups")
def list_backups(sim: Simulator, req: SimRequest, _: list[str]) -> SimResponse:
    st = sim.state
    try:
        limit = int_param(req.param("limit"), "limit", 1000, 1, 1000)
        offset = int_param(req.param("offset"), "offset", 0, 0, 2**31)
        start = time_param(req.param("start_time"), "start_time")
        end = time_param(req.param("end_time"), "end_time")
        sort = parse_sort(req.param("sort"))
    except QueryError as exc:
        return _cbr_bad(exc.message)
    parent = req.param("parent_id")
    ids = (
        st.backups[parent].children
        if parent and parent in st.backups
        else ([] if parent else _listed(st))
    )
    exact = {
        k: req.param(k)
        for k in (
            "resource_id",
            "resource_type",
            "vault_id",
            "checkpoint_id",
            "name",
            "resource_name",
            "resource_az",
        )
    }
    statuses = set(req.params("status"))
    image_type = req.param("image_type")
    out: list[BackupRec] = []
    for bid in ids:
        b = st.backups[bid]
        if statuses and b.status not in statuses:
            continue
        if (start is not None and b.created_at < start) or (end is not None and b.created_at > end):
            continue
        if image_type and image_type != "backup":
            continue
        if any(v is not None and _exact_field(sim, b, k) != v for k, v in exact.items()):
            continue
        out.append(b)
    apply_sort(out, sort, _backup_key)
    try:
        rest = after_marker(out, req.param("marker"), lambda b: b.id)
    except QueryError as exc:
        return _cbr_bad(exc.message)
    page = record_page(rest, offset, limit)
    # a server backup's children: as the documented example ("children": []) unless the
    # inventory says listings fill them ("nested"); a parent_id= listing, and with "flat"
    # any listing, lists the children themselves
    nested = st.rules.listed_children == "nested"
    return SimResponse(
        200,
        {
            "backups": [views.backup(st, b, children=nested) for b in page],
            "count": len(out),
            "offset": offset,
            "limit": limit,
        },
    )


def _listed(st: SimState) -> list[str]:
    """The backups an unfiltered listing shows: the top-level ones, and with
    ``listed_children: flat`` each one's children right after it (same created_at)."""
    if st.rules.listed_children != "flat":
        return st.top_backups
    return [x for bid in st.top_backups for x in (bid, *st.backups[bid].children)]


def _exact_field(sim: Simulator, b: BackupRec, key: str) -> str:
    if key in ("resource_name", "resource_az"):
        name, az = views._resource_name_az(sim.state, b)
        return name if key == "resource_name" else az
    value: str = getattr(b, key)
    return value


@_route("GET", r"/v3/([^/]+)/backups/([^/]+)")
def show_backup(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    b = sim.state.backups.get(args[1])
    if b is None:
        return cbr_error(404, "BackupService.6200", f"The backup {args[1]} does not exist.")
    return SimResponse(200, {"backup": views.backup(sim.state, b)})


@_route("POST", r"/v3/([^/]+)/backups/([^/]+)/restore")
def restore(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    try:
        body: Any = json.loads(req.body) if req.body.strip() else None
    except ValueError:
        return _cbr_bad("Invalid request body: not valid JSON.")
    result = check_restore(sim.state, sim.engine, args[1], body)
    if isinstance(result, ApiError):
        return cbr_error(result.status, result.code, result.message)
    job_id = sim.accept(result, req)
    return SimResponse(202, {"job_id": job_id})


# ---- CBR operation logs --------------------------------------------------------


@_route("GET", r"/v3/([^/]+)/operation-logs")
def list_operation_logs(sim: Simulator, req: SimRequest, _: list[str]) -> SimResponse:
    st, now = sim.state, sim.clock.now()
    try:
        limit = int_param(req.param("limit"), "limit", 1000, 1, 1000)
        offset = int_param(req.param("offset"), "offset", 0, 0, 2**31)
        start = time_param(req.param("start_time"), "start_time")
        end = time_param(req.param("end_time"), "end_time")
    except QueryError as exc:
        return _cbr_bad(exc.message)
    op_type = req.param("operation_type")
    statuses = set(req.params("status"))
    vault_id, resource_id, provider_id = (
        req.param("vault_id"),
        req.param("resource_id"),
        req.param("provider_id"),
    )
    by_creation = st.rules.oplog_time_filter == "created"
    # newest first: by creation, the rest of the list is older than the window's start
    stop_before = start if by_creation and start is not None and sim.engine.in_order else None
    out: list[Task] = []
    for tid in reversed(sim.engine.order):
        t = sim.engine.tasks[tid]
        if stop_before is not None and t.accepted_at < stop_before:
            break
        b = st.backups[t.backup_id]
        if op_type and op_type != "restore":
            continue
        if statuses and t.status not in statuses:
            continue
        if start is not None or end is not None:
            at = t.accepted_at if by_creation else t.started_at
            if at is None or (start is not None and at < start) or (end is not None and at > end):
                continue
        if vault_id and b.vault_id != vault_id:
            continue
        if resource_id and resource_id not in (t.target_id, b.resource_id):
            continue
        if provider_id and views.PROVIDERS.get(b.resource_type) != provider_id:
            continue
        out.append(t)
    page = record_page(out, offset, limit)
    _reported(sim, page, now)
    return SimResponse(
        200,
        {
            "operation_logs": [views.operation_log(st, t, now) for t in page],
            "count": len(out),
            "offset": offset,
            "limit": limit,
        },
    )


@_route("GET", r"/v3/([^/]+)/operation-logs/([^/]+)")
def show_operation_log(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    t = sim.engine.tasks.get(args[1])
    if t is None:
        return cbr_error(404, "BackupService.6500", "Operation log does not exist.")
    _reported(sim, [t], sim.clock.now())
    return SimResponse(200, {"operation_log": views.operation_log(sim.state, t, sim.clock.now())})


def _reported(sim: Simulator, shown: Sequence[Task], now: float) -> None:
    """The ledger's first time an answer showed each ended task (a lost answer was not seen)."""
    if sim.pending_faults.lost:
        return
    for t in shown:
        if t.ended_at is not None and t.reported_at is None:
            t.reported_at = now


# ---- CBR vaults (UNCONFIRMED shape, kept minimal) ------------------------------


@_route("GET", r"/v3/([^/]+)/vaults")
def list_vaults(sim: Simulator, req: SimRequest, _: list[str]) -> SimResponse:
    try:
        limit = int_param(req.param("limit"), "limit", 1000, 1, 1000)
        offset = int_param(req.param("offset"), "offset", 0, 0, 2**31)
    except QueryError as exc:
        return _cbr_bad(exc.message)
    # ListVault filters by a list of ids (repeated or comma-separated) [SDK list_vault_request]
    wanted = {i for raw in req.params("id") for i in raw.split(",") if i}
    ids = [v for v in sim.state.vaults if not wanted or v in wanted]
    page = record_page(ids, offset, limit)
    return SimResponse(
        200,
        {
            "vaults": [views.vault(sim.state, v) for v in page],
            "count": len(ids),
            "offset": offset,
            "limit": limit,
        },
    )


@_route("GET", r"/v3/([^/]+)/vaults/([^/]+)")
def show_vault(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    if args[1] not in sim.state.vaults:
        return cbr_error(404, "BackupService.6105", f"The vault {args[1]} does not exist.")
    return SimResponse(200, {"vault": views.vault(sim.state, args[1])})


# ---- ECS ---------------------------------------------------------------------


def _server_matches(sim: Simulator, sid: str, req: SimRequest) -> bool:
    s = sim.state.servers[sid]
    name, status = req.param("name"), req.param("status")
    if name and name not in s.name:
        return False
    if status and sim.state.server_status[sid] != status:
        return False
    tags = {f"{k}={v}" for k, v in s.tags.items()} | set(s.tags)
    wanted = [t for t in (req.param("tags") or "").split(",") if t]
    if any(t not in tags for t in wanted):
        return False
    unwanted = [t for t in (req.param("not-tags") or "").split(",") if t]
    return not any(t in tags for t in unwanted)


@_route("GET", r"/v1/([^/]+)/cloudservers/detail")
def list_servers(sim: Simulator, req: SimRequest, _: list[str]) -> SimResponse:
    st = sim.state
    try:
        limit = int_param(req.param("limit"), "limit", 25, 1, 1000)
        page_no = max(1, int_param(req.param("offset"), "offset", 1, 0, 2**31))
        ids_raw = req.param("server_id")
        if ids_raw:
            # unknown ids stay in, answered as stubs (only id and fault)
            order = list(dict.fromkeys(i for i in ids_raw.split(",") if i))
        else:
            order = [sid for sid in st.server_order if _server_matches(sim, sid, req)]
        total = len(order)  # count: every match, whatever the marker or page [SDK, cbr-facts 15]
        order = list(after_marker(order, req.param("marker"), lambda s: s))
    except QueryError as exc:
        return nested_error(400, "Ecs.0005", exc.message)
    page = order[(page_no - 1) * limit : page_no * limit]
    servers = [views.server(st, s) if s in st.servers else views.server_stub(s) for s in page]
    return SimResponse(200, {"count": total, "servers": servers})


@_route("GET", r"/v1/([^/]+)/cloudservers/([^/]+)")
def show_server(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    if args[1] not in sim.state.servers:
        return nested_error(404, "Ecs.0114", f"The ECS {args[1]} does not exist.")
    return SimResponse(200, {"server": views.server(sim.state, args[1])})


# ---- EVS ---------------------------------------------------------------------


def _ids_param(raw: str) -> set[str]:
    return {p.strip(" '\"") for p in raw.strip("[]").split(",") if p.strip(" '\"")}


@_route("GET", r"/v2/([^/]+)/cloudvolumes/detail")
def list_volumes(sim: Simulator, req: SimRequest, _: list[str]) -> SimResponse:
    st = sim.state
    want = {k: req.param(k) for k in ("status", "availability_zone", "name", "id", "server_id")}
    ids = _ids_param(req.param("ids") or "")
    out = []
    for vid in st.volume_order:
        v = st.volumes[vid]
        att = st.attachments.get(vid)
        actual = {
            "status": st.volume_status[vid],
            "availability_zone": v.az,
            "name": v.name,
            "id": vid,
            "server_id": att.server_id if att else "",
        }
        if any(w is not None and actual[k] != w for k, w in want.items()):
            continue
        if ids and vid not in ids:
            continue
        out.append(vid)
    try:
        limit = int_param(req.param("limit"), "limit", 1000, 1, 1000)
        offset = int_param(req.param("offset"), "offset", 0, 0, 2**31)
        rest = after_marker(out, req.param("marker"), lambda s: s)
    except QueryError as exc:
        return nested_error(400, "EVS.2001", exc.message)
    page = list(record_page(rest, offset, limit))
    body: dict[str, Any] = {"count": len(out), "volumes": [views.volume(st, v) for v in page]}
    if page and len(rest) > offset + limit:
        href = f"/v2/{st.project_id}/cloudvolumes/detail?limit={limit}&marker={page[-1]}"
        body["volumes_links"] = [{"href": href, "rel": "next"}]
    return SimResponse(200, body)


@_route("GET", r"/v2/([^/]+)/cloudvolumes/([^/]+)")
def show_volume(sim: Simulator, req: SimRequest, args: list[str]) -> SimResponse:
    if args[1] not in sim.state.volumes:
        return nested_error(404, "EVS.5404", f"The volume {args[1]} could not be found.")
    return SimResponse(200, {"volume": views.volume(sim.state, args[1])})


def not_found(req: SimRequest) -> SimResponse:
    return cbr_error(
        404, "APIGW.0101", "The API does not exist or has not been published in the environment."
    )


def method_not_allowed(req: SimRequest) -> SimResponse:
    return service_error(
        req.path, 405, "APIGW.0106", f"Method {req.method} is not allowed on {req.path}."
    )
