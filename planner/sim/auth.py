"""Authentication of the simulated gateway: IAM password tokens and AK/SK.

Tokens come from ``POST /v3/auth/tokens`` (facts section 9) or are the
inventory's static token. AK/SK requests are verified by recomputing the
SDK-HMAC-SHA256 signature over the headers the client listed (facts section
10) with ``planner.cloud.signer``. A date is fresh when within 15 minutes of
wall time *or* of the simulator's clock: clients sign with wall time while a
scaled or virtual clock may be far away from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from planner.cloud import signer
from planner.sim.http import SimRequest, SimResponse, cbr_error, nested_error
from planner.sim.inventory import Credentials
from planner.timefmt import rfc3339_s

TOKEN_TTL_S = 24 * 3600.0
MAX_SKEW_S = 15 * 60.0
SIG_FAIL = "Incorrect IAM authentication information: verify aksk signature fail"


def _unauthorized(code: str, message: str) -> SimResponse:
    return cbr_error(401, code, message)


class Authenticator:
    def __init__(
        self, creds: Credentials, project_id: str, region: str, now: Callable[[], float]
    ) -> None:
        self.creds = creds
        self.project_id = project_id
        self.region = region
        self._now = now
        self._tokens: dict[str, float] = {}  # issued token -> expiry on the sim clock
        self._issued = 0

    def login(self, req: SimRequest) -> SimResponse:
        try:
            body: Any = json.loads(req.body or b"{}")
            ident = body["auth"]["identity"]
            user = ident["password"]["user"]
            name, password = user["name"], user["password"]
            domain = user.get("domain", {}).get("name", "")
        except (ValueError, KeyError, TypeError, AttributeError):
            return nested_error(
                400, "1000", "The request body is invalid: auth.identity.password.user is required."
            )
        c = self.creds
        ok = (
            "password" in ident.get("methods", [])
            and hmac.compare_digest(str(name), c.user)
            and hmac.compare_digest(str(password), c.password)
            and hmac.compare_digest(str(domain), c.domain)
        )
        if not ok:
            return SimResponse(
                401,
                {
                    "error": {
                        "code": 401,
                        "title": "Unauthorized",
                        "message": "The username or password is wrong.",
                    }
                },
            )
        now = self._now()
        self._issued += 1
        token = "MIIsim" + hashlib.sha256(f"{c.token}:{self._issued}".encode()).hexdigest()
        self._tokens[token] = now + TOKEN_TTL_S
        domain_obj = {"id": hashlib.md5(c.domain.encode()).hexdigest(), "name": c.domain}
        token_body = {
            "expires_at": _iam_time(now + TOKEN_TTL_S),
            "issued_at": _iam_time(now),
            "methods": ["password"],
            "project": {"id": self.project_id, "name": self.region, "domain": domain_obj},
            "roles": [{"id": "0", "name": "op_service"}],
            "user": {
                "id": hashlib.md5(c.user.encode()).hexdigest(),
                "name": c.user,
                "domain": domain_obj,
                "password_expires_at": "",
            },
        }
        if not req.param("nocatalog"):
            token_body["catalog"] = []
        return SimResponse(201, {"token": token_body}, {"X-Subject-Token": token})

    def check(self, req: SimRequest) -> SimResponse | None:
        """None when the request is authenticated, else the gateway's 401."""
        token = req.headers.get("x-auth-token")
        if token is not None:
            if hmac.compare_digest(token, self.creds.token):
                return None
            expiry = self._tokens.get(token)
            if expiry is None:
                return _unauthorized(
                    "APIGW.0301", "Incorrect IAM authentication information: decrypt token fail"
                )
            if expiry < self._now():
                return _unauthorized(
                    "APIGW.0301",
                    "Incorrect IAM authentication information: The token must be updated",
                )
            return None
        header = req.headers.get("authorization")
        if header is None:
            return _unauthorized(
                "APIGW.0301",
                "Incorrect IAM authentication information: Authorization not found in header",
            )
        return self.verify_signature(req, header)

    def verify_signature(self, req: SimRequest, header: str) -> SimResponse | None:
        parts = signer.parse_authorization(header)
        if parts is None or not hmac.compare_digest(parts["Access"], self.creds.access_key):
            return _unauthorized("APIGW.0301", SIG_FAIL)
        signed = parts["SignedHeaders"].split(";")
        if any(name not in req.headers for name in signed):
            return _unauthorized("APIGW.0301", SIG_FAIL)
        date = req.headers.get("x-sdk-date", "")
        try:
            ts = datetime.strptime(date, signer.DATE_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return _unauthorized("APIGW.0301", SIG_FAIL)
        if min(abs(ts - time.time()), abs(ts - self._now())) > MAX_SKEW_S:
            # an IAM AK/SK signature outside the window is APIGW.0301 like any bad one
            # (APIGW.0303 is app authentication) [cbr-facts section 15]
            return _unauthorized(
                "APIGW.0301",
                f"{SIG_FAIL}: request expired (X-Sdk-Date is more "
                "than 15 minutes from the server time)",
            )
        canonical = signer.canonical_request(
            req.method, req.path, req.query, req.headers, signed, req.body
        )
        expected = signer.signature(self.creds.secret_key, signer.string_to_sign(canonical, date))
        if not hmac.compare_digest(expected, parts["Signature"]):
            return _unauthorized("APIGW.0301", SIG_FAIL)
        return None


def _iam_time(ts: float) -> str:
    return rfc3339_s(ts).replace("Z", ".000000Z")
