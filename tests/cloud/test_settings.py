from __future__ import annotations

import logging

import pytest

from planner.cloud.settings import CloudSettings
from planner.errors import UserError

AK, SK, PW = "AKEXAMPLE0001", "SK-very-secret-value", "pa55-w0rd-secret"


def test_default_endpoints_and_aksk() -> None:
    s = CloudSettings.from_env(
        {"HW_REGION_NAME": "cn-north-4", "HW_PROJECT_ID": "p1", "HW_ACCESS_KEY": AK, "HW_SECRET_KEY": SK}
    )
    assert s.auth_method == "aksk"
    assert s.endpoint("cbr") == "https://cbr.cn-north-4.myhuaweicloud.com"
    assert s.endpoint("ecs") == "https://ecs.cn-north-4.myhuaweicloud.com"
    assert s.auth_url == "https://iam.cn-north-4.myhuaweicloud.com/v3"


def test_os_region_cloud_suffix_and_password() -> None:
    s = CloudSettings.from_env(
        {
            "OS_REGION_NAME": "eu-west-101",
            "HW_PROJECT_ID": "p1",
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
        {"HW_REGION_NAME": "sim-1", "HW_PROJECT_ID": "p", "HW_AUTH_TOKEN": "t", "HW_ENDPOINT": "http://127.0.0.1:8080/"}
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
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": "p", "HW_ACCESS_KEY": AK})
    assert info.value.message == "cloud settings incomplete: missing HW_SECRET_KEY"
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": "p", "HW_USER_NAME": "u"})
    assert info.value.message == "cloud settings incomplete: missing HW_USER_PASSWORD, HW_DOMAIN_NAME"


@pytest.mark.parametrize("url", ["http://cbr.example.com", "http://10.0.0.5:8080"])
def test_plain_http_refused_except_localhost(url: str) -> None:
    with pytest.raises(UserError) as info:
        CloudSettings.from_env({"HW_REGION_NAME": "r", "HW_PROJECT_ID": "p", "HW_AUTH_TOKEN": "t", "HW_ENDPOINT": url})
    assert "uses plain http" in info.value.message
    assert info.value.hint == "use an https:// URL; http:// is allowed only for 127.0.0.1 or localhost (the simulator)"


def test_secrets_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    s = CloudSettings.from_env(
        {
            "HW_REGION_NAME": "r",
            "HW_PROJECT_ID": "p",
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
