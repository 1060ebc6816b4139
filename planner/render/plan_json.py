"""The public JSON view of an ExecutionPlan: ``plan --format json``, ``--out`` and ``show``.

Owns the mapping between the model (``planner.plan.model``) and the documented
output (``specs/plan-output.schema.json``). The model nests what a restore
touches under ``restore``; the public view lifts ``target``, ``backup``,
``disks``, ``power_on``, ``destination_path``, ``depends_on`` and ``wave`` to the
action itself, so ``actions[].target.id`` is where a reader expects it. A forget
action without a restore has those keys set to null (lists empty).

Keys keep the model's field order (stable, not sorted); the summary uses its
alias ``re-restore``; datetimes are RFC 3339 in UTC with ``Z``.
It does not read or write files, nor read a plan back: loading a saved plan
(the reverse mapping, with its checks) is ``planner.plan.planfile``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from planner.plan.model import PLAN_FORMAT_VERSION, Action, ExecutionPlan
from planner.render.fmt import rfc3339

# Restore fields shown at action level, in output order.
LIFTED = ("target", "backup", "disks", "power_on", "destination_path", "depends_on", "wave")
_LIFTED_EMPTY: dict[str, Any] = {
    "target": None,
    "backup": None,
    "disks": [],
    "power_on": None,
    "destination_path": None,
    "depends_on": [],
    "wave": None,
}
# Documented meanings for the keys readers rely on (DESIGN section 6).
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Action": {
        "address": 'The restore instance address, e.g. db or app["app-01"].',
        "action": "restore (+), re-restore (~), unchanged (=), reconcile (!), forget (-).",
        "reason": "Why this action, e.g. not in state, backup a -> b.",
        "changes": "For a re-restore: what differs from state, one line each; for a reconcile: what the plan files now want instead, and a --replace not applied; for a forget: what state held.",
        "target": "What the restore overwrites.",
        "backup": "The backup restored from.",
        "disks": "Child (disk) backup -> target volume; empty for a volume or resource restore.",
        "power_on": "Whether the server is started after the restore.",
        "depends_on": "Instance addresses that must succeed first.",
        "batch": "Execution batch (1-based); null for actions that make no cloud call.",
        "estimate_s": "Estimated duration in seconds.",
        "task_id": "For a reconcile: the restore task to look up before anything else.",
        "facts": "Fact name -> value the action relies on; apply refuses the plan when one moved. "
        "Required (non-empty, naming the backup and the target) for restore, re-restore and "
        "reconcile: a saved plan with such an action without them is refused.",
    },
    "ExecutionPlan": {
        "digest": "sha256 over the canonical JSON (sorted keys, no spaces, UTF-8) of this "
        "object without digest; apply refuses a saved plan whose content does not match it, "
        "and --require-digest applies only a plan with this digest.",
        "created_at": "When the plan was made (the client's clock).",
        "cloud_created_at": "When the plan was made on the cloud's clock; apply refuses the "
        "saved plan when the cloud's operation logs show a restore of one of its targets since.",
    },
    "StateRef": {
        "lineage": "Lineage of the state the plan was made against; null when there was no state yet.",
        "serial": "Serial of that state.",
        "path": "The state as the command line named it.",
        "location": "Its resolved absolute path: the only state apply of this saved plan uses.",
        "identity": "sha256 of the state's content when the plan was made; empty without a state.",
    },
    "Summary": {
        "restore": "Number of restore actions.",
        "re-restore": "Number of re-restore actions.",
        "unchanged": "Number of unchanged actions.",
        "reconcile": "Number of reconcile actions.",
        "forget": "Number of forget actions.",
        "targets_overwritten": "Distinct servers and volumes the plan overwrites.",
        "total_gb": "Data restored, in GB.",
    },
}


def plan_to_dict(plan: ExecutionPlan) -> dict[str, Any]:
    """The public view as plain JSON values (what ``plan_to_json`` prints)."""
    data = plan.model_dump(mode="python", by_alias=True)
    data["actions"] = [_action_view(a) for a in plan.actions]
    out = _jsonable(data)
    assert isinstance(out, dict)
    return out


def plan_to_json(plan: ExecutionPlan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"


def plan_output_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of the public view, generated from the model.

    specs/plan-output.schema.json is this function's output; a test fails on drift.
    """
    schema = ExecutionPlan.model_json_schema(by_alias=True, mode="serialization")
    defs: dict[str, Any] = schema["$defs"]
    action = defs["Action"]
    restore = defs["Restore"]
    props: dict[str, Any] = {}
    for key, value in action["properties"].items():
        if key == "restore":
            for lifted in LIFTED:
                props[lifted] = _nullable_lifted(lifted, restore["properties"][lifted])
        else:
            props[key] = value
    action["properties"] = props
    action["description"] = (
        "One planned action. target, backup, disks, power_on, destination_path, "
        "depends_on and wave describe the restore; for a forget they describe what "
        "state held, or are null (lists empty) when state held nothing more."
    )
    del defs["Restore"]
    # Everything plan_to_json writes is always present: say so.
    for name, model in (("ExecutionPlan", schema), *defs.items()):
        if model.get("type") != "object" or "properties" not in model:
            continue
        model["required"] = list(model["properties"])
        for key, prop in model["properties"].items():
            prop.pop("title", None)  # pydantic's "Estimate S" titles say nothing
            if key in _DESCRIPTIONS.get(name, {}):
                prop["description"] = _DESCRIPTIONS[name][key]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "restore-planner plan output",
        "description": (
            "What `restore-planner plan --format json` prints and `plan --out` saves "
            f"(format_version {PLAN_FORMAT_VERSION}). Generated from planner.plan.model "
            "by planner.render.plan_json.plan_output_schema."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def _nullable_lifted(key: str, prop: dict[str, Any]) -> dict[str, Any]:
    if _LIFTED_EMPTY[key] == []:
        return prop
    if "anyOf" in prop:  # already nullable (destination_path, wave)
        return prop
    extra = {k: v for k, v in prop.items() if k in ("title", "description")}
    inner = {k: v for k, v in prop.items() if k not in ("title", "description", "default")}
    return {"anyOf": [inner, {"type": "null"}], **extra}


def _action_view(action: Action) -> dict[str, Any]:
    raw = action.model_dump(mode="python", by_alias=True)
    restore = raw.pop("restore")
    lifted = dict(_LIFTED_EMPTY) if restore is None else {k: restore[k] for k in LIFTED}
    view: dict[str, Any] = {}
    for key, value in raw.items():
        view[key] = value
        if key == "changes":  # lifted keys sit right after what changes
            view.update(lifted)
    return view


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


__all__ = [
    "LIFTED",
    "plan_output_schema",
    "plan_to_dict",
    "plan_to_json",
]
