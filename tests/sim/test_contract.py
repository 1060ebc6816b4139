"""specs/cbr-openapi.yaml is valid OpenAPI, and the simulator's answers match it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate as validate_spec

from tests.sim.simkit import FULL_A, call, make_sim, restore

SPEC_PATH = Path(__file__).resolve().parents[2] / "specs" / "cbr-openapi.yaml"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return data


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate_spec(spec)


def _to_jsonschema(node: Any, spec: dict[str, Any]) -> Any:
    """Resolve response/parameter refs and turn OpenAPI 3.0 `nullable` into JSON Schema."""
    if isinstance(node, list):
        return [_to_jsonschema(n, spec) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref.startswith("#/components/schemas/"):
            return {"$ref": "#/$defs/" + ref.rsplit("/", 1)[1]}
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part]
        return _to_jsonschema(target, spec)
    out = {k: _to_jsonschema(v, spec) for k, v in node.items() if k not in ("nullable", "example")}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _response_schema(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    op = spec["paths"][path][method]
    resp = _to_jsonschema(op["responses"][str(status)], spec)
    schema: dict[str, Any] = resp["content"]["application/json"]["schema"]
    defs = {k: _to_jsonschema(v, spec) for k, v in spec["components"]["schemas"].items()}
    return {**schema, "$defs": defs}


def _check(spec: dict[str, Any], template: str, method: str, resp: Any) -> None:
    schema = _response_schema(spec, template, method, resp.status_code)
    jsonschema.validate(resp.json(), schema, cls=jsonschema.Draft202012Validator)


def test_answers_match_the_spec(spec: dict[str, Any]) -> None:
    sim = make_sim(quota=1)
    P = "/v3/{project_id}"
    job = restore(sim, "bk-a", {**FULL_A, "power_on": False})
    _check(spec, P + "/backups/{backup_id}/restore", "post", job)
    queued = restore(sim, "bk-vol", {"volume_id": "v-free"})
    _check(spec, P + "/backups/{backup_id}/restore", "post", queued)
    for bad in (restore(sim, "bk-a", FULL_A), restore(sim, "nope", FULL_A)):
        _check(spec, P + "/backups/{backup_id}/restore", "post", bad)
    _check(spec, P + "/backups", "get", call(sim, "GET", "/v3/{p}/backups"))
    _check(spec, P + "/backups", "get", call(sim, "GET", "/v3/{p}/backups", params={"parent_id": "bk-a"}))
    _check(spec, P + "/backups", "get", call(sim, "GET", "/v3/{p}/backups", params={"limit": 0}))
    _check(spec, P + "/backups/{backup_id}", "get", call(sim, "GET", "/v3/{p}/backups/bk-a"))
    _check(spec, P + "/backups/{backup_id}", "get", call(sim, "GET", "/v3/{p}/backups/zzz"))
    for t in (0, 1000, 5000):
        sim.clock.advance(t)  # type: ignore[attr-defined]
        _check(spec, P + "/operation-logs", "get", call(sim, "GET", "/v3/{p}/operation-logs"))
        _check(spec, P + "/operation-logs/{operation_log_id}", "get",
               call(sim, "GET", f"/v3/{{p}}/operation-logs/{job.json()['job_id']}"))
    _check(spec, P + "/operation-logs/{operation_log_id}", "get", call(sim, "GET", "/v3/{p}/operation-logs/x"))
    _check(spec, P + "/vaults", "get", call(sim, "GET", "/v3/{p}/vaults"))
    _check(spec, P + "/vaults", "get", call(sim, "GET", "/v3/{p}/vaults", params={"id": "vault-1", "limit": 1}))
    _check(spec, "/v1/{project_id}/cloudservers/detail", "get", call(sim, "GET", "/v1/{p}/cloudservers/detail"))
    _check(spec, "/v1/{project_id}/cloudservers/detail", "get",
           call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"limit": 5000}))
    _check(spec, "/v1/{project_id}/cloudservers/detail", "get",
           call(sim, "GET", "/v1/{p}/cloudservers/detail", params={"server_id": "srv-a,no-such"}))
    _check(spec, "/v1/{project_id}/cloudservers/{server_id}", "get", call(sim, "GET", "/v1/{p}/cloudservers/srv-a"))
    _check(spec, "/v1/{project_id}/cloudservers/{server_id}", "get", call(sim, "GET", "/v1/{p}/cloudservers/no"))
    _check(spec, "/v2/{project_id}/cloudvolumes/detail", "get",
           call(sim, "GET", "/v2/{p}/cloudvolumes/detail", params={"limit": 2}))
    _check(spec, "/v2/{project_id}/cloudvolumes/{volume_id}", "get", call(sim, "GET", "/v2/{p}/cloudvolumes/va-boot"))
    _check(spec, "/v2/{project_id}/cloudvolumes/{volume_id}", "get", call(sim, "GET", "/v2/{p}/cloudvolumes/no"))
    _check(spec, P + "/backups", "get", call(sim, "GET", "/v3/{p}/backups", auth=False))
    c = sim.credentials
    login = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": c.user, "password": c.password, "domain": {"name": c.domain}}}}}}
    _check(spec, "/v3/auth/tokens", "post", call(sim, "POST", "/v3/auth/tokens", json=login, auth=False))
    login["auth"]["identity"]["password"]["user"]["password"] = "x"  # type: ignore[index]
    _check(spec, "/v3/auth/tokens", "post", call(sim, "POST", "/v3/auth/tokens", json=login, auth=False))


def test_throttle_and_5xx_match_the_spec(spec: dict[str, Any]) -> None:
    sim = make_sim("429=1")
    r = restore(sim, "bk-a", FULL_A)
    _check(spec, "/v3/{project_id}/backups/{backup_id}/restore", "post", r)
    sim = make_sim("5xx=1")
    _check(spec, "/v3/{project_id}/backups/{backup_id}/restore", "post", restore(sim, "bk-a", FULL_A))
