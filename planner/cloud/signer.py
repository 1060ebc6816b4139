"""AK/SK request signing, ``SDK-HMAC-SHA256``, exactly as the official SDK does it.

Pure functions over (method, url parts, headers, body) so the client (as an
``httpx.Auth``, see ``planner.cloud.auth``) and the simulator (verifying) share
one implementation. Facts: shared/api/cbr-facts.md section 10.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "X-Sdk-Date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def canonical_uri(path: str) -> str:
    segments = unquote(path).split("/")
    uri = "/".join(quote(seg, safe="~") for seg in segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    pairs = sorted((str(k), str(v)) for k, v in params)
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    return sorted({k.lower() for k in headers if "_" not in k})


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed: list[str],
    body: bytes,
) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    canon_headers = "".join(f"{name}:{lowered[name].strip()}\n" for name in signed)
    payload_hash = lowered.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canon_headers,
            ";".join(signed),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret_key: str, to_sign: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    access_key: str,
    secret_key: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The Authorization header value. ``headers`` must already hold Host and X-Sdk-Date."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signed = signed_header_names(headers)
    canonical = canonical_request(method, path, query, headers, signed, body)
    sig = signature(secret_key, string_to_sign(canonical, lowered["x-sdk-date"]))
    return f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed)}, Signature={sig}"


def parse_authorization(value: str) -> dict[str, str] | None:
    """Split ``SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...``; None if malformed."""
    if not value.startswith(ALGORITHM + " "):
        return None
    out: dict[str, str] = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        key, sep, val = part.strip().partition("=")
        if not sep:
            return None
        out[key] = val
    if not {"Access", "SignedHeaders", "Signature"} <= out.keys():
        return None
    return out
