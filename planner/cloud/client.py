"""The one HTTP client of the cloud: typed calls, paging, retries, pacing.

Owns every request to CBR, ECS, EVS and IAM (through ``planner.cloud.auth``).
Reads are retried (``planner.cloud.retry``); POST restore never is. Parsing
lives in ``planner.cloud.parse``; what to fetch for a plan in ``world``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx
import orjson
import pydantic_core

from planner.clock import Clock, WallClock
from planner.cloud import parse
from planner.cloud.auth import USER_AGENT, make_auth
from planner.cloud.cloudclock import CloudClock
from planner.cloud.errors import CloudAPIError, CloudAuthError, CloudError, CloudTransportError
from planner.cloud.models import Backup, OperationLog, Server, Vault, Volume
from planner.cloud.ratelimit import RateLimiter
from planner.cloud.retry import RetryPolicy
from planner.cloud.settings import CloudSettings, api_base, project_id_problem
from planner.errors import UserError
from planner.timefmt import rfc3339_s

log = logging.getLogger("planner.cloud")

Params = list[tuple[str, str]]
_REDACTED: Final = frozenset(
    {"authorization", "x-auth-token", "x-subject-token", "x-security-token"}
)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_AUTH_HINT = {
    "token": "check HW_AUTH_TOKEN (tokens expire after 24 h)",
    "aksk": "check HW_ACCESS_KEY and HW_SECRET_KEY (and the machine's clock: signatures expire after 15 min)",
    "password": "check HW_USER_NAME, HW_USER_PASSWORD and HW_DOMAIN_NAME",
}
VOLUME_IDS_CHUNK = 60  # EVS accepts at most 60 ids per list request
SERVER_IDS_CHUNK = 100


def redacted_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k: ("***" if k.lower() in _REDACTED else v) for k, v in headers.items()}


def debug_event_hooks(logger: logging.Logger = log) -> dict[str, list[Any]]:
    """httpx event hooks logging method, URL, status and redacted headers at DEBUG (--debug)."""

    async def on_request(request: httpx.Request) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "-> %s %s %s", request.method, request.url, redacted_headers(request.headers)
            )

    async def on_response(response: httpx.Response) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            req = response.request
            logger.debug(
                "<- %s %s %s request_id=%s",
                response.status_code,
                req.method,
                req.url,
                response.headers.get("X-Request-Id", ""),
            )

    return {"request": [on_request], "response": [on_response]}


# An id placed in a request: what could take it out of its one path segment (a dot
# segment, "/", "?", "#", an escape) or out of the request line (whitespace, controls).
_NOT_IN_AN_ID = re.compile(r"[/?#%\s\x00-\x1f\x7f-\x9f]")
_ID_HINT = (
    "an id is the one the console shows (e.g. a UUID); check the plan "
    "(or the saved plan) that named it"
)


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an id in a request, or None when it can.

    Deliberately tolerant (the plan's schema checks the shape of the ids it gives):
    this refuses only what could change which URL a request goes to."""
    if not value:
        return "is empty"
    if value in (".", ".."):
        return "is a dot segment"
    bad = _NOT_IN_AN_ID.search(value)
    if bad is not None:
        return f"holds {bad.group()!r}"
    return None


def _checked_id(value: str, what: str, refuse: str = "") -> str:
    """``value`` as given, or CloudError before any request when it is no sendable id
    (``refuse``: more characters, a list parameter's separators)."""
    why = id_problem(value)
    if why is None and refuse:
        bad = next((c for c in value if c in refuse), None)
        why = None if bad is None else f"holds {bad!r}"
    if why is not None:
        raise CloudError(f"refused to send a request for {what} {value!r:.80}: it {why}", _ID_HINT)
    return value


def _segment(value: str, what: str) -> str:
    """``value`` as exactly one path segment: checked, then percent-quoted."""
    return quote(_checked_id(value, what), safe="")


def _count(body: parse.Json) -> int | None:
    count = body.get("count")
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def time_param(when: datetime) -> str:
    return rfc3339_s(when)


# Path segments httpx's parser keeps exactly as they are (nothing to escape, no dot
# segment to drop), and a query as urlencode writes it (nothing left to escape).
_PLAIN_TAIL = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.~+%=&-]*")


class _Urls:
    """The request URLs under the API bases (endpoint/version/project), made without
    parsing each: parsing a URL was a sixth of the client's CPU per request
    (``bench/apply_makespan.py``). A base is parsed by httpx once; a tail of plain
    segments and an urlencoded query are added to its parsed form as httpx's parser
    would add them (``tests/cloud/test_client.py`` compares both on random URLs).
    Anything else, and every other URL, is parsed by httpx as before."""

    def __init__(self, bases: Iterable[str]) -> None:
        self._bases: list[tuple[str, httpx.URL]] = []
        for text in bases:
            if text and "?" not in text and "#" not in text:
                base = httpx.URL(text)
                if base.path and str(base) == text:
                    self._bases.append((text, base))

    def url(self, url: str, query: str) -> httpx.URL:
        if _PLAIN_QUERY.fullmatch(query):
            for text, base in self._bases:
                if url.startswith(text) and _PLAIN_TAIL.fullmatch(url, len(text)):
                    ref = base._uri_reference
                    made = httpx.URL.__new__(httpx.URL)
                    made._uri_reference = ref._replace(
                        path=ref.path + url[len(text) :], query=query or None
                    )
                    return made
        return httpx.URL(f"{url}?{query}" if query else url)


def _json(response: httpx.Response) -> Any:
    """An answer's JSON. orjson reads a poll's listing in half the time pydantic-core's
    parser takes; what it refuses and pydantic-core's read before (NaN, Infinity) is
    read by pydantic-core's still. (orjson reads an integer past 64 bits as a float.)"""
    content = response.content
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    try:
        return pydantic_core.from_json(content)
    except ValueError as exc:
        raise CloudAPIError(response.status_code, "", "answer is not JSON") from exc


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing (see ``CloudClient.__init__``)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class CloudClient:
    page_limit = 1000  # every list call asks for this many items per page

    def __init__(
        self,
        settings: CloudSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        max_rps: float = 50.0,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or WallClock()
        # the cloud's time, learned from every answer's Date header: apply decides in it
        self.cloud_clock = CloudClock(self.clock)
        self.request_count = 0
        self._limiter = RateLimiter(max_rps, self.clock)
        self._retry = (
            RetryPolicy(self.clock)
            if settings.max_retries is None
            else RetryPolicy(self.clock, max_attempts=settings.max_retries + 1)
        )
        # the debug hooks only log: a run without --debug does not pay for them per request
        hooks = (
            debug_event_hooks()
            if log.isEnabledFor(logging.DEBUG)
            else {"request": [], "response": []}
        )
        hooks["request"].insert(0, self._count)  # here, so that IAM logins count too
        self._http = httpx.AsyncClient(
            transport=transport,
            auth=make_auth(settings, self.clock),
            timeout=httpx.Timeout(120.0, connect=30.0),
            headers={"Accept": "application/json", "X-Language": "en-us", "User-Agent": USER_AGENT},
            event_hooks=hooks,
        )
        # No cookie jar: the API authenticates every request by header, so a cookie a
        # server sets is never needed, and keeping none means none is ever sent back.
        # httpx has no switch for it; without a jar it also skips reading every answer
        # for cookies, about a third of its cost per request (bench/apply_makespan.py).
        self._http._cookies = _NoCookies()
        # what AsyncClient.build_request gives every request (see _exchange)
        self._extensions = {"timeout": self._http.timeout.as_dict()}
        # every list call the tool makes takes it (Terraform: HW_ENTERPRISE_PROJECT_ID)
        eps = settings.enterprise_project_id
        self._eps: Params = [("enterprise_project_id", eps)] if eps else []
        self._set_project(settings)

    def _set_project(self, settings: CloudSettings) -> None:
        # the project id is validated and quoted as one path segment (settings.api_base)
        self.settings = settings
        p = settings.project_id
        if not p:
            self._cbr = self._ecs = self._evs = ""  # HW_PROJECT_NAME: set by __aenter__
            self._urls = _Urls([])
            return
        self._cbr = api_base(settings.endpoint("cbr"), "v3", p)
        self._ecs = api_base(settings.endpoint("ecs"), "v1", p)
        self._evs = api_base(settings.endpoint("evs"), "v2", p)
        self._urls = _Urls([self._cbr, self._ecs, self._evs])

    async def _count(self, request: httpx.Request) -> None:
        self.request_count += 1

    async def __aenter__(self) -> CloudClient:
        if not self.settings.project_id and self.settings.project_name:
            await self._resolve_project(self.settings.project_name)
        return self

    async def _resolve_project(self, name: str) -> None:
        """HW_PROJECT_NAME: IAM's KeystoneListProjects gives the id (as the Terraform provider)."""
        data = await self._get(f"{self.settings.auth_url}/projects", [("name", name)])
        found = [p for p in parse.as_map(data).get("projects") or [] if isinstance(p, dict)]
        ids = sorted({str(p.get("id", "")) for p in found if p.get("name") == name})
        if len(ids) != 1:
            raise UserError(
                f"HW_PROJECT_NAME {name[:64]!r} names {'no' if not ids else len(ids)} project(s) "
                "the credentials can see",
                hint="set HW_PROJECT_ID, or check the name (IAM console: My Credentials > Projects)",
            )
        problem = project_id_problem(ids[0])
        if problem:
            raise UserError(f"IAM answered project id {ids[0][:64]!r} for {name!r}: {problem}")
        settings = dataclasses.replace(self.settings, project_id=ids[0])
        self._http.auth = make_auth(settings, self.clock)
        self._set_project(settings)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- sending ----------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        params: Params,
        body: object = None,
        proceed: Callable[[], bool] | None = None,
    ) -> httpx.Response:
        await self._limiter.acquire()
        if proceed is not None and not proceed():
            # the last moment before the request leaves (after the rate limit's wait)
            raise CloudTransportError(f"{method} {url}: not sent", maybe_sent=False)
        try:
            # at most one URL parse per request (none under the API bases): httpx would
            # parse the bare URL, then again with the parameters merged
            target = self._urls.url(url, urlencode(params))
            sent = self.clock.now()
            response = await self._exchange(method, target, body)
            self.cloud_clock.observe_date(response.headers.get("date"), sent, self.clock.now())
        except _NOT_SENT as exc:
            raise CloudTransportError(
                f"{method} {url}: cannot connect: {exc}", maybe_sent=False
            ) from exc
        except httpx.TransportError as exc:
            raise CloudTransportError(
                f"{method} {url}: no answer ({type(exc).__name__}: {exc})", maybe_sent=True
            ) from exc
        if response.status_code == 429:
            self._limiter.throttled()
        elif response.status_code < 400:
            self._limiter.succeeded()
        if response.status_code == 401:
            err = parse.error_from_response(response)
            raise CloudAuthError(
                f"the cloud refused the credentials ({err}); {_AUTH_HINT[self.settings.auth_method]}"
            )
        if response.status_code >= 400:
            raise parse.error_from_response(response)
        return response

    async def _exchange(self, method: str, url: httpx.URL, body: object) -> httpx.Response:
        """One request and its whole answer, as ``AsyncClient.request`` would make it: the
        client's headers, timeouts, auth flow (a password login may add requests), event
        hooks and transport (an HTTPS_PROXY's included). Without its generic steps
        (merging a base URL, parameters and cookies, redirects, logging), which were a
        third of its cost per request (``bench/apply_makespan.py``). Redirects are never
        followed anyway: an API answers, it does not send credentials elsewhere."""
        http = self._http
        auth = http.auth
        assert auth is not None
        request = httpx.Request(
            method, url, headers=http.headers, json=body, extensions=self._extensions
        )
        flow = auth.async_auth_flow(request)
        try:
            request = await flow.__anext__()
            while True:
                response = await self._exchange_one(request)
                try:
                    request = await flow.asend(response)
                except StopAsyncIteration:
                    return response
        finally:
            await flow.aclose()

    async def _exchange_one(self, request: httpx.Request) -> httpx.Response:
        http = self._http
        hooks = http.event_hooks
        for hook in hooks["request"]:
            await hook(request)
        transport = http._transport_for_url(request.url)
        try:
            response = await transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as AsyncClient does: whoever reads it finds the request
            raise
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        for hook in hooks["response"]:
            await hook(response)
        return response

    async def _get(self, url: str, params: Params | None = None) -> Any:
        async def once() -> Any:
            response = await self._send("GET", url, params or [])
            return _json(response)

        return await self._retry.call(once)

    async def _get_or_none(self, url: str, key: str) -> parse.Json | None:
        try:
            body = await self._get(url)
        except CloudAPIError as exc:
            if exc.status == 404:
                return None
            raise
        item = parse.as_map(body).get(key)
        return item if isinstance(item, Mapping) else None

    async def _offset_pages(
        self, url: str, key: str, params: Params
    ) -> AsyncIterator[list[parse.Json]]:
        """CBR record paging: offset += len(page) until an empty page (as the Terraform provider).

        A short page alone does not end it (a cloud may cap pages below our limit).
        Whether CBR ``count`` is the total is UNCONFIRMED, so it only saves the trailing
        empty page when it equals every record seen and is surely no page length: the
        page was short, or the count is larger than one page.
        """
        offset, limit = 0, self.page_limit
        while True:
            body = parse.as_map(
                await self._get(
                    url, [*params, *self._eps, ("limit", str(limit)), ("offset", str(offset))]
                )
            )
            page = [parse.as_map(x) for x in parse.as_list(body.get(key))]
            if not page:
                return
            yield page
            offset += len(page)
            # a count above one page is surely the total; one within it only with a short page
            count = _count(body)
            if count == offset and (len(page) < limit or count > limit):
                return

    async def _offset_list(self, url: str, key: str, params: Params) -> list[parse.Json]:
        return [item async for page in self._offset_pages(url, key, params) for item in page]

    # -- ECS --------------------------------------------------------------------

    async def list_servers(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        tags: Mapping[str, str] | None = None,
        server_ids: Sequence[str] | None = None,
    ) -> list[Server]:
        """Filters go to ECS and are applied again here (ECS ``name`` is a fuzzy match)."""
        base: Params = []
        if name:
            base.append(("name", name))
        if status:
            base.append(("status", status))
        if tags:
            base.append(("tags", ",".join(f"{k}={v}" for k, v in tags.items())))
        if server_ids is None:
            servers = await self._server_pages(base)
        else:
            # server_id=id1,id2: an id holding "," would name two servers
            ids = list(dict.fromkeys(_checked_id(i, "server", ",") for i in server_ids))
            servers = []
            for i in range(0, len(ids), SERVER_IDS_CHUNK):
                chunk = ids[i : i + SERVER_IDS_CHUNK]
                servers += await self._server_pages([*base, ("server_id", ",".join(chunk))])
            wanted = set(ids)
            servers = [s for s in servers if s.id in wanted]
        return [
            s
            for s in servers
            if (not name or name in s.name)
            and (not status or s.status == status)
            and all(s.tags.get(k) == v for k, v in (tags or {}).items())
        ]

    async def _server_pages(self, params: Params) -> list[Server]:
        """ECS marker paging (page-number ``offset`` is deprecated), until an empty page
        or until ``count``, the total as ECS documents, has been read.

        Entries for ids that do not exist (``server_id=`` answers them with only ``id``
        and ``fault``) are dropped: such a server does not exist.
        """
        out: list[Server] = []
        seen, limit = 0, self.page_limit
        marker: str | None = None
        while True:
            extra: Params = [("limit", str(limit))] + ([("marker", marker)] if marker else [])
            body = parse.as_map(
                await self._get(f"{self._ecs}/cloudservers/detail", [*params, *self._eps, *extra])
            )
            page = [parse.as_map(s) for s in parse.as_list(body.get("servers"))]
            seen += len(page)
            out += [parse.parse_server(s) for s in page if not parse.is_server_stub(s)]
            last = parse.as_map(page[-1]).get("id") if page else None
            if not page or _count(body) == seen or not last or last == marker:
                return out
            marker = str(last)

    async def get_server(self, server_id: str) -> Server | None:
        data = await self._get_or_none(
            f"{self._ecs}/cloudservers/{_segment(server_id, 'server')}", "server"
        )
        return None if data is None else parse.parse_server(data)

    # -- EVS --------------------------------------------------------------------

    async def list_volumes(
        self,
        *,
        ids: Iterable[str] | None = None,
        status: str | None = None,
        name: str | None = None,
    ) -> list[Volume]:
        base: Params = []
        if status:
            base.append(("status", status))
        if name:
            base.append(("name", name))
        if ids is None:
            return await self._volume_pages(base)
        # ids=['id1','id2']: an id holding a quote or "," would change the list
        wanted = list(dict.fromkeys(_checked_id(i, "volume", "',[]") for i in ids))
        out: list[Volume] = []
        for i in range(0, len(wanted), VOLUME_IDS_CHUNK):
            chunk = wanted[i : i + VOLUME_IDS_CHUNK]
            # the EVS list format for ids: ['id1','id2']
            out += await self._volume_pages(
                [*base, ("ids", "[" + ",".join(f"'{v}'" for v in chunk) + "]")]
            )
        keep = set(wanted)
        return [v for v in out if v.id in keep]

    async def _volume_pages(self, params: Params) -> list[Volume]:
        """EVS marker paging: marker = last id of the previous page, until an empty page
        or until ``count`` (the total regardless of paging, as EVS documents) is read."""
        out: list[Volume] = []
        limit = self.page_limit
        marker: str | None = None
        while True:
            extra: Params = [("limit", str(limit))] + ([("marker", marker)] if marker else [])
            body = parse.as_map(
                await self._get(f"{self._evs}/cloudvolumes/detail", [*params, *self._eps, *extra])
            )
            page = [parse.parse_volume(parse.as_map(v)) for v in parse.as_list(body.get("volumes"))]
            out += page
            if not page or _count(body) == len(out) or not page[-1].id or page[-1].id == marker:
                return out
            marker = page[-1].id

    # -- CBR --------------------------------------------------------------------

    async def list_backups(
        self,
        *,
        resource_id: str | None = None,
        resource_type: str | None = None,
        status: str | Sequence[str] | None = None,
        vault_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        sort: str | None = None,
        keep: Callable[[parse.Json], bool] | None = None,
    ) -> list[Backup]:
        """``keep(row)``: only the rows it accepts are parsed and returned."""
        out: list[Backup] = []
        async for page in self.backup_pages(
            resource_id=resource_id,
            resource_type=resource_type,
            status=status,
            vault_id=vault_id,
            start_time=start_time,
            end_time=end_time,
            sort=sort,
            keep=keep,
        ):
            out += page
        return out

    async def backup_pages(
        self,
        *,
        resource_id: str | None = None,
        resource_type: str | None = None,
        status: str | Sequence[str] | None = None,
        vault_id: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        sort: str | None = None,
        keep: Callable[[parse.Json], bool] | None = None,
    ) -> AsyncIterator[list[Backup]]:
        """The pages of list_backups one at a time, so a caller may stop early."""
        params: Params = []
        for key, value in (
            ("resource_id", resource_id),
            ("resource_type", resource_type),
            ("vault_id", vault_id),
            ("sort", sort),
        ):
            if value:
                params.append((key, value))
        statuses = [status] if isinstance(status, str) else list(status or [])
        params += [("status", s) for s in statuses]
        if start_time is not None:
            params.append(("start_time", time_param(start_time)))
        if end_time is not None:
            params.append(("end_time", time_param(end_time)))
        async for items in self._offset_pages(f"{self._cbr}/backups", "backups", params):
            yield [parse.parse_backup(b) for b in items if keep is None or keep(b)]

    async def get_backup(self, backup_id: str) -> Backup | None:
        data = await self._get_or_none(
            f"{self._cbr}/backups/{_segment(backup_id, 'backup')}", "backup"
        )
        return None if data is None else parse.parse_backup(data)

    async def list_vaults(self) -> list[Vault]:
        items = await self._offset_list(f"{self._cbr}/vaults", "vaults", [])
        return [parse.parse_vault(v) for v in items]

    async def get_vault(self, vault_id: str) -> Vault | None:
        data = await self._get_or_none(f"{self._cbr}/vaults/{_segment(vault_id, 'vault')}", "vault")
        return None if data is None else parse.parse_vault(data)

    async def list_operation_logs(
        self,
        *,
        operation_type: str | None = "restore",
        status: str | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        resource_id: str | None = None,
        vault_id: str | None = None,
        keep: Callable[[parse.Json], bool] | None = None,
    ) -> list[OperationLog]:
        """``keep(row)`` skips parsing rows the caller does not track (a poll lists
        every recent restore, and parsing was most of its cost); ``parse.restore_backup_id``
        reads a row's backup cheaply."""
        params: Params = [
            (k, v)
            for k, v in (
                ("operation_type", operation_type),
                ("status", status),
                ("resource_id", resource_id),
                ("vault_id", vault_id),
            )
            if v
        ]
        if start_time is not None:
            params.append(("start_time", time_param(start_time)))
        if end_time is not None:
            params.append(("end_time", time_param(end_time)))
        items = await self._offset_list(f"{self._cbr}/operation-logs", "operation_logs", params)
        if keep is not None:
            items = [o for o in items if keep(o)]
        return [parse.parse_operation_log(o) for o in items]

    async def get_operation_log(self, log_id: str) -> OperationLog | None:
        data = await self._get_or_none(
            f"{self._cbr}/operation-logs/{_segment(log_id, 'task')}", "operation_log"
        )
        return None if data is None else parse.parse_operation_log(data)

    async def restore(
        self, backup_id: str, body: dict[str, object], proceed: Callable[[], bool] | None = None
    ) -> str | None:
        """POST a restore; the job_id (= operation log id), or None for an empty 202 body.

        Never retried: on CloudTransportError check ``maybe_sent`` and look for the
        restore in the operation logs before sending it again. ``proceed()`` is asked
        right before the request leaves; False: not sent (``maybe_sent`` False).
        """
        path = f"{self._cbr}/backups/{_segment(backup_id, 'backup')}/restore"
        response = await self._send("POST", path, [], {"restore": body}, proceed)
        if not response.content.strip():
            return None
        try:
            job = parse.as_map(response.json()).get("job_id")
        except ValueError:
            return None
        return str(job) if job else None
