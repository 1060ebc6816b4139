"""Password login, token caching and renewal, and credentials never shown."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from planner.clock import VirtualClock
from planner.cloud.auth import AkSkAuth, PasswordAuth, TokenAuth, make_auth
from planner.cloud.client import CloudClient
from planner.cloud.errors import CloudAuthError
from planner.cloud.settings import CloudSettings

PW = "hunter2-Secret-pw"
PW_ENV = {"HW_USER_NAME": "ops", "HW_USER_PASSWORD": PW, "HW_DOMAIN_NAME": "acme"}


class Iam:
    """Wraps the fake cloud with an IAM that issues numbered tokens and expires them."""

    def __init__(self, fake: Any, clock: VirtualClock, kit: Any) -> None:
        self.fake, self.clock, self.kit = fake, clock, kit
        self.issued: dict[str, float] = {}  # token -> expires_at
        self.revoked: set[str] = set()
        self.logins: list[Any] = []
        self.rejected = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/auth/tokens":
            body = self.kit.body_of(request)
            self.logins.append(body)
            user = body["auth"]["identity"]["password"]["user"]
            if user["password"] != PW:
                return httpx.Response(401, json={"error": {"code": "1101", "message": "The username or password is wrong."}})
            token = f"iam-token-{len(self.logins)}-SECRET"
            expires = self.clock.now() + 24 * 3600
            self.issued[token] = expires
            stamp = datetime.fromtimestamp(expires, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            return httpx.Response(201, headers={"X-Subject-Token": token}, json={"token": {"expires_at": stamp}})
        token = request.headers.get("X-Auth-Token", "")
        if token not in self.issued or token in self.revoked or self.issued[token] <= self.clock.now():
            self.rejected += 1
            return httpx.Response(401, json={"error_msg": "The token must be updated.", "error_code": "APIGW.0307"})
        response: httpx.Response = self.fake.handle(request)
        return response


def _client(fake: Any, clock: VirtualClock, kit: Any, **env: str) -> tuple[CloudClient, Iam]:
    iam = Iam(fake, clock, kit)
    settings = CloudSettings.from_env(kit.env(**{**PW_ENV, **env}))
    return CloudClient(settings, transport=httpx.MockTransport(iam.handle), clock=clock), iam


def test_make_auth_picks_method(kit: Any) -> None:
    assert isinstance(make_auth(CloudSettings.from_env(kit.env(HW_AUTH_TOKEN="t"))), TokenAuth)
    assert isinstance(make_auth(CloudSettings.from_env(kit.env(HW_ACCESS_KEY="a", HW_SECRET_KEY="s"))), AkSkAuth)
    assert isinstance(make_auth(CloudSettings.from_env(kit.env(**PW_ENV))), PasswordAuth)


def test_login_once_then_cached(fake: Any, clock: VirtualClock, kit: Any) -> None:
    client, iam = _client(fake, clock, kit)

    async def go() -> None:
        async with client:
            await asyncio.gather(*(client.list_vaults() for _ in range(5)))
            await client.list_vaults()

    asyncio.run(go())
    assert len(iam.logins) == 1
    body = iam.logins[0]["auth"]
    assert body["identity"]["password"]["user"] == {"name": "ops", "password": PW, "domain": {"name": "acme"}}
    assert body["scope"] == {"project": {"id": kit.PROJECT}}
    assert client.request_count == 7  # 1 login + 6 calls


def test_renewed_an_hour_before_expiry(fake: Any, clock: VirtualClock, kit: Any) -> None:
    client, iam = _client(fake, clock, kit)

    async def go() -> None:
        async with client:
            await client.list_vaults()
            clock.advance(22 * 3600)
            await client.list_vaults()
            assert len(iam.logins) == 1
            clock.advance(1.5 * 3600)  # 30 min before expiry: renew first
            await client.list_vaults()

    asyncio.run(go())
    assert len(iam.logins) == 2
    assert iam.rejected == 0  # renewed before the cloud refused anything


def test_relogin_once_on_token_must_be_updated(fake: Any, clock: VirtualClock, kit: Any) -> None:
    client, iam = _client(fake, clock, kit)

    async def go() -> None:
        async with client:
            await client.list_vaults()
            iam.revoked.add("iam-token-1-SECRET")  # password changed: token invalid early
            await client.list_vaults()

    asyncio.run(go())
    assert len(iam.logins) == 2
    assert iam.rejected == 1


def test_wrong_password_is_a_clear_auth_error(fake: Any, clock: VirtualClock, kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = _client(fake, clock, kit, HW_USER_PASSWORD="wrong-pw-SECRET")

    async def go() -> None:
        async with client:
            await client.list_vaults()

    with pytest.raises(CloudAuthError) as info:
        asyncio.run(go())
    assert str(info.value) == (
        "IAM password login for user 'ops' in domain 'acme' failed: 1101: The username or password is wrong."
    )
    assert "wrong-pw-SECRET" not in caplog.text


def test_tokens_and_password_never_logged(fake: Any, clock: VirtualClock, kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, iam = _client(fake, clock, kit)

    async def go() -> None:
        async with client:
            await client.list_vaults()

    asyncio.run(go())
    assert "POST http://127.0.0.1:9/v3/auth/tokens?nocatalog=true" in caplog.text
    for secret in (PW, *iam.issued):
        assert secret not in caplog.text
        assert secret not in repr(client.settings) and secret not in repr(client._http.auth)
