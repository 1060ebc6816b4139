"""The ids a plan gives (backup, server, volume, resource, vault, source, disks) have
the shape of an id, checked at their position when the plan loads: they become
request paths, and a pull request writes the plan (review: ids in URLs). Names
({name: ...}, select's glob) are not ids and keep any character."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from planner.cli.context import Connection, connecting
from planner.cli.main import main
from planner.clock import VirtualClock
from planner.config.load import load_plan
from planner.config.schema import cloud_id_problem

UUID = "94eba8b2-acc9-4d82-badc-127144cc5526"
PROJECT = "f841e01fd2b14e7fa41b6ae7aa6b0594"
BAD = ["../../../x/y", "a?b=c#d", "a\r\nb", "", ".", "..", "a/b", "a b", "a%2f", "-a", ".a", "é", "x" * 129]


def _load(tmp_path: Path, text: str) -> tuple[object, list[str]]:
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")
    config, diags = load_plan(str(tmp_path / "plan.yaml"), [], [])
    return config, [
        (f"{d.code} {d.range.line}:{d.range.col} {d.summary}" if d.range else f"{d.code} {d.summary}")
        + (f" | {d.detail}" if d.detail else "")
        for d in diags
    ]


def _q(value: str) -> str:
    """A YAML double-quoted scalar of ``value``."""
    return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(
    ("field", "line", "col", "what", "template"),
    [
        ("backup", 5, 13, "backup", "    server: {uuid}\n    backup: {bad}\n"),
        ("server", 4, 13, "server", "    server: {bad}\n    backup: b1\n"),
        ("volume", 4, 13, "volume", "    volume: {bad}\n    backup: b1\n"),
        ("resource", 4, 15, "resource", "    resource: {bad}\n    backup: b1\n"),
        ("backup.vault", 5, 21, "vault", "    server: {uuid}\n    backup: {{vault: {bad}}}\n"),
        ("backup.source", 5, 22, "server or volume", "    server: {uuid}\n    backup: {{source: {bad}}}\n"),
        ("disks[0].backup", 7, 16, "backup", "    server: {uuid}\n    backup: b1\n    disks:\n    - {{backup: {bad}, volume: {uuid}}}\n"),
        ("disks[0].volume", 7, 16, "volume", "    server: {uuid}\n    backup: b1\n    disks:\n    - {{volume: {bad}, backup: {uuid}}}\n"),
    ],
)  # fmt: skip
def test_a_bad_id_is_a_positioned_diagnostic(
    tmp_path: Path, bad: str, field: str, line: int, col: int, what: str, template: str
) -> None:
    body = template.format(bad=_q(bad), uuid=UUID)
    config, diags = _load(tmp_path, f"version: 1\nrestores:\n  db:\n{body}")
    assert config is None
    shown = repr(bad if len(bad) <= 80 else bad[:80] + "...")
    assert diags == [
        f"RP111 {line}:{col} restores.db.{field}: {shown} is not a {what} id: an id is letters, "
        "digits, '_', '-' and '.' (not first), at most 128 characters | "
        + diags[0].split("at most 128 characters | ", 1)[1]
    ], diags
    assert " | give the" in diags[0]  # the advice is the hint, on a line of its own


def test_a_templated_id_is_checked_once_rendered(tmp_path: Path) -> None:
    text = 'version: 1\nrestores:\n  app:\n    for_each: ["ok-1", "../../x"]\n    server: "{{ each.value }}"\n    backup: b1\n'
    config, diags = _load(tmp_path, text)
    assert config is None
    assert len(diags) == 1 and diags[0].startswith("RP111 5:13 restores.app.server: '../../x' is not a server id")


@pytest.mark.parametrize(
    "target",
    [UUID, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "s1", "srv-a", "0b6c3e5f-sfs", "a.b", "A_1", "x" * 128],
)
def test_real_ids_are_ids(tmp_path: Path, target: str) -> None:
    text = (
        f"version: 1\nrestores:\n  db:\n    server: {target}\n"
        f"    backup: {{before: '2026-01-01T00:00:00Z', vault: {target}, source: {target}}}\n"
        f"    disks: [{{backup: {target}, volume: {target}}}]\n"
        f"  v:\n    volume: {target}\n    backup: {target}\n  r:\n    resource: {target}\n    backup: {target}\n"
    )
    config, diags = _load(tmp_path, text)
    assert diags == [] and config is not None


def test_names_are_not_ids(tmp_path: Path) -> None:
    text = (
        'version: 1\nrestores:\n  a:\n    server: {name: "web 01 / é?#"}\n    backup: b1\n'
        '  b:\n    volume: {name: "data 01"}\n    backup: b2\n'
        '  c:\n    select: {kind: server, name: "web *"}\n    backup: {before: "2026-01-01T00:00:00Z"}\n'
    )
    config, diags = _load(tmp_path, text)
    assert diags == [] and config is not None


def test_cloud_id_problem() -> None:
    assert cloud_id_problem(UUID, "backup") is None
    assert cloud_id_problem("a\n", "backup") is not None  # fullmatch: no trailing newline
    assert cloud_id_problem("a" * 129, "backup") is not None


# --- the cloud block: a trailing newline or a dash is no region or project id ---


@pytest.mark.parametrize(
    ("cloud", "col", "why"),
    [
        ('{region: ap-southeast-1, project_id: "' + PROJECT + '\\n"}', 45, f"{PROJECT + chr(10)!r} is not a project id"),
        ('{region: "ap-southeast-1\\n"}', 17, "'ap-southeast-1\\n' is not a region name"),
        ('{region: "-"}', 17, "'-' is not a region name"),
        ('{region: "ap--southeast-1"}', 17, "'ap--southeast-1' is not a region name"),
    ],
)  # fmt: skip
def test_cloud_block_values_are_whole_matches(tmp_path: Path, cloud: str, col: int, why: str) -> None:
    text = f"version: 1\ncloud: {cloud}\nrestores:\n  db:\n    server: {UUID}\n    backup: b1\n"
    config, diags = _load(tmp_path, text)
    assert config is None
    assert len(diags) == 1 and diags[0].startswith(f"RP111 2:{col} cloud."), diags
    assert why in diags[0]


# --- through the CLI: a diagnostic, no traceback, and not one request ---


@pytest.fixture
def recorded() -> Iterator[list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error_code": "BackupService.6200", "error_msg": "no"})

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    env.update({"HW_AUTH_TOKEN": "t0k3n", "HW_ENDPOINT": "http://127.0.0.1:9"})
    with connecting(Connection(env, httpx.MockTransport(handler), VirtualClock(1.8e9))):
        yield seen


@pytest.mark.parametrize(
    ("backup", "col"),
    [('"../../../x/y"', 13), ('"a?b=c#d"', 13), ('"a\\r\\nb"', 13), ('{vault: "../v"}', 21)],
)
def test_cli_plan_with_a_bad_id_sends_nothing(
    recorded: list[httpx.Request], tmp_path: Path, capsys: pytest.CaptureFixture[str], backup: str, col: int
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        f"version: 1\ncloud: {{region: ap-southeast-1, project_id: {PROJECT}}}\n"
        f"restores:\n  db:\n    server: {UUID}\n    backup: {backup}\n"
    )
    assert main(["plan", str(plan), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert f"{plan}:6:{col}: error[RP111]: restores.db.backup" in err, err
    assert "hint:" in err or "give the" in err
    assert "Traceback" not in err and "This is a bug" not in err and "unexpected problem" not in err
    assert recorded == []


@pytest.mark.parametrize(
    "cloud",
    ['{region: ap-southeast-1, project_id: "' + PROJECT + '\\n"}', '{region: "ap-southeast-1\\n", project_id: ' + PROJECT + "}"],
)  # fmt: skip
def test_cli_plan_with_a_newline_in_the_cloud_block_sends_nothing(
    recorded: list[httpx.Request], tmp_path: Path, capsys: pytest.CaptureFixture[str], cloud: str
) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"version: 1\ncloud: {cloud}\nrestores:\n  db:\n    server: {UUID}\n    backup: b1\n")
    assert main(["plan", str(plan), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert f"{plan}:2:" in err and "error[RP111]: cloud." in err, err
    assert "Traceback" not in err and "cannot build an endpoint" not in err
    assert recorded == []
