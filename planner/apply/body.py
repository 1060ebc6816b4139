"""The restore request body, exactly as the CBR API expects it (facts section 2)."""

from __future__ import annotations

import hashlib

import orjson

from planner.plan.model import Restore


def restore_body(r: Restore) -> dict[str, object]:
    t = r.target
    if t.kind == "server":
        return {
            "server_id": t.id,
            # sent explicitly: the API defaults to true, Terraform to false
            "power_on": r.power_on,
            "mappings": [{"backup_id": d.backup_id, "volume_id": d.volume_id} for d in r.disks],
        }
    if t.kind == "volume":
        return {"volume_id": t.id}
    # power_on applies to every target kind the API restores, resource targets included
    # (cbr-facts section 15; the Terraform provider sends it for Workspace restores)
    body: dict[str, object] = {"resource_id": t.id, "power_on": r.power_on}
    if r.destination_path:
        body["details"] = {"destination_path": r.destination_path}
    return body


def body_digest(body: dict[str, object]) -> str:
    """A short digest of the body (the journal's intent carries it, for a reader; nothing
    decides by it): of its compact JSON with sorted keys."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
