"""docs/plan-format.md, the plan format reference, matches the code: every key the
schema allows is documented, and every key the document names in a table exists."""

from __future__ import annotations

import re
from pathlib import Path

from planner.config.schema import KNOWN_KEYS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plan-format.md").read_text(encoding="utf-8")


def _table_keys() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.MULTILINE))


def test_every_schema_key_is_documented() -> None:
    allowed = {k for keys in KNOWN_KEYS.values() for k in keys}
    documented = _table_keys() | set(re.findall(r"`\{?([a-z_]+)[,}:]", DOC)) | set(re.findall(r"`([a-z_]+)`", DOC))
    missing = sorted(allowed - documented)
    assert not missing, f"docs/plan-format.md does not mention: {missing}"


def test_every_documented_table_key_exists() -> None:
    allowed = {k for keys in KNOWN_KEYS.values() for k in keys}
    assert _table_keys() <= allowed, sorted(_table_keys() - allowed)


def test_documented_codes_exist() -> None:
    codes = set(re.findall(r"RP\d{3}", DOC))
    listed = set(re.findall(r"^\| (RP\d{3}) \|", (ROOT / "specs" / "diagnostics.md").read_text(), re.MULTILINE))
    assert codes and codes <= listed, sorted(codes - listed)


def test_the_readme_cites_the_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/plan-format.md" in readme
    assert "DESIGN section" not in readme
