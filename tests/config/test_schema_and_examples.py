from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from planner.cli.main import main
from planner.cli.schema import schema_text

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = ROOT / "specs" / "plan.schema.json"
EXAMPLES = sorted((ROOT / "specs" / "examples").glob("*/plan.yaml"))


def test_checked_in_schema_matches_models() -> None:
    assert SCHEMA.read_text() == schema_text(), (
        "specs/plan.schema.json is stale; refresh it with: "
        ".venv/bin/python -m planner schema > specs/plan.schema.json"
    )


def test_schema_is_draft_07_without_defs() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    assert "$defs" not in SCHEMA.read_text()
    assert "#/definitions/Restore" in SCHEMA.read_text()


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_is_valid(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert example.read_text().startswith("# yaml-language-server: $schema=../../plan.schema.json\n")
    assert main(["validate", str(example), "--no-color"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("Valid: ")
    # editors see the same file through the JSON Schema
    jsonschema.validate(yaml.safe_load(example.read_text()), json.loads(SCHEMA.read_text()))


def test_drill_example_is_generated() -> None:
    from tests.config.drill_example import drill

    assert (ROOT / "specs" / "examples" / "drill-300" / "plan.yaml").read_text() == drill(), (
        "refresh with: .venv/bin/python tests/config/drill_example.py > specs/examples/drill-300/plan.yaml"
    )


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(SCHEMA.read_text())
    bad = {"version": 1, "restores": {"db": {"server": "s", "volume": "v", "backup": "b"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
