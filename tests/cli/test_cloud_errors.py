"""A cloud error that ends a command is one line and a hint, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from planner.cli.context import Connection, connecting
from planner.cli.main import main
from planner.clock import VirtualClock

PLAN = "version: 1\ncloud: {region: r1, project_id: 0a1b2c3d4e5f60718293a4b5c6d7e8f9}\nrestores:\n  db:\n    server: s1\n    backup: b1\n"


@pytest.fixture
def cloud(request: pytest.FixtureRequest) -> Iterator[Connection]:
    """``main`` talks to a mock cloud answering with ``request.param`` (the process
    environment is not touched: the connection carries its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    env.update({"HW_AUTH_TOKEN": "t0k3n", "HW_ENDPOINT": "https://cloud.example.com"})
    conn = Connection(env, httpx.MockTransport(request.param), VirtualClock(1.8e9))
    with connecting(conn):
        yield conn


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("All connection attempts failed", request=request)


def _forbidden(request: httpx.Request) -> httpx.Response:
    return httpx.Response(403, json={"error_code": "APIGW.0305", "error_msg": "forbidden"})


@pytest.mark.parametrize(
    ("cloud", "hint"),
    [
        (_refused, "hint: check the network and the endpoint"),
        (_forbidden, "hint: the credentials lack a permission"),
    ],
    indirect=["cloud"],
)
def test_cloud_errors_end_with_a_hint(
    cloud: Connection, hint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    assert main(["plan", str(tmp_path / "plan.yaml"), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: GET https://cloud.example.com/"), err
    assert hint in err
    assert "Traceback" not in err and "This is a bug" not in err
    assert "t0k3n" not in err
    # a lasting outage is announced while it is retried, not only at the end
    notes = [r.getMessage() for r in caplog.records if "the cloud is not answering" in r.getMessage()]
    assert bool(notes) == (hint.startswith("hint: check the network")), notes
