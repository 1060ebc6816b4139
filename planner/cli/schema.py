"""``restore-planner schema``: print the plan JSON Schema (draft-07, for editors).

specs/plan.schema.json is this output, checked in; a test fails on drift.
"""

from __future__ import annotations

import json
from typing import Any

from planner.cli.context import Context
from planner.cli.options import SchemaOptions
from planner.cli.output import write_out
from planner.config.schema import PlanDocument

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def plan_schema() -> dict[str, Any]:
    schema = PlanDocument.model_json_schema(ref_template="#/definitions/{model}")
    defs = schema.pop("$defs", {})
    out: dict[str, Any] = {"$schema": DRAFT_07}
    out.update(schema)
    if defs:
        out["definitions"] = defs
    return out


def schema_text() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=False) + "\n"


def run(opts: SchemaOptions, ctx: Context) -> int:
    write_out(schema_text())
    return 0
