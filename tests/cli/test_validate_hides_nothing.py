"""validate reports every problem at once: an unknown key whose value is a
broken template is two errors (RP110 and RP121), not one hiding the other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PLAN = """\
version: 1
vars:
  point_in_time: "2026-11-20T00:00:00Z"
restores:
  db:
    server: {name: db-01}
    backup: {befor: "{{ point_in_tme }}"}
"""


def test_unknown_key_and_undefined_variable_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "drill.yaml").write_text(PLAN)
    out = subprocess.run([sys.executable, "-m", "planner", "validate", "drill.yaml", "--no-color"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if ": error[" in line]
    assert errors == [
        "drill.yaml:7:14: error[RP110]: unknown key 'befor' in restores.db.backup",
        "drill.yaml:7:21: error[RP121]: undefined variable 'point_in_tme'",
    ]
    assert "did you mean 'before'?" in out.stderr
    assert "did you mean 'point_in_time'?" in out.stderr
    assert out.stderr.endswith("2 errors, 0 warnings\n")
