"""An id the plan (or a saved plan, or the cloud) gives is one path segment of a
request, or no request is sent at all: never a dot segment, a query, a fragment,
another path, or a broken request line (review: ids in URLs)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from planner.cloud.client import CloudClient, id_problem
from planner.cloud.errors import CloudError
from planner.cloud.settings import CloudSettings, api_base, project_id_problem, region_problem
from planner.errors import UserError

T = TypeVar("T")

UUID = "94eba8b2-acc9-4d82-badc-127144cc5526"
BAD_IDS = [
    "../../../x/y",
    "..",
    ".",
    "",
    "a/b",
    "a?b=c",
    "a#d",
    "a?b=c#d",
    "a%2Fb",
    "%2e%2e",
    "a\r\nb",
    "a\nb",
    "a b",
    "a\tb",
    "a\x00b",
    "a\x7fb",
    "a\x85b",
    "a\u2028b",
    "a\u00a0b",
]


def run(client: CloudClient, fn: Callable[[CloudClient], Awaitable[T]]) -> T:
    async def go() -> T:
        async with client:
            return await fn(client)

    return asyncio.run(go())


CALLS: dict[str, Callable[[str], Callable[[CloudClient], Awaitable[Any]]]] = {
    "get_backup": lambda i: lambda c: c.get_backup(i),
    "get_vault": lambda i: lambda c: c.get_vault(i),
    "get_operation_log": lambda i: lambda c: c.get_operation_log(i),
    "get_server": lambda i: lambda c: c.get_server(i),
    "restore": lambda i: lambda c: c.restore(i, {"volume_id": UUID}),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_bad_id_sends_no_request(fake: Any, make_client: Any, call: str, bad: str) -> None:
    with pytest.raises(CloudError) as info:
        run(make_client(), CALLS[call](bad))
    assert fake.requests == []  # refused before anything left, not answered 404
    assert "refused to send a request for" in info.value.message
    assert repr(bad)[:60] in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    ("call", "path"),
    [
        ("get_backup", "/backups/{}"),
        ("get_vault", "/vaults/{}"),
        ("get_operation_log", "/operation-logs/{}"),
        ("get_server", "/cloudservers/{}"),
        ("restore", "/backups/{}/restore"),
    ],
)
@pytest.mark.parametrize(
    ("given", "sent"),
    [(UUID, UUID), ("a.b", "a.b"), ("a:b@c", "a%3Ab%40c"), ("é1;x=y", "%C3%A91%3Bx%3Dy")],
)
def test_an_id_is_exactly_one_quoted_segment(
    fake: Any, make_client: Any, kit: Any, call: str, path: str, given: str, sent: str
) -> None:
    run(make_client(), CALLS[call](given))
    (req,) = fake.requests
    base = "/v1/" if call == "get_server" else "/v3/"
    assert req.url.raw_path.decode() == base + kit.PROJECT + path.format(sent)
    assert req.url.query == b""
    assert req.url.fragment == ""


@pytest.mark.parametrize("bad", ["a,b", "a b", "a/../b", ""])
def test_server_ids_of_a_listing_are_checked(fake: Any, make_client: Any, bad: str) -> None:
    with pytest.raises(CloudError):
        run(make_client(), lambda c: c.list_servers(server_ids=[UUID, bad]))
    assert fake.requests == []


@pytest.mark.parametrize("bad", ["a'b", "a,b", "a]b", "a\nb", ""])
def test_volume_ids_of_a_listing_are_checked(fake: Any, make_client: Any, bad: str) -> None:
    with pytest.raises(CloudError):
        run(make_client(), lambda c: c.list_volumes(ids=[UUID, bad]))
    assert fake.requests == []


def test_good_listing_ids_are_sent(fake: Any, make_client: Any) -> None:
    run(make_client(), lambda c: c.list_volumes(ids=[UUID]))
    run(make_client(), lambda c: c.list_servers(server_ids=[UUID]))
    assert [r.url.params.get("ids") or r.url.params.get("server_id") for r in fake.requests] == [
        f"['{UUID}']",
        UUID,
    ]


def test_id_problem_is_tolerant() -> None:
    for ok in (UUID, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "bk-1", "a.b", "...", "é", "a:b", "a'b"):
        assert id_problem(ok) is None, ok
    for bad in BAD_IDS:
        assert id_problem(bad) is not None, repr(bad)


# --- settings: a trailing newline is not part of a valid value (fullmatch) ---

PROJECT = "f841e01fd2b14e7fa41b6ae7aa6b0594"
REAL_REGIONS = [
    "ap-southeast-1",
    "cn-north-4",
    "la-south-2",
    "af-south-1",
    "me-east-1",
    "eu-west-101",
    "cn-southwest-2",
    "ru-northwest-2",
    "my-kualalumpur-1",
    "sim-1",
    "r1",
]


@pytest.mark.parametrize("region", REAL_REGIONS)
def test_real_regions_are_regions(region: str) -> None:
    assert region_problem(region) is None


@pytest.mark.parametrize(
    "region",
    ["-", "--", "-ap", "ap-", "ap--southeast-1", "1-x", "ap-southeast-1\n", "\nap-southeast-1",
     "ap-southeast-1\r\n", "ap_southeast_1", "AP-1", "a.b"],
)  # fmt: skip
def test_region_shapes_refused(region: str) -> None:
    assert region_problem(region) is not None


@pytest.mark.parametrize("project", [PROJECT + "\n", PROJECT + "\r\n", "\n" + PROJECT, PROJECT[:-1] + "\n"])
def test_project_id_with_a_newline_is_refused(project: str) -> None:
    assert project_id_problem(project) is not None
    with pytest.raises(UserError):
        api_base("http://127.0.0.1:9", "v1", project)


def test_project_id_with_a_newline_from_the_plan_is_refused_before_any_url() -> None:
    env = {"HW_REGION_NAME": "ap-southeast-1", "HW_AUTH_TOKEN": "t", "HW_ENDPOINT": "http://127.0.0.1:9"}
    with pytest.raises(UserError) as info:
        CloudSettings.from_env(env, project_id=PROJECT + "\n")
    assert info.value.message.startswith("cloud.project_id of the plan: ")


@pytest.mark.parametrize("region", ["ap-southeast-1\n", "-"])
def test_region_from_the_plan_is_refused_with_its_source(region: str) -> None:
    env = {"HW_PROJECT_ID": PROJECT, "HW_AUTH_TOKEN": "t"}
    with pytest.raises(UserError) as info:
        CloudSettings.from_env(env, region=region)
    # refused as a region, not later as "cannot build an endpoint"
    assert info.value.message == f"cloud.region of the plan: {region!r} is not a region name"


def test_no_request_for_a_project_id_with_a_newline() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"servers": [], "count": 0})

    env = {"HW_REGION_NAME": "ap-southeast-1", "HW_AUTH_TOKEN": "t", "HW_ENDPOINT": "http://127.0.0.1:9"}
    with pytest.raises(UserError):
        settings = CloudSettings.from_env(env, project_id=PROJECT + "\n")
        run(CloudClient(settings, transport=httpx.MockTransport(handler)), lambda c: c.list_servers())
    assert seen == []
