"""Cloud settings from the environment (the Huawei Cloud Terraform provider's names).

Owns: which region/project/credentials/endpoints to use and refusing unsafe or
incomplete settings. Does not talk to the cloud. Secrets are held in ``Secret``
so that repr(), str() and logging of the settings never show them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from planner.errors import UserError

SERVICES = ("cbr", "ecs", "evs", "iam")
DEFAULT_CLOUD = "myhuaweicloud.com"
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

AuthMethod = Literal["token", "aksk", "password"]

# Region and project id end up in URLs (the host, the path). They may come from a
# plan file, which a pull request writes: validated here before any URL is built,
# so that "x@evil:443/" can never become the host that receives credentials.
# Every check is a fullmatch: with .match, "$" also matches before a final newline,
# and "ap-southeast-1\n" would pass. The patterns keep ^ and $ for the JSON Schema
# (specs/plan.schema.json), where they mean the whole string.
REGION_MAX = 64
# words of lowercase letters and digits joined by single dashes, the first starting
# with a letter: ap-southeast-1, cn-north-4, la-south-2, eu-west-101, sim-1
REGION_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_CLOUD_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")  # a DNS suffix, e.g. myhuaweicloud.com
REGION_HINT = (
    "a region name is lowercase letters and digits in words joined by single dashes, "
    "starting with a letter, e.g. ap-southeast-1"
)
PROJECT_ID_HINT = (
    "a project id is 32 lowercase hexadecimal digits (IAM console: My Credentials > Projects)"
)


def region_problem(value: str) -> str | None:
    """Why ``value`` is not a region name, or None when it is one."""
    if not value or len(value) > REGION_MAX or not REGION_RE.fullmatch(value):
        return f"{value[:80]!r} is not a region name"
    return None


def project_id_problem(value: str) -> str | None:
    """Why ``value`` is not a project id, or None when it is one."""
    if not PROJECT_ID_RE.fullmatch(value):
        return f"{value[:80]!r} is not a project id"
    return None


_ENV_HINT = (
    "set HW_REGION_NAME and HW_PROJECT_ID (or cloud: {region, project_id} in the plan), "
    "and one way to authenticate: "
    "HW_AUTH_TOKEN; or HW_ACCESS_KEY + HW_SECRET_KEY (+ HW_SECURITY_TOKEN); "
    "or HW_USER_NAME + HW_USER_PASSWORD + HW_DOMAIN_NAME (+ HW_AUTH_URL). "
    "HW_ENDPOINT sends every service to one base URL (e.g. the simulator)"
)


class Secret:
    """A credential value that never shows itself in repr/str/format."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        # pickling would write the secret to disk: refuse
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class CloudSettings:
    region: str
    project_id: str
    endpoints: Mapping[str, str]  # service -> base URL without trailing slash
    auth_url: str  # IAM v3 base, e.g. https://iam.cn-north-4.myhuaweicloud.com/v3
    cloud: str = DEFAULT_CLOUD
    token: Secret | None = field(default=None, repr=False)
    access_key: Secret | None = field(default=None, repr=False)
    secret_key: Secret | None = field(default=None, repr=False)
    security_token: Secret | None = field(default=None, repr=False)
    user_name: str | None = None
    password: Secret | None = field(default=None, repr=False)
    domain_name: str | None = None
    enterprise_project_id: str = ""  # HW_ENTERPRISE_PROJECT_ID, sent on every list call
    # HW_PROJECT_NAME without HW_PROJECT_ID: the client asks IAM for the id before any
    # other request (project_id is "" until then), as the Terraform provider does
    project_name: str | None = None
    # HW_MAX_RETRIES (as the Terraform provider): how often a read that failed for a
    # reason worth retrying (429, 5xx, the network) is sent again; None: the default
    # of planner.cloud.retry. A restore POST is never sent again whatever this says.
    max_retries: int | None = None

    @property
    def auth_method(self) -> AuthMethod:
        """Token wins over AK/SK, which wins over password (as the Terraform provider)."""
        if self.token is not None:
            return "token"
        if self.access_key is not None and self.secret_key is not None:
            return "aksk"
        return "password"

    def endpoint(self, service: str) -> str:
        return self.endpoints[service]

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], region: str | None = None, project_id: str | None = None
    ) -> CloudSettings:
        """``region``/``project_id``: the plan's ``cloud`` block, used when the
        environment does not name them (a mismatch is the plan pipeline's error)."""

        profile = koocli_profile(environ)

        def get(*names: str) -> str | None:
            # the environment wins; a KooCLI profile fills what it leaves unset
            for name in names:
                value = environ.get(name, "").strip() or profile.get(name, "")
                if value:
                    return value
            return None

        # a project name is REGION or REGION_SUBPROJECT (IAM): it names the region too
        env_region = (
            get("HW_REGION_NAME", "OS_REGION_NAME")
            or (get("HW_PROJECT_NAME") or "").split("_")[0]
            or None
        )
        env_project = get("HW_PROJECT_ID", "OS_PROJECT_ID")
        project_name = get("HW_PROJECT_NAME", "OS_PROJECT_NAME")
        region_from = "HW_REGION_NAME" if env_region else "cloud.region of the plan"
        project_from = "HW_PROJECT_ID" if env_project else "cloud.project_id of the plan"
        region = env_region or region
        project_id = env_project or project_id
        cloud = get("HW_CLOUD") or DEFAULT_CLOUD
        by_name = not project_id and bool(project_name)
        if by_name:
            project_id = ""  # looked up by name (CloudClient), validated then
        missing = [
            n
            for n, v in (("HW_REGION_NAME", region), ("HW_PROJECT_ID", project_id or by_name))
            if not v
        ]
        token = get("HW_AUTH_TOKEN")
        ak, sk = get("HW_ACCESS_KEY", "OS_ACCESS_KEY"), get("HW_SECRET_KEY", "OS_SECRET_KEY")
        user = get("HW_USER_NAME", "OS_USERNAME")
        password = get("HW_USER_PASSWORD", "OS_PASSWORD")
        domain = get("HW_DOMAIN_NAME")
        if bool(ak) != bool(sk):
            missing.append("HW_SECRET_KEY" if ak else "HW_ACCESS_KEY")
        has_password = bool(user and password and domain)
        if not token and not (ak and sk) and not has_password:
            if user or password or domain:
                missing += [
                    n
                    for n, v in (
                        ("HW_USER_NAME", user),
                        ("HW_USER_PASSWORD", password),
                        ("HW_DOMAIN_NAME", domain),
                    )
                    if not v
                ]
            elif not (ak or sk):
                missing.append("credentials")
        if missing or region is None or project_id is None:
            raise UserError(
                "cloud settings incomplete: missing " + ", ".join(dict.fromkeys(missing)),
                hint=_ENV_HINT,
            )
        _check_value(region_problem(region), region_from, REGION_HINT)
        if not by_name:
            _check_value(project_id_problem(project_id), project_from, PROJECT_ID_HINT)
        if not _CLOUD_RE.fullmatch(cloud):
            raise UserError(
                f"HW_CLOUD {cloud[:80]!r} is not a domain name", hint="e.g. myhuaweicloud.com"
            )
        base = get("HW_ENDPOINT")
        if base is not None:
            # a trusted operator setting (the simulator, a private gateway): used as given
            base = _checked_url(base.rstrip("/"), "HW_ENDPOINT")
            endpoints = dict.fromkeys(SERVICES, base)
        else:
            endpoints = {s: service_url(s, region, cloud) for s in SERVICES}
        auth_url = get("HW_AUTH_URL", "OS_AUTH_URL")
        if auth_url is not None:
            auth_url = _checked_url(auth_url.rstrip("/"), "HW_AUTH_URL")
        else:
            auth_url = endpoints["iam"] + "/v3"

        def secret(value: str | None) -> Secret | None:
            return Secret(value) if value else None

        return cls(
            region=region,
            project_id=project_id,
            endpoints=endpoints,
            auth_url=auth_url,
            cloud=cloud,
            token=secret(token),
            access_key=secret(ak),
            secret_key=secret(sk),
            security_token=secret(get("HW_SECURITY_TOKEN")),
            user_name=user,
            password=secret(password),
            domain_name=domain,
            enterprise_project_id=get("HW_ENTERPRISE_PROJECT_ID") or "",
            project_name=project_name if by_name else None,
            max_retries=_max_retries(get("HW_MAX_RETRIES")),
        )


# past this, backoff (capped at 30 s apart) waits longer than any read should
MAX_RETRIES_LIMIT = 20


def _max_retries(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_RETRIES_LIMIT:
        raise UserError(
            f"HW_MAX_RETRIES {text[:40]!r} is not a number of retries from 0 to {MAX_RETRIES_LIMIT}",
            hint="e.g. HW_MAX_RETRIES=5; 0 sends every read once (a restore POST never twice)",
        )
    return int(text)


# KooCLI's profile fields (as hcloud writes ~/.hcloud/config.json) -> our variables,
# the mapping the Huawei Cloud Terraform provider applies for HW_PROFILE
_PROFILE_FIELDS = {
    "accessKeyId": "HW_ACCESS_KEY",
    "secretAccessKey": "HW_SECRET_KEY",
    "securityToken": "HW_SECURITY_TOKEN",
    "region": "HW_REGION_NAME",
    "projectId": "HW_PROJECT_ID",
}


def koocli_profile(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables a KooCLI profile provides: HW_PROFILE (else the file's
    ``current``) in HW_SHARED_CONFIG_FILE (default ~/.hcloud/config.json).
    Read only when HW_PROFILE or HW_SHARED_CONFIG_FILE is set; never printed."""
    name = environ.get("HW_PROFILE", "").strip()
    path_text = environ.get("HW_SHARED_CONFIG_FILE", "").strip()
    if not name and not path_text:
        return {}
    path = (
        Path(path_text).expanduser()
        if path_text
        else Path(environ.get("HOME", "~")).expanduser() / ".hcloud" / "config.json"
    )
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(
            f"cannot read the KooCLI config {path}: {exc.strerror}",
            hint="HW_SHARED_CONFIG_FILE names the file (default ~/.hcloud/config.json)",
        ) from None
    except ValueError:
        raise UserError(
            f"the KooCLI config {path} is not JSON", hint="hcloud configure init writes it"
        ) from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    name = name or (str(data.get("current", "")) if isinstance(data, dict) else "")
    found = [p for p in profiles or [] if isinstance(p, dict) and p.get("name") == name]
    if not found:
        known = (
            ", ".join(str(p.get("name")) for p in profiles or [] if isinstance(p, dict)) or "none"
        )
        raise UserError(
            f"no KooCLI profile {name!r} in {path} (profiles: {known})",
            hint="HW_PROFILE names one; hcloud configure list shows them",
        )
    return {
        var: str(found[0][key]).strip()
        for key, var in _PROFILE_FIELDS.items()
        if isinstance(found[0].get(key), str) and found[0][key].strip()
    }


def service_url(service: str, region: str, cloud: str) -> str:
    """``https://SERVICE.REGION.CLOUD``, built from validated labels by the URL library
    (never formatted into a URL string that would be parsed again)."""
    host = ".".join((service, region, cloud))
    url = urlunsplit(("https", host, "", "", ""))
    parts = urlsplit(url)
    # second line of defence: the parsed host is exactly the labels given
    if parts.hostname != host or parts.port is not None or parts.username is not None:
        raise UserError(f"cannot build an endpoint for region {region[:80]!r}", hint=REGION_HINT)
    return url


def api_base(endpoint: str, version: str, project_id: str) -> str:
    """``ENDPOINT/VERSION/PROJECT``: the project id percent-quoted as one path segment."""
    if project_id_problem(project_id):
        raise UserError(f"{project_id[:80]!r} is not a project id", hint=PROJECT_ID_HINT)
    return f"{endpoint}/{quote(version, safe='')}/{quote(project_id, safe='')}"


def _check_value(why: str | None, source: str, hint: str) -> None:
    # a plan's cloud block is checked with its position when it loads; this is the
    # last gate, for the environment and for values from a saved plan
    if why is not None:
        raise UserError(f"{source}: {why}", hint=hint)


def _checked_url(url: str, name: str) -> str:
    """TLS is always verified; plain http only to this machine (the simulator)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS:
        return url
    if parts.scheme == "http":
        raise UserError(
            f"{name} uses plain http to {parts.hostname}: refused, credentials would travel unencrypted",
            hint="use an https:// URL; http:// is allowed only for 127.0.0.1 or localhost (the simulator)",
        )
    raise UserError(
        f"{name} is not an http(s) URL: {url!r}",
        hint="give a base URL such as https://cbr.cn-north-4.myhuaweicloud.com",
    )
