"""Every diagnostic code the planner can emit is documented in specs/diagnostics.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_in_the_source_is_documented() -> None:
    used = set()
    for path in (ROOT / "planner").rglob("*.py"):
        used |= set(re.findall(r"[\"'](RP\d{3})[\"']", path.read_text()))
    documented = set(re.findall(r"^\| (RP\d{3}) \|", (ROOT / "specs" / "diagnostics.md").read_text(), re.M))
    assert len(used) > 60
    assert not used - documented, f"undocumented: {sorted(used - documented)}"
    assert not documented - used, f"documented but never emitted: {sorted(documented - used)}"
