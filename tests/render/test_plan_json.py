import json
import os
from pathlib import Path

import jsonschema
import pytest

from planner.errors import UserError
from planner.plan.model import ExecutionPlan
from planner.plan.planfile import plan_from_json
from planner.render.plan_json import (
    plan_output_schema,
    plan_to_dict,
    plan_to_json,
)

SCHEMA_PATH = Path(__file__).parents[2] / "specs" / "plan-output.schema.json"


def test_round_trip_gives_an_equal_model(tiered: ExecutionPlan, big: ExecutionPlan) -> None:
    for plan in (tiered, big):
        assert plan_from_json(plan_to_json(plan)) == plan


def test_documented_keys_sit_on_each_action(tiered: ExecutionPlan) -> None:
    data = json.loads(plan_to_json(tiered))
    db = data["actions"][0]
    assert list(db)[:4] == ["address", "action", "reason", "changes"]
    assert db["target"] == {
        "kind": "server",
        "id": "94eba8b2-acc9-4d82-badc-127144cc5526",
        "name": "db-01",
        "status": "ACTIVE",
        "az": "ap-southeast-1a",
    }
    assert db["backup"]["created_at"] == "2026-11-19T23:10:00Z"
    assert (db["disks"][0]["backup_id"], db["disks"][0]["volume_id"]) == (
        "5d822633-2bbf-4af8-a16e-5ab1c7705235",
        "eccbcfdd-f843-4bbb-b2c0-a5ce861f9376",
    )
    assert (db["power_on"], db["depends_on"], db["batch"]) == (False, [], 1)
    assert "restore" not in db
    web = next(a for a in data["actions"] if a["address"] == 'web["web-01"]')
    assert web["depends_on"] == ['app["app-01"]', 'app["app-02"]', 'app["app-03"]']
    assert data["summary"] == {
        "restore": 5,
        "re-restore": 1,
        "unchanged": 1,
        "reconcile": 1,
        "forget": 2,
        "targets_overwritten": 13,
        "total_gb": 920,
    }
    assert data["created_at"] == "2026-11-20T08:00:00Z"


def test_forget_without_restore_has_null_keys(tiered: ExecutionPlan) -> None:
    legacy = plan_to_dict(tiered)["actions"][-1]
    assert legacy["address"] == "legacy"
    assert (legacy["target"], legacy["backup"], legacy["disks"], legacy["power_on"]) == (
        None,
        None,
        [],
        None,
    )


def test_output_is_stable(tiered: ExecutionPlan) -> None:
    assert plan_to_json(tiered) == plan_to_json(plan_from_json(plan_to_json(tiered)))


def test_rendered_plans_validate_against_the_schema(
    tiered: ExecutionPlan, big: ExecutionPlan
) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for plan in (tiered, big):
        validator.validate(json.loads(plan_to_json(plan)))


def test_schema_rejects_the_nested_model_shape(tiered: ExecutionPlan) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    nested = json.loads(tiered.model_dump_json(by_alias=True))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(nested, schema)


def test_schema_file_matches_the_model() -> None:
    text = json.dumps(plan_output_schema(), indent=2) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        SCHEMA_PATH.write_text(text, encoding="utf-8")
    assert SCHEMA_PATH.read_text(encoding="utf-8") == text, (
        "specs/plan-output.schema.json is stale; UPDATE_GOLDEN=1 regenerates it"
    )


def test_accepts_the_nested_model_form(tiered: ExecutionPlan) -> None:
    assert plan_from_json(tiered.model_dump_json(by_alias=True)) == tiered


def test_refuses_lifted_keys_that_disagree_with_restore(tiered: ExecutionPlan) -> None:
    data = json.loads(tiered.model_dump_json(by_alias=True))
    data["actions"][0]["power_on"] = True
    with pytest.raises(
        UserError, match=r"actions\[0\]\.power_on disagrees with actions\[0\]\.restore\.power_on"
    ):
        plan_from_json(json.dumps(data))


def test_refuses_disks_without_target(tiered: ExecutionPlan) -> None:
    data = plan_to_dict(tiered)
    data["actions"][0]["target"] = None
    with pytest.raises(
        UserError, match=r"actions\[0\] has backup, disks, power_on, wave but no target"
    ):
        plan_from_json(json.dumps(data))


def test_bad_input_is_a_user_error() -> None:
    with pytest.raises(UserError, match="invalid JSON at line 1 column 2"):
        plan_from_json("{oops")
    with pytest.raises(UserError, match="not a restore plan: format_version is missing or not a number"):
        plan_from_json("{}")
    with pytest.raises(UserError, match="not a restore plan: created_at: Field required"):
        plan_from_json('{"format_version": 2}')
    with pytest.raises(UserError, match="format version 1, made before saved plans carried a digest"):
        plan_from_json('{"format_version": 1}')
    with pytest.raises(UserError, match="format version 99"):
        plan_from_json('{"format_version": 99}')
    with pytest.raises(UserError, match="the top level is not a JSON object"):
        plan_from_json("[]")
