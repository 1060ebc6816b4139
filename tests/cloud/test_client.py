from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.cloud.client import CloudClient, _Urls
from planner.cloud.errors import CloudAPIError, CloudAuthError, CloudTransportError

T = TypeVar("T")


def run(client: CloudClient, fn: Callable[[CloudClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with client:
            return await fn(client)

    return asyncio.run(go())


def test_servers_page_by_marker_until_count(fake: Any, make_client: Any, kit: Any) -> None:
    fake.servers = [kit.make_server(i) for i in range(2500)]
    servers = run(make_client(), lambda c: c.list_servers())
    assert len(servers) == 2500
    # page-number offset is deprecated: marker = the last id of the previous page
    assert [r.url.params.get("marker") for r in fake.requests] == [None, "srv-00999", "srv-01999"]
    assert {r.url.params["limit"] for r in fake.requests} == {"1000"}
    assert all("offset" not in r.url.params for r in fake.requests)
    s = servers[0]
    assert s.tags == {"tier": "web"} and s.az == "az1"
    assert [(v.id, v.device, v.boot) for v in s.volumes] == [
        ("vol-00000-a", "/dev/vda", True),
        ("vol-00000-b", "/dev/vdb", False),
    ]


def test_servers_exact_page_multiple(fake: Any, make_client: Any, kit: Any) -> None:
    fake.servers = [kit.make_server(i) for i in range(2000)]
    # count is the total (ECS documents it so) and equals what we hold: no trailing empty page
    assert len(run(make_client(), lambda c: c.list_servers())) == 2000
    assert len(fake.requests) == 2


def test_servers_short_page_is_not_the_end(fake: Any, make_client: Any, kit: Any) -> None:
    fake.servers = [kit.make_server(i) for i in range(2500)]
    fake.max_page = 500  # a server capping pages below our limit: a short page is not the end
    assert len(run(make_client(), lambda c: c.list_servers())) == 2500
    assert len(fake.requests) == 5


def test_unknown_server_ids_are_not_servers(fake: Any, make_client: Any, kit: Any) -> None:
    fake.servers = [kit.make_server(i) for i in range(3)]
    got = run(make_client(), lambda c: c.list_servers(server_ids=["srv-00001", "srv-99999"]))
    # ECS answers the unknown id with a stub (id and fault, the rest null): no such server
    assert [s.id for s in got] == ["srv-00001"]


def test_servers_by_ids_and_name_filters(fake: Any, make_client: Any, kit: Any) -> None:
    fake.servers = [kit.make_server(i) for i in range(300)]
    ids = [f"srv-{i:05d}" for i in range(150)]
    got = run(make_client(), lambda c: c.list_servers(server_ids=ids))
    assert [s.id for s in got] == ids
    assert [len(r.url.params["server_id"].split(",")) for r in fake.requests] == [100, 50]
    fake.requests.clear()
    got = run(make_client(), lambda c: c.list_servers(name="web-0001"))
    assert len(got) == 10 and fake.requests[0].url.params["name"] == "web-0001"


def test_server_tags_in_every_shape(fake: Any, make_client: Any, kit: Any) -> None:
    a, b, c = kit.make_server(1), kit.make_server(2), kit.make_server(3)
    b["tags"] = [{"key": "tier", "value": "db"}, {"key": "x", "value": None}]
    c["tags"] = {"tier": "app"}
    a["os-extended-volumes:volumes_attached"] = None
    a["OS-EXT-AZ:availability_zone"] = None
    fake.servers = [a, b, c]
    got = run(make_client(), lambda cl: cl.list_servers())
    assert [s.tags for s in got] == [{"tier": "web"}, {"tier": "db", "x": ""}, {"tier": "app"}]
    assert got[0].volumes == () and got[0].az == ""


def test_get_server_404_is_none(fake: Any, make_client: Any) -> None:
    assert run(make_client(), lambda c: c.get_server("nope")) is None


def test_volumes_marker_paging_and_id_chunks(fake: Any, make_client: Any) -> None:
    fake.volumes = [
        {"id": f"v{i:04d}", "name": f"d{i}", "size": 40, "status": "in-use", "bootable": "true",
         "attachments": [{"server_id": "s1", "device": "/dev/vda", "extra": 1}], "volume_type": None}
        for i in range(1500)
    ]
    vols = run(make_client(), lambda c: c.list_volumes())
    assert len(vols) == 1500 and vols[0].size_gb == 40 and vols[0].bootable is True
    assert vols[0].attachments[0].server_id == "s1"
    assert [r.url.params.get("marker") for r in fake.requests] == [None, "v0999"]
    fake.requests.clear()
    ids = [f"v{i:04d}" for i in range(0, 130)]
    vols = run(make_client(), lambda c: c.list_volumes(ids=ids))
    assert [v.id for v in vols] == ids
    assert len(fake.requests) == 3  # 60 + 60 + 10


def test_backups_record_offset_paging_ignores_count(fake: Any, make_client: Any, kit: Any) -> None:
    fake.backups = [kit.make_backup(i, 1) for i in range(2100)] + [kit.make_backup(0, 2, "error")]
    got = run(
        make_client(),
        lambda c: c.list_backups(
            status=["available", "protecting"],
            end_time=datetime(2026, 11, 1, 12, tzinfo=UTC),
            resource_type="OS::Nova::Server",
        ),
    )
    assert len(got) == 2100
    assert [r.url.params["offset"] for r in fake.requests] == ["0", "1000", "2000"]
    q = fake.requests[0].url.params
    assert q.get_list("status") == ["available", "protecting"]
    assert q["end_time"] == "2026-11-01T12:00:00Z"
    b = got[0]
    assert b.created_at == datetime(2026, 11, 1, 10, 38, 34, 209782, tzinfo=UTC)
    assert b.restore_mode == "backup" and b.size_gb == 50 and b.vault_id == "vault-1"
    assert [(ch.id, ch.resource_id, ch.bootable) for ch in b.children] == [("ch-00000-01-a", "vol-00000-a", True)]


def test_short_page_ends_when_count_agrees(fake: Any, make_client: Any, kit: Any) -> None:
    fake.backups = [kit.make_backup(i, 1) for i in range(10)]
    assert len(run(make_client(), lambda c: c.list_backups())) == 10
    assert len(fake.requests) == 1  # count 10 == every record seen


def test_short_page_with_a_wrong_count_pages_to_an_empty_page(fake: Any, make_client: Any, kit: Any) -> None:
    fake.wrong_count = True
    fake.max_page = 4  # a cloud capping pages below our limit
    fake.backups = [kit.make_backup(i, 1) for i in range(10)]
    assert len(run(make_client(), lambda c: c.list_backups())) == 10
    assert [r.url.params["offset"] for r in fake.requests] == ["0", "4", "8", "10"]


@pytest.mark.parametrize(
    "created", ["2019-05-10T07:59:59.451+00:00", "2019-05-10T07:59:59.451Z", "2019-05-10T09:59:59.451+02:00"]
)
def test_timestamp_forms(fake: Any, make_client: Any, kit: Any, created: str) -> None:
    b = kit.make_backup(1, 1)
    b.update(created_at=created, extend_info=None, children=None, resource_size=None)
    fake.backups = [b]
    got = run(make_client(), lambda c: c.get_backup(b["id"]))
    assert got is not None
    assert got.created_at == datetime(2019, 5, 10, 7, 59, 59, 451000, tzinfo=UTC)
    assert got.restore_mode is None and got.children == () and got.size_gb == 0


def test_operation_logs_parsed(fake: Any, make_client: Any) -> None:
    fake.oplogs = [
        {"id": "JOB", "operation_type": "restore", "status": "running", "created_at": "2024-01-01T00:00:00Z",
         "started_at": "2024-01-01T00:00:01Z", "ended_at": None, "error_info": {"code": "", "message": ""},
         "extra_info": {"common": {"progress": 40, "request_id": "r"},
                        "restore": {"backup_id": "P", "backup_name": "autobk", "target_resource_id": "S",
                                    "target_resource_name": "ecs-01"}}},
        {"id": "B", "operation_type": "backup", "status": "success", "extra_info": None, "error_info": None},
    ]
    logs = run(make_client(), lambda c: c.list_operation_logs(status="running"))
    assert [o.id for o in logs] == ["JOB"]
    assert fake.requests[0].url.params["operation_type"] == "restore"
    o = logs[0]
    assert (o.progress, o.backup_id, o.target_id, o.target_name, o.finished) == (40, "P", "S", "ecs-01", False)
    assert o.ended_at is None
    one = run(make_client(), lambda c: c.get_operation_log("B"))
    assert one is not None and one.progress == 0 and one.error_code == "" and one.finished


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (400, {"error_code": "BackupService.2010", "error_msg": "being restored"}, "BackupService.2010", "being restored"),
        (400, {"code": "Ecs.0114", "message": "bad server"}, "Ecs.0114", "bad server"),
        (404, {"error": {"code": "Ecs.0114", "message": "not found"}}, "Ecs.0114", "not found"),
        (400, {"errorCode": "X.1", "errorMsg": "camel"}, "X.1", "camel"),
        (400, "not json at all", "", "Bad Request"),
    ],
)
def test_error_bodies(fake: Any, make_client: Any, status: int, body: Any, code: str, message: str) -> None:
    resp = (
        httpx.Response(status, json=body, headers={"X-Request-Id": "req-9"})
        if isinstance(body, dict)
        else httpx.Response(status, text=body, headers={"X-Request-Id": "req-9"})
    )
    fake.on_restore = lambda r: resp
    with pytest.raises(CloudAPIError) as info:
        run(make_client(), lambda c: c.restore("b1", {"volume_id": "v"}))
    e = info.value
    assert (e.status, e.code, e.message, e.request_id) == (status, code, message, "req-9")


def test_restore_posts_body_and_returns_job(fake: Any, make_client: Any, kit: Any) -> None:
    body = {"server_id": "s", "power_on": False, "mappings": [{"backup_id": "c", "volume_id": "v"}]}
    assert run(make_client(), lambda c: c.restore("bk-1", body)) == "job-1"
    req = fake.requests[0]
    assert req.method == "POST" and req.url.path.endswith("/backups/bk-1/restore")
    assert kit.body_of(req) == {"restore": body}
    fake.on_restore = lambda r: httpx.Response(202)
    assert run(make_client(), lambda c: c.restore("bk-1", body)) is None


@pytest.mark.parametrize(
    ("fault", "maybe_sent"),
    [(httpx.ReadTimeout("lost"), True), (httpx.RemoteProtocolError("reset"), True), (httpx.ConnectError("refused"), False)],
)
def test_restore_never_retried(fake: Any, make_client: Any, fault: Exception, maybe_sent: bool) -> None:
    fake.faults = [fault]
    with pytest.raises(CloudTransportError) as info:
        run(make_client(), lambda c: c.restore("bk-1", {"volume_id": "v"}))
    assert info.value.maybe_sent is maybe_sent
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_restore_errors_not_retried(fake: Any, make_client: Any, status: int) -> None:
    fake.faults = [httpx.Response(status, json={"error_code": "APIGW.0308", "error_msg": "throttled"})]
    with pytest.raises(CloudAPIError):
        run(make_client(), lambda c: c.restore("bk-1", {"volume_id": "v"}))
    assert len(fake.requests) == 1


def test_reads_retry_429_honouring_retry_after(fake: Any, make_client: Any, clock: Any, kit: Any) -> None:
    fake.backups = [kit.make_backup(1, 1)]
    fake.faults = [httpx.Response(429, headers={"Retry-After": "7"}, json={"error_code": "APIGW.0308", "error_msg": "x"})] * 2
    t0 = clock.now()
    client = make_client()
    got = run(client, lambda c: c.list_backups())
    assert len(got) == 1 and len(fake.requests) == 3 and client.request_count == 3
    assert clock.now() - t0 >= 14.0


def test_reads_retry_5xx_burst_and_resets(fake: Any, make_client: Any, kit: Any) -> None:
    fake.servers = [kit.make_server(1)]
    fake.faults = [
        httpx.Response(500, json={"error_code": "BackupService.9910", "error_msg": "unknown"}),
        httpx.Response(502, text="bad gateway"),
        httpx.RemoteProtocolError("connection reset"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ]
    assert [s.id for s in run(make_client(), lambda c: c.list_servers())] == ["srv-00001"]
    assert len(fake.requests) == 6


def test_reads_give_up_after_bounded_attempts(fake: Any, make_client: Any) -> None:
    fake.faults = [httpx.Response(503, json={"error_code": "X", "error_msg": "down"})] * 50
    with pytest.raises(CloudAPIError) as info:
        run(make_client(), lambda c: c.list_vaults())
    assert info.value.status == 503 and len(fake.requests) == 8


@pytest.mark.parametrize("retries", ["0", "2", "12"])
def test_hw_max_retries_bounds_the_retries_of_a_read_never_a_post(
    fake: Any, make_client: Any, kit: Any, retries: str
) -> None:
    down = httpx.Response(503, json={"error_code": "X", "error_msg": "down"})
    fake.faults = [down] * 50
    client = make_client(HW_AUTH_TOKEN=kit.TOKEN, HW_MAX_RETRIES=retries)
    with pytest.raises(CloudAPIError):
        run(client, lambda c: c.list_vaults())
    assert len(fake.requests) == int(retries) + 1
    fake.requests.clear()
    with pytest.raises(CloudAPIError):
        run(client, lambda c: c.restore("b-1", {"volume_id": "v-1"}))
    assert len(fake.requests) == 1


def test_client_errors_not_retried(fake: Any, make_client: Any) -> None:
    fake.faults = [httpx.Response(400, json={"error_code": "BackupService.9900", "error_msg": "bad"})]
    with pytest.raises(CloudAPIError):
        run(make_client(), lambda c: c.list_vaults())
    assert len(fake.requests) == 1


def test_401_is_an_auth_error_with_hint(fake: Any, make_client: Any) -> None:
    fake.faults = [httpx.Response(401, json={"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information"})]
    with pytest.raises(CloudAuthError) as info:
        run(make_client(), lambda c: c.list_vaults())
    assert str(info.value) == (
        "the cloud refused the credentials (APIGW.0301: Incorrect IAM authentication information); "
        "check HW_AUTH_TOKEN (tokens expire after 24 h)"
    )


def test_debug_log_redacts_credentials(fake: Any, make_client: Any, kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="planner.cloud")
    run(make_client(), lambda c: c.list_vaults())
    assert fake.requests[0].headers["X-Auth-Token"] == kit.TOKEN
    assert kit.TOKEN not in caplog.text
    assert "'x-auth-token': '***'" in caplog.text
    assert f"<- 200 GET http://127.0.0.1:9/v3/{kit.PROJECT}/vaults?limit=1000&offset=0" in caplog.text


def test_aksk_debug_log_redacts(fake: Any, make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run(make_client(HW_ACCESS_KEY="AK-ID-1", HW_SECRET_KEY="SK-SECRET-1"), lambda c: c.list_vaults())
    auth = fake.requests[0].headers["Authorization"]
    assert auth.startswith("SDK-HMAC-SHA256 Access=AK-ID-1, SignedHeaders=host;x-language;x-project-id;x-sdk-date,")
    assert "SK-SECRET-1" not in caplog.text and auth not in caplog.text


def test_a_cookie_the_cloud_sets_is_never_sent_back(fake: Any, make_client: Any) -> None:
    """The API authenticates by header; a cookie an endpoint sets (a proxy, a hostile
    host) must not ride along on later requests. The client keeps no cookie jar."""
    fake.faults = [
        httpx.Response(
            200,
            json={"vault": {"id": "vault-1", "name": "v", "billing": {"status": "available"}}},
            headers={"Set-Cookie": "session=stolen; Path=/"},
        )
    ]

    async def twice(c: CloudClient) -> None:
        await c.get_vault("vault-1")
        await c.get_vault("vault-1")

    run(make_client(), twice)
    assert len(fake.requests) == 2
    assert "cookie" not in fake.requests[1].headers


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"count": 2, "items": [1, "x"]}', {"count": 2, "items": [1, "x"]}),
        # refused by the fast parser, read as before by pydantic-core's
        (b'{"progress": NaN}', "nan"),
    ],
)
def test_answers_are_read_by_either_parser(content: bytes, expected: object) -> None:
    from planner.cloud.client import _json

    got = _json(httpx.Response(200, content=content))
    if expected == "nan":
        assert got["progress"] != got["progress"]  # NaN, as pydantic-core read it before
    else:
        assert got == expected


def test_an_answer_that_is_not_json_is_an_api_error() -> None:
    from planner.cloud.client import _json

    with pytest.raises(CloudAPIError, match="not JSON"):
        _json(httpx.Response(502, content=b"<html>Bad Gateway</html>"))


def test_every_request_carries_the_clients_timeouts_headers_and_token(fake: Any, make_client: Any) -> None:
    """The client sends through its transport itself (CloudClient._exchange): what
    AsyncClient.request would set must still be on every request, timeouts first (without
    them a cloud that stops answering holds an apply forever)."""

    async def go(c: CloudClient) -> None:
        await c.list_servers()
        await c.restore("bk-1", {"server_id": "srv-1"})

    run(make_client(), go)
    assert [r.method for r in fake.requests] == ["GET", "POST"]
    for r in fake.requests:
        assert r.extensions["timeout"] == {"connect": 30.0, "read": 120.0, "write": 120.0, "pool": 120.0}
        assert r.headers["accept"] == "application/json" and r.headers["x-language"] == "en-us"
        assert r.headers["user-agent"].startswith("restore-planner/")
        assert r.headers["x-auth-token"] and r.headers["host"] == "127.0.0.1:9"
    post = fake.requests[1]
    assert post.headers["content-type"] == "application/json"
    assert json.loads(post.content) == {"restore": {"server_id": "srv-1"}}


def test_requests_go_through_a_mounted_transport(fake: Any, make_client: Any) -> None:
    """A proxy from the environment is a mount of the client: the request goes through it."""
    seen: list[str] = []

    async def via(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        response: httpx.Response = fake.handle(request)
        return response

    client = make_client()
    client._http._mounts = {httpx._utils.URLPattern("all://127.0.0.1"): httpx.MockTransport(via)}
    run(client, lambda c: c.list_servers())
    assert seen and seen[0].startswith("http://127.0.0.1:9/v1/")


def test_a_transport_error_names_its_request(fake: Any, make_client: Any) -> None:
    """A network error raised by the transport (httpcore's, mapped, carries no request)
    gets the request, as AsyncClient would set it, and is not sent twice."""
    fake.faults.append(httpx.ConnectError("connection refused"))

    async def go(c: CloudClient) -> None:
        await c.restore("bk-1", {"server_id": "srv-1"})

    with pytest.raises(CloudTransportError) as info:
        run(make_client(), go)
    assert info.value.maybe_sent is False
    cause = info.value.__cause__
    assert isinstance(cause, httpx.ConnectError) and cause.request.method == "POST"
    assert [r.method for r in fake.requests] == ["POST"]


_BASES = (
    "https://cbr.ap-southeast-1.myhuaweicloud.com/v3/0123456789abcdef0123456789abcdef",
    "http://127.0.0.1:8443/v1/f56379a043665059cd85a853f1b17e2d",
    "https://ecs.example.com:8443/prefix/v2/p%20q",
)
_URL_CHARS = st.sampled_from(list("abcXYZ019-_.~/%?#&= :@!$'()*+,;\u00e9\\\t\x00"))


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(_BASES),
    tail=st.lists(st.text(_URL_CHARS, max_size=12), max_size=4).map(
        lambda s: "".join("/" + x for x in s)
    ),
    query=st.one_of(
        st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=4).map(urlencode),
        st.text(_URL_CHARS, max_size=12),  # not urlencode's: parsed by httpx
    ),
)
def test_request_urls_are_what_httpxs_parser_makes(base: str, tail: str, query: str) -> None:
    # the client builds URLs under its API bases without parsing each; what it builds
    # must be exactly the URL httpx would parse from the text (or its error)
    text = f"{base}{tail}?{query}" if query else base + tail
    try:
        want: httpx.URL | None = httpx.URL(text)
    except httpx.InvalidURL:
        want = None
    try:
        got: httpx.URL | None = _Urls(_BASES).url(base + tail, query)
    except httpx.InvalidURL:
        got = None
    if want is None:
        assert got is None
        return
    assert got is not None
    assert str(got) == str(want) and got.raw_path == want.raw_path and got == want
    assert (got.scheme, got.host, got.port, got.path, got.query) == (
        want.scheme,
        want.host,
        want.port,
        want.path,
        want.query,
    )


def test_plain_urls_under_a_base_are_built_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = _Urls(_BASES)
    parsed: list[str] = []
    real = httpx.URL.__init__

    def counting(self: httpx.URL, url: Any = "", **kw: Any) -> None:
        parsed.append(str(url))
        real(self, url, **kw)

    monkeypatch.setattr(httpx.URL, "__init__", counting)
    got = urls.url(_BASES[0] + "/operation-logs", "operation_type=restore&limit=1000&offset=0")
    assert parsed == [] and got.params["limit"] == "1000"
    # a dot segment, an escape or a URL under no base is parsed as before
    for url in (_BASES[0] + "/backups/../vaults", _BASES[0] + "/a%2Fb", "https://iam.example.com/v3/projects"):
        urls.url(url, "")
    assert len(parsed) == 3
