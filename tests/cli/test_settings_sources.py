"""Credential sources the Huawei Cloud Terraform provider and KooCLI accept:
HW_PROJECT_NAME (names the region) and a KooCLI profile (HW_PROFILE in
~/.hcloud/config.json, as `hcloud configure` writes it). The environment wins;
credentials are never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cloud.settings import CloudSettings
from planner.errors import UserError

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
KOOCLI = {
    "language": "en",
    "current": "default",
    "profiles": [
        {"name": "default", "mode": "AKSK", "accessKeyId": "AKDEFAULT", "secretAccessKey": "sk-default",
         "securityToken": "", "region": "cn-north-4", "projectId": "", "domainId": ""},
        {"name": "drill", "mode": "AKSK", "accessKeyId": "AKDRILL0000000000", "secretAccessKey": "sk-drill-secret",
         "securityToken": "", "region": "ap-southeast-1", "projectId": PROJECT, "domainId": ""},
    ],
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".hcloud").mkdir()
    (tmp_path / ".hcloud" / "config.json").write_text(json.dumps(KOOCLI))
    return tmp_path


def test_koocli_profile_supplies_region_project_and_aksk(home: Path) -> None:
    s = CloudSettings.from_env({"HOME": str(home), "HW_PROFILE": "drill"})
    assert (s.region, s.project_id, s.auth_method) == ("ap-southeast-1", PROJECT, "aksk")
    assert s.access_key is not None and s.access_key.reveal() == "AKDRILL0000000000"
    assert "sk-drill-secret" not in repr(s)


def test_the_environment_wins_over_the_profile(home: Path) -> None:
    s = CloudSettings.from_env({"HOME": str(home), "HW_PROFILE": "drill", "HW_REGION_NAME": "eu-west-101",
                                "HW_AUTH_TOKEN": "tok"})
    assert (s.region, s.project_id, s.auth_method) == ("eu-west-101", PROJECT, "token")


def test_current_profile_of_a_named_config_file(home: Path) -> None:
    s = CloudSettings.from_env({"HW_SHARED_CONFIG_FILE": str(home / ".hcloud" / "config.json"),
                                "HW_PROJECT_ID": PROJECT})
    assert (s.region, s.access_key.reveal() if s.access_key else None) == ("cn-north-4", "AKDEFAULT")


def test_unknown_profile_names_the_known_ones(home: Path) -> None:
    with pytest.raises(UserError) as err:
        CloudSettings.from_env({"HOME": str(home), "HW_PROFILE": "prod"})
    assert err.value.message == f"no KooCLI profile 'prod' in {home}/.hcloud/config.json (profiles: default, drill)"


def test_project_name_names_the_region() -> None:
    env = {"HW_PROJECT_NAME": "ap-southeast-1_drill", "HW_PROJECT_ID": PROJECT, "HW_AUTH_TOKEN": "t"}
    assert CloudSettings.from_env(env).region == "ap-southeast-1"
    assert CloudSettings.from_env({**env, "HW_PROJECT_NAME": "cn-north-4"}).region == "cn-north-4"


def test_a_profiles_secret_never_reaches_output(home: Path, tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text("version: 1\nrestores:\n  db:\n    server: {name: db-01}\n"
                                        "    backup: {before: \"2026-11-20T00:00:00Z\"}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HW_")}
    # nothing listens there; a read is not retried for half a minute (HW_MAX_RETRIES)
    env.update({"HOME": str(home), "HW_PROFILE": "drill", "HW_ENDPOINT": "http://127.0.0.1:9",
                "HW_MAX_RETRIES": "0"})
    out = subprocess.run([sys.executable, "-m", "planner", "plan", ".", "--debug"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 1
    assert "sk-drill-secret" not in out.stdout + out.stderr
    assert "AKDRILL0000000000" not in out.stdout + out.stderr
