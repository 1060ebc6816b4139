"""Two restores of one server conflict (RP205) whether or not the backup of one of them
was found: `plan` reports both problems in one run, each at its place, instead of the
conflict only after the backup is fixed. Through the CLI, against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main
from tests.apply.drill import DrillKit, make_drill


def test_a_conflict_is_reported_beside_the_backup_that_did_not_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(2, seed=1)
    kit = DrillKit(drill, tmp_path)
    (_block, server), (_other, other_server) = sorted(drill.target.items())
    backup = next(b["id"] for b in drill.inventory["backups"] if b["resource_id"] == server)
    by_name = next(s["name"] for s in drill.inventory["servers"] if s["id"] == server)
    kit.plan.write_text(
        "version: 1\n"
        "restores:\n"
        "  first:\n"
        f"    server: {server}\n"
        f"    backup: {backup}\n"
        "  second:\n"
        f"    server: {{name: {by_name}}}\n"
        "    backup: no-such-backup\n"
        "  third:\n"
        f"    server: {other_server}\n"
        "    backup: no-such-backup-either\n"
        "    depends_on: [second]\n"
    )
    with kit.cloud():
        assert main(["plan", str(kit.plan), "--no-color"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if ": error[" in line]
    codes = sorted(line.split("error[")[1].split("]")[0] for line in lines)
    assert codes == ["RP205", "RP310", "RP310"], err
    conflict = next(line for line in lines if "RP205" in line)
    assert f"first and second both write server {server}" in conflict
    assert conflict.startswith(f"{kit.plan}:6:"), conflict  # at the second restore's block
    assert "unknown" not in err  # third's depends_on names a restore that exists
    assert kit.restores() == []
