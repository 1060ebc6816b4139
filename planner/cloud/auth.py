"""Request authentication as ``httpx.Auth`` subclasses: token, AK/SK, IAM password.

Owns: putting credentials on requests (and nothing else). AK/SK signing math
lives in ``planner.cloud.signer``; which method to use comes from settings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Generator
from datetime import UTC, datetime

import httpx

from planner import __version__
from planner.clock import Clock, WallClock
from planner.cloud import signer
from planner.cloud.errors import CloudAuthError
from planner.cloud.parse import error_from_response, parse_time
from planner.cloud.settings import CloudSettings, Secret

# Headers that transports or proxies may add, drop or rewrite after signing.
_UNSIGNED = frozenset(
    {"connection", "accept-encoding", "user-agent", "content-length", "transfer-encoding", "accept"}
)
RENEW_BEFORE_S = 3600.0  # renew a password token an hour before it expires
USER_AGENT = f"restore-planner/{__version__}"  # on every request, the IAM login included


class TokenAuth(httpx.Auth):
    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Auth-Token"] = self._token.reveal()
        yield request


class AkSkAuth(httpx.Auth):
    """SDK-HMAC-SHA256: signs exactly the path, query and body bytes httpx will send."""

    requires_request_body = True

    def __init__(
        self,
        access_key: Secret,
        secret_key: Secret,
        *,
        project_id: str | None = None,
        security_token: Secret | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._ak = access_key
        self._sk = secret_key
        self._project_id = project_id
        self._security_token = security_token
        self._clock = clock or WallClock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sign(request, self._ak, self._sk, self._project_id, self._security_token, self._clock)
        yield request


def sign(
    request: httpx.Request,
    access_key: Secret,
    secret_key: Secret,
    project_id: str | None = None,
    security_token: Secret | None = None,
    clock: Clock | None = None,
) -> None:
    """Sign ``request`` in place (headers and canonical query)."""
    headers = request.headers
    if "X-Sdk-Date" not in headers:
        now = (clock or WallClock()).now()
        headers["X-Sdk-Date"] = datetime.fromtimestamp(now, tz=UTC).strftime(signer.DATE_FORMAT)
    if project_id and "X-Project-Id" not in headers:
        headers["X-Project-Id"] = project_id
    if security_token is not None:
        headers["X-Security-Token"] = security_token.reveal()
    content_type = headers.get("Content-Type", "")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        headers["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    # Send the query in canonical order and encoding, so what the gateway sees is what we signed.
    params = list(request.url.params.multi_items())
    query = signer.canonical_query(params)
    request.url = request.url.copy_with(query=query.encode("ascii") if query else None)
    to_sign = {k: v for k, v in headers.items() if k.lower() not in _UNSIGNED}
    path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    headers["Authorization"] = signer.authorization(
        access_key.reveal(),
        secret_key.reveal(),
        request.method,
        path,
        params,
        to_sign,
        request.content,
    )


class PasswordAuth(httpx.Auth):
    """IAM password login; the token is cached, renewed before expiry and once on a 401."""

    def __init__(self, settings: CloudSettings, clock: Clock | None = None) -> None:
        if settings.user_name is None or settings.password is None or settings.domain_name is None:
            raise CloudAuthError(
                "password login needs HW_USER_NAME, HW_USER_PASSWORD and HW_DOMAIN_NAME"
            )
        self._settings = settings
        self._clock = clock or WallClock()
        self._token: Secret | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.logins = 0  # how many times we logged in (for tests and benches)

    def _fresh(self) -> bool:
        return self._token is not None and self._clock.now() < self._expires_at - RENEW_BEFORE_S

    def _login_request(self) -> httpx.Request:
        s = self._settings
        assert s.password is not None
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": s.user_name,
                            "password": s.password.reveal(),
                            "domain": {"name": s.domain_name},
                        }
                    },
                },
                # scoped by name until the id is known (HW_PROJECT_NAME)
                "scope": {"project": {"id": s.project_id}}
                if s.project_id
                else {"project": {"name": s.project_name, "domain": {"name": s.domain_name}}},
            }
        }
        return httpx.Request(
            "POST",
            f"{s.auth_url}/auth/tokens",
            params={"nocatalog": "true"},
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json;charset=utf8", "User-Agent": USER_AGENT},
        )

    def _store(self, response: httpx.Response) -> None:
        if response.status_code != 201 or not response.headers.get("X-Subject-Token"):
            err = error_from_response(response)
            raise CloudAuthError(
                f"IAM password login for user {self._settings.user_name!r} in domain "
                f"{self._settings.domain_name!r} failed: {err}"
            )
        self._token = Secret(response.headers["X-Subject-Token"])
        self._expires_at = self._clock.now() + 24 * 3600.0
        try:
            expires = response.json().get("token", {}).get("expires_at")
        except (ValueError, AttributeError):
            expires = None
        when = parse_time(expires) if isinstance(expires, str) else None
        if when is not None:
            self._expires_at = when.timestamp()
        self.logins += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # Sync clients: same flow without the lock.
        if not self._fresh():
            response = yield self._login_request()
            response.read()
            self._store(response)
        assert self._token is not None
        request.headers["X-Auth-Token"] = self._token.reveal()
        response = yield request
        if response.status_code == 401:
            response.read()
            login = yield self._login_request()
            login.read()
            self._store(login)
            request.headers["X-Auth-Token"] = self._token.reveal()
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another request may have logged in meanwhile
                    response = yield self._login_request()
                    await response.aread()
                    self._store(response)
        assert self._token is not None
        used = self._token
        request.headers["X-Auth-Token"] = used.reveal()
        response = yield request
        if response.status_code == 401:  # "The token must be updated": log in again, once
            await response.aread()
            async with self._lock:
                if self._token == used:
                    login = yield self._login_request()
                    await login.aread()
                    self._store(login)
            request.headers["X-Auth-Token"] = self._token.reveal()
            yield request


def make_auth(settings: CloudSettings, clock: Clock | None = None) -> httpx.Auth:
    method = settings.auth_method
    if method == "token":
        assert settings.token is not None
        return TokenAuth(settings.token)
    if method == "aksk":
        assert settings.access_key is not None and settings.secret_key is not None
        return AkSkAuth(
            settings.access_key,
            settings.secret_key,
            project_id=settings.project_id,
            security_token=settings.security_token,
            clock=clock,
        )
    return PasswordAuth(settings, clock)
