"""Tokens, AK/SK signatures (incl. the SDK's published vectors), project checks."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from planner.clock import VirtualClock
from planner.cloud import signer
from planner.sim import Simulator, parse_inventory
from planner.sim.http import SimRequest
from tests.sim.simkit import INVENTORY, PRJ, call, make_sim

VECTOR_HOST = "service.endpoint.myhuaweicloud.com"
VECTORS = [
    ("GET", b"", "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"),
    ("POST", b'{"name":"test","id":1}', "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"),
]


def _vector_sim() -> Simulator:
    data = dict(INVENTORY, credentials={"access_key": "AccessKey", "secret_key": "SecretKey"})
    start = datetime(2020, 6, 8, 2, 39, tzinfo=UTC).timestamp()  # the vectors' X-Sdk-Date
    return Simulator(parse_inventory(data), clock=VirtualClock(start))


@pytest.mark.parametrize(("method", "body", "sig"), VECTORS)
def test_sdk_vectors_verify(method: str, body: bytes, sig: str) -> None:
    sim = _vector_sim()
    headers = {"host": VECTOR_HOST, "x-sdk-date": "20200608T023900Z", "test_underscore": "TEST_VALUE",
               "authorization": f"SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature={sig}"}
    req = SimRequest(method, "/resources", [("size", "1")], headers, body)
    assert sim.auth.check(req) is None
    tampered = SimRequest(method, "/resources", [("size", "2")], headers, body)
    denied = sim.auth.check(tampered)
    assert denied is not None and denied.body == {
        "error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail"}


def _signed(sim: Simulator, path: str, date: str, sk: str | None = None) -> dict[str, str]:
    headers = {"Host": "sim.local", "X-Sdk-Date": date}
    c = sim.credentials
    headers["Authorization"] = signer.authorization(c.access_key, sk or c.secret_key, "GET", path,
                                                    [("limit", "5")], headers, b"")
    return headers


def test_aksk_through_transport() -> None:
    sim = make_sim()
    now = time.strftime(signer.DATE_FORMAT, time.gmtime())
    path = f"/v3/{PRJ}/backups"
    ok = call(sim, "GET", path, params={"limit": 5}, headers=_signed(sim, path, now), auth=False)
    assert ok.status_code == 200
    bad = call(sim, "GET", path, params={"limit": 5}, headers=_signed(sim, path, now, sk="wrong"), auth=False)
    assert (bad.status_code, bad.json()["error_code"]) == (401, "APIGW.0301")
    stale = call(sim, "GET", path, params={"limit": 5}, headers=_signed(sim, path, "20200101T000000Z"), auth=False)
    assert (stale.status_code, stale.json()["error_code"]) == (401, "APIGW.0301")


def test_no_auth_and_bad_token() -> None:
    sim = make_sim()
    r = call(sim, "GET", "/v3/{p}/backups", auth=False)
    assert (r.status_code, r.json()["error_code"]) == (401, "APIGW.0301")
    r = call(sim, "GET", "/v3/{p}/backups", auth=False, headers={"X-Auth-Token": "nope"})
    assert (r.status_code, r.json()["error_code"]) == (401, "APIGW.0301")


def test_token_login_and_expiry() -> None:
    sim = make_sim()
    c = sim.credentials
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": c.user, "password": c.password, "domain": {"name": c.domain}}}},
        "scope": {"project": {"name": "sim-1"}}}}
    r = call(sim, "POST", "/v3/auth/tokens", json=body, auth=False)
    assert r.status_code == 201
    token = r.headers["X-Subject-Token"]
    tok = r.json()["token"]
    assert tok["project"]["id"] == PRJ and tok["expires_at"] == "2026-09-22T14:13:20.000000Z"
    assert call(sim, "GET", "/v3/{p}/backups", auth=False, headers={"X-Auth-Token": token}).status_code == 200
    sim.clock.advance(24 * 3600 + 1)  # type: ignore[attr-defined]
    r = call(sim, "GET", "/v3/{p}/backups", auth=False, headers={"X-Auth-Token": token})
    assert r.json()["error_msg"] == "Incorrect IAM authentication information: The token must be updated"
    body["auth"]["identity"]["password"]["user"]["password"] = "wrong"  # type: ignore[index]
    r = call(sim, "POST", "/v3/auth/tokens", json=body, auth=False)
    assert r.status_code == 401
    assert r.json() == {"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}}


def test_default_credentials_are_deterministic() -> None:
    a, b = make_sim().credentials, make_sim().credentials
    assert a == b
    assert a.access_key.startswith("SIMAK") and len(a.access_key) == 20 and len(a.secret_key) == 40
    assert a.user == "sim-user" and a.domain == "sim-domain"


def test_wrong_project_and_unknown_path() -> None:
    sim = make_sim()
    r = call(sim, "GET", "/v3/otherproject/backups")
    assert (r.status_code, r.json()["error_code"]) == (403, "APIGW.0302")
    r = call(sim, "GET", "/v1/otherproject/cloudservers/detail")
    assert r.json()["error"]["code"] == "APIGW.0302"
    r = call(sim, "GET", "/v3/{p}/nothing-here")
    assert (r.status_code, r.json()["error_code"]) == (404, "APIGW.0101")
