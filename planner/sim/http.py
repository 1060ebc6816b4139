"""Framework-free request/response values and error bodies of the simulator.

Both the Starlette app and the in-process transport translate to and from
these, so the same core answers both. Error body shapes per cbr-facts.md
section 1: CBR and the gateway ``{"error_code", "error_msg"}``, ECS/EVS
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from planner.sim.faults import Faults


@dataclass(slots=True)
class SimRequest:
    method: str
    path: str  # raw (percent-encoded) path as sent
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def param(self, name: str) -> str | None:
        values = self.params(name)
        return values[-1] if values else None


@dataclass(slots=True)
class SimResponse:
    status: int
    body: Any = None  # JSON-able; None means an empty body
    headers: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)

    def content(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


def cbr_error(status: int, code: str, message: str) -> SimResponse:
    return SimResponse(status, {"error_code": code, "error_msg": message})


def nested_error(status: int, code: str, message: str) -> SimResponse:
    return SimResponse(status, {"error": {"code": code, "message": message}})


def service_of(path: str) -> str:
    if path.startswith("/v1/"):
        return "ecs"
    if path.startswith("/v2/"):
        return "evs"
    return "cbr"


def service_error(path: str, status: int, code: str, message: str) -> SimResponse:
    """An error in the body shape of the service that owns ``path``."""
    if service_of(path) == "cbr":
        return cbr_error(status, code, message)
    return nested_error(status, code, message)
