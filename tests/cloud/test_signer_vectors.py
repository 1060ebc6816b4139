"""Our signer against the SDK's published vectors and vectors made with the official SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.cloud import signer
from planner.cloud.auth import AkSkAuth
from planner.cloud.settings import Secret

VECTORS = json.loads((Path(__file__).parent / "data" / "sdk_signer_vectors.json").read_text("utf-8"))
CASES = VECTORS["cases"]
PUBLISHED_HEADERS = {
    "Host": "service.endpoint.myhuaweicloud.com",
    "X-Sdk-Date": "20200608T023900Z",
    "TEST_UNDERSCORE": "TEST_VALUE",
}


@pytest.mark.parametrize(
    ("method", "body", "sig"),
    [
        ("GET", b"", "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"),
        (
            "POST",
            b'{"name":"test","id":1}',
            "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f",
        ),
    ],
)
def test_published_vectors(method: str, body: bytes, sig: str) -> None:
    value = signer.authorization(
        "AccessKey", "SecretKey", method, "/resources", [("size", "1")], PUBLISHED_HEADERS, body
    )
    assert value == f"SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature={sig}"


def test_published_vector_through_httpx_auth() -> None:
    request = httpx.Request(
        "GET",
        "https://service.endpoint.myhuaweicloud.com/resources?size=1",
        headers={"X-Sdk-Date": "20200608T023900Z", "TEST_UNDERSCORE": "TEST_VALUE"},
    )
    flow = AkSkAuth(Secret("AccessKey"), Secret("SecretKey")).sync_auth_flow(request)
    signed = next(flow)
    assert signed.headers["Authorization"].endswith(
        "Signature=cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"
    )


def _headers_with_host(case: dict[str, Any]) -> dict[str, str]:
    return {"Host": case["host"], **case["headers"]}


def _body(case: dict[str, Any]) -> bytes:
    return str(case["body"]).encode("utf-8")


def test_enough_sdk_vectors() -> None:
    assert len(CASES) >= 5
    assert len({c["authorization"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pure_signer_matches_sdk(case: dict[str, Any]) -> None:
    headers = _headers_with_host(case)
    if "Content-Type" in headers and not headers["Content-Type"].startswith("application/json"):
        headers["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    value = signer.authorization(
        VECTORS["access_key"],
        VECTORS["secret_key"],
        case["method"],
        case["path"],
        [tuple(q) for q in case["query"]],
        headers,
        _body(case),
    )
    assert value == case["authorization"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_httpx_auth_matches_sdk_and_sends_what_it_signed(case: dict[str, Any]) -> None:
    scheme = "http" if case["host"].startswith("127.") else "https"
    request = httpx.Request(
        case["method"],
        f"{scheme}://{case['host']}{case['path']}",
        params=[tuple(q) for q in case["query"]],
        headers=case["headers"],
        content=_body(case) or None,
    )
    auth = AkSkAuth(Secret(VECTORS["access_key"]), Secret(VECTORS["secret_key"]))
    signed = next(auth.sync_auth_flow(request))
    assert signed.headers["Authorization"] == case["authorization"]
    # the query on the wire is the SDK's canonical one (sorted, encoded)
    query = case["uri"].partition("?")[2]
    assert signed.url.query.decode("ascii") == query
    # the path on the wire decodes to the path that was signed
    assert signer.canonical_uri(signed.url.raw_path.decode().partition("?")[0]) == signer.canonical_uri(
        case["path"]
    )


def test_security_token_and_project_header_are_signed() -> None:
    request = httpx.Request("GET", "https://cbr.x.myhuaweicloud.com/v3/p/backups", headers={"X-Sdk-Date": "20200608T023900Z"})
    auth = AkSkAuth(Secret("ak"), Secret("sk"), project_id="p", security_token=Secret("sts"))
    signed = next(auth.sync_auth_flow(request))
    assert "SignedHeaders=host;x-project-id;x-sdk-date;x-security-token," in signed.headers["Authorization"]
    assert signed.headers["X-Security-Token"] == "sts"
