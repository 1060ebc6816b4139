"""validate, graph, plan and apply PATH run the same offline stage first
(``planner.plan.pipeline.offline``): on the same plan they report the same
problems, in the same words, before any of them looks for cloud settings or
contacts the cloud (issue 15: on a cyclic plan with no HW_* set, `plan` said
"cloud settings incomplete" while `validate` reported RP204)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from planner.cli.main import main
from tests.cli.plans import CYCLE

# a block that does not evaluate (undefined variable) and a cycle among the others:
# graph used to stop at the first, plan at the first too, validate reported both
BROKEN_AND_CYCLE = """\
version: 1
restores:
  db:
    server: 94eba8b2-acc9-4d82-badc-127144cc5526
    backup: a5200268-74a5-4806-acc6-95793ab0228b
    depends_on: [web]
  web:
    server: 94eba8b2-acc9-4d82-badc-127144cc5527
    backup: a5200268-74a5-4806-acc6-95793ab0228c
    depends_on: [db]
  app:
    server: {name: "{{ no_such_var }}"}
    backup: a5200268-74a5-4806-acc6-95793ab0228d
    depends_on: [nowhere]
"""

CASES = {
    "cycle": (CYCLE, ["RP204"]),
    "broken-block-and-cycle": (BROKEN_AND_CYCLE, ["RP204", "RP121", "RP201"]),
}
COMMANDS = [["validate"], ["graph"], ["plan"], ["apply", "--auto-approve"]]


class NoCloud(httpx.AsyncBaseTransport):
    """A cloud that records every request: an offline problem must be found without one."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url}")
        return httpx.Response(500, json={"error_code": "TEST.0001", "error_msg": "offline"})


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_command_reports_the_offline_problems_first(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, codes = CASES[case]
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    cloud = NoCloud()
    seen: dict[str, str] = {}
    for command in COMMANDS:
        # no HW_* at all: cloud settings would be incomplete, were they looked at
        rc = main([command[0], str(plan), *command[1:], "--no-color"], env={}, transport=cloud)
        out, err = capsys.readouterr()
        assert rc == 1, (command, out, err)
        seen[command[0]] = err
    assert cloud.requests == []
    first = seen["validate"]
    assert [line.split("error[")[1][:5] for line in first.splitlines() if "error[" in line] == codes
    assert "cloud settings" not in first
    for name, err in seen.items():
        assert err == first, name
    # nothing was planned or written beside the plan but (apply's) lock directory
    assert not list(tmp_path.glob("**/state.json"))


def test_plan_without_cloud_settings_reports_the_cycle(tmp_path: Path) -> None:
    """The issue's example, as a user runs it: a subprocess with no HW_* variable."""
    (tmp_path / "plan.yaml").write_text(CYCLE)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "planner", "plan", "plan.yaml", "--no-color"],
        capture_output=True, text=True, cwd=tmp_path, env={**env, "PYTHONPATH": ":".join(sys.path)},
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "plan.yaml:7:" in out.stderr
    assert "error[RP204]: dependency cycle: app -> db -> app" in out.stderr
    assert "cloud settings" not in out.stderr
