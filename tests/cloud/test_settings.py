from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from planner.cloud.settings import CloudSettings, api_base, service_url
from planner.errors import UserError

AK, SK, PW = "AKEXAMPLE0001", "SK-very-secret-value", "pa55-w0rd-secret"
P = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def test_default_endpoints_and_aksk() -> None:
    s = CloudSettings.from_env(
        {"HW_REGION_NAME": "cn-north-4", "HW_PROJECT_ID": P, "HW_ACCESS_KEY": AK, "HW_SECRET_KEY": SK}
    )
    assert s.auth_method == "aksk"
    assert s.endpoint("cbr") == "https://cbr.cn-north-4.myhuaweicloud.com"
    assert s.endpoint("ecs") == "https://ecs.cn-north-4.myhuaweicloud.com"
    assert s.auth_url == "https://iam.cn-north-4.myhuaweicloud.com/v3"


def test_os_region_cloud_suffix_and_password() -> None:
    s = CloudSettings.from_env(
        {
            "OS_REGION_NAME": "eu-west-101",
            "HW_PROJECT_ID": P,
            "HW_CLOUD": "myhuaweicloud.eu",
            "HW_USER_NAME": "ops",
            "HW_USER_PASSWORD": PW,
            "HW_DOMAIN_NAME": "acme",
        }
    )
    assert s.auth_method == "password"
    assert s.endpoint("evs") == "https://evs.eu-west-101.myhuaweicloud.eu"


def test_one_endpoint_for_every_service() -> None:
    s = CloudSettings.from_env(
        {"HW_REGION_NAME": "sim-1", "HW_PROJECT_ID": P, "HW_AUTH_TOKEN": "t", "HW_ENDPOINT": "http://127.0.0.1:8080/"}
    )
    assert {s.endpoint(x) for x in ("cbr", "ecs", "evs", "iam")} == {"http://127.0.0.1:8080"}
    assert s.auth_url == "http://127.0.0.1:8080/v3"
    assert s.auth_method == "token"


def test_missing_everything_lists_the_variables() -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({})
    assert info.value.message == "cloud settings incomplete: missing HW_REGION_NAME, HW_PROJECT_ID, credentials"
    assert "HW_AUTH_TOKEN" in info.value.hint and "HW_ACCESS_KEY + HW_SECRET_KEY" in info.value.hint
    assert "HW_USER_NAME + HW_USER_PASSWORD + HW_DOMAIN_NAME" in info.value.hint


def test_half_a_key_pair_or_password_is_named() -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": P, "HW_ACCESS_KEY": AK})
    assert info.value.message == "cloud settings incomplete: missing HW_SECRET_KEY"
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": P, "HW_USER_NAME": "u"})
    assert info.value.message == "cloud settings incomplete: missing HW_USER_PASSWORD, HW_DOMAIN_NAME"


@pytest.mark.parametrize("url", ["http://cbr.example.com", "http://10.0.0.5:8080"])
def test_plain_http_refused_except_localhost(url: str) -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": P, "HW_AUTH_TOKEN": "t", "HW_ENDPOINT": url})
    assert "uses plain http" in info.value.message
    assert info.value.hint == "use an https:// URL; http:// is allowed only for 127.0.0.1 or localhost (the simulator)"


def test_secrets_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    s = CloudSettings.from_env(
        {
            "HW_REGION_NAME": "r",
            "HW_PROJECT_ID": P,
            "HW_AUTH_TOKEN": "tok-123-secret",
            "HW_ACCESS_KEY": AK,
            "HW_SECRET_KEY": SK,
            "HW_SECURITY_TOKEN": "sts-secret",
            "HW_USER_NAME": "u",
            "HW_USER_PASSWORD": PW,
            "HW_DOMAIN_NAME": "d",
        }
    )
    caplog.set_level(logging.DEBUG)
    logging.getLogger("t").debug("settings %s %r %s", s, s, s.token)
    shown = repr(s) + str(s) + f"{s.secret_key}" + repr(s.password) + caplog.text
    for secret in ("tok-123-secret", AK, SK, "sts-secret", PW):
        assert secret not in shown
    assert s.token is not None and s.token.reveal() == "tok-123-secret"


# --- region and project id are validated before any URL is built (issue 10, item 2) ---

BAD_REGIONS = ["x@127.0.0.1:18443/", "a.b", "A-1", "r/../x", "r?x", "r#x", "r:443", "", "r" * 65, "r\u202e1"]


@pytest.mark.parametrize("region", [r for r in BAD_REGIONS if r])
def test_bad_region_from_the_environment_is_a_user_error(region: str) -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": region, "HW_PROJECT_ID": P, "HW_AUTH_TOKEN": "t"})
    assert info.value.message == f"HW_REGION_NAME: {region[:80]!r} is not a region name"
    assert info.value.hint == (
        "a region name is lowercase letters and digits in words joined by single dashes, "
        "starting with a letter, e.g. ap-southeast-1"
    )


@pytest.mark.parametrize("project", ["p1", "0a1b2c3d4e5f60718293a4b5c6d7e8f", P + "0", "../" + P[3:], P.upper()])
def test_bad_project_id_is_a_user_error(project: str) -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": project, "HW_AUTH_TOKEN": "t"})
    assert info.value.message == f"HW_PROJECT_ID: {project!r} is not a project id"
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_AUTH_TOKEN": "t"}, project_id=project)
    assert info.value.message == f"cloud.project_id of the plan: {project!r} is not a project id"


def test_bad_region_from_the_plan_is_named_as_such() -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_PROJECT_ID": P, "HW_AUTH_TOKEN": "t"}, region="x@127.0.0.1:1/")
    assert info.value.message == "cloud.region of the plan: 'x@127.0.0.1:1/' is not a region name"


def test_bad_cloud_suffix_is_refused() -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": P, "HW_AUTH_TOKEN": "t", "HW_CLOUD": "x@evil.com/"})
    assert info.value.message == "HW_CLOUD 'x@evil.com/' is not a domain name"


def test_hw_max_retries_is_a_small_count() -> None:
    base = {"HW_REGION_NAME": "r", "HW_PROJECT_ID": P, "HW_AUTH_TOKEN": "t"}
    assert CloudSettings.from_env(base).max_retries is None  # the retry policy's default
    assert CloudSettings.from_env({**base, "HW_MAX_RETRIES": "0"}).max_retries == 0
    assert CloudSettings.from_env({**base, "HW_MAX_RETRIES": " 20 "}).max_retries == 20
    for bad in ("-1", "21", "3.5", "five", "\uff13", "1e3"):
        with pytest.raises(UserError) as info:
            CloudSettings.from_env({**base, "HW_MAX_RETRIES": bad})
        assert info.value.message == (
            f"HW_MAX_RETRIES {bad!r} is not a number of retries from 0 to 20"
        )


def test_urls_come_from_the_url_library() -> None:
    assert service_url("iam", "ap-southeast-1", "myhuaweicloud.com") == "https://iam.ap-southeast-1.myhuaweicloud.com"
    assert api_base("https://cbr.r.example.com", "v3", P) == f"https://cbr.r.example.com/v3/{P}"
    with pytest.raises(UserError):
        service_url("iam", "x@127.0.0.1:1/", "myhuaweicloud.com")
    with pytest.raises(UserError):
        api_base("https://cbr.r.example.com", "v3", "../../x")


class _Listener:
    """A TCP listener on 127.0.0.1 that records every connection it is offered."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(1.0)
            try:
                self.received.append(conn.recv(65536) or b"(connected)")
            except OSError:
                self.received.append(b"(connected)")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def _run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    return subprocess.run(
        [sys.executable, "-m", "planner", *args], env={**base, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("auth", ["password", "token"])
def test_plan_region_cannot_send_credentials_elsewhere(tmp_path: Path, command: str, auth: str) -> None:
    listener = _Listener()
    try:
        region = f"x@127.0.0.1:{listener.port}/"
        (tmp_path / "p.yaml").write_text(
            "version: 1\n"
            f'cloud: {{region: "{region}"}}\n'
            "restores:\n  db:\n    server: {name: db-01}\n    backup: {before: 2026-11-20T00:00:00Z}\n"
        )
        creds = (
            {"HW_USER_NAME": "ops", "HW_USER_PASSWORD": PW, "HW_DOMAIN_NAME": "acme"}
            if auth == "password"
            else {"HW_AUTH_TOKEN": "tok-SECRET-123"}
        )
        extra = ["--auto-approve"] if command == "apply" else []
        done = _run_cli([command, "p.yaml", *extra], {"HW_PROJECT_ID": P, **creds}, tmp_path)
    finally:
        listener.close()
    assert listener.received == []
    assert done.returncode == 1, done.stderr
    assert "p.yaml:2:17: error[RP111]: cloud.region: " + repr(region) + " is not a region name" in done.stderr
    assert PW not in done.stdout + done.stderr and "tok-SECRET-123" not in done.stdout + done.stderr
