"""Wire shapes of the simulated cloud: state records -> API JSON.

Field names, nesting and types follow cbr-facts.md sections 3.2, 4.3, 7, 8 and 15
exactly (e.g. ECS ``bootIndex`` is a string, EVS ``bootable`` is a string, vault
status is ``billing.status``). Every answer carries every field the official SDK
3.1.219 response models require and no key they do not know (checked by
tests/sim/test_sdk_contract.py), except ``progress: null`` on backups, which the
documented ListBackups example carries [HW cbr_04_0028]. Nulls are included on
purpose, to keep clients tolerant.
"""

from __future__ import annotations

import uuid
from typing import Any

from planner.sim.inventory import SERVER_TYPE, VOLUME_TYPE
from planner.sim.state import BackupRec, SimState
from planner.sim.tasks import Task
from planner.timefmt import rfc3339_ms, rfc3339_s

PROVIDERS = {
    SERVER_TYPE: "0daac4c5-6707-4851-97ba-169e36266b66",
    VOLUME_TYPE: "d1603440-187d-4516-af25-121250c7cc97",
    "OS::Sfs::Turbo": "3f3c3220-245c-4805-b811-758870015881",
    "OS::Workspace::DesktopV2": "86a80900-71bf-4961-956a-d52df944f84a",
}


def backup_time(ts: float) -> str:
    """CBR backup times, e.g. ``2019-05-10T07:59:12.085+00:00``."""
    return rfc3339_ms(ts).removesuffix("Z") + "+00:00"


def _resource_name_az(st: SimState, b: BackupRec) -> tuple[str, str]:
    if b.resource_id in st.servers:
        s = st.servers[b.resource_id]
        return s.name, s.az
    if b.resource_id in st.volumes:
        v = st.volumes[b.resource_id]
        return v.name, v.az
    return "", ""


def backup(st: SimState, b: BackupRec, *, children: bool = True) -> dict[str, Any]:
    """``children=False``: ``"children": []`` as the documented ListBackups example
    shows a server backup (ShowBackup and ``parent_id=`` listings fill them)."""
    name, az = _resource_name_az(st, b)
    # a child's provider is its server backup's (the server provider), not the disk one
    kind = st.backups[b.parent].resource_type if b.parent in st.backups else b.resource_type
    created = backup_time(b.created_at)
    extend: dict[str, Any] = {
        "auto_trigger": b.name.startswith("autobk"),
        "bootable": b.bootable if b.parent else None,
        "system_disk": b.bootable if b.parent else False,
        "contain_system_disk": b.resource_type == SERVER_TYPE,
        "snapshot_id": f"snap-{b.id[:8]}" if b.parent else "",
        "support_lld": True,
        "supported_restore_mode": b.restore_mode,
        "os_images_data": [],
        "encrypted": False,
        "is_multi_az": False,
    }
    return {
        "id": b.id,
        "name": b.name,
        "description": None,
        "checkpoint_id": b.checkpoint_id,
        "parent_id": b.parent or None,
        "children": [backup(st, st.backups[c]) for c in b.children] if children else [],
        "resource_id": b.resource_id,
        "resource_name": name,
        "resource_az": az,
        "resource_size": b.size_gb,
        "resource_type": b.resource_type,
        "status": b.status,
        "image_type": "backup",
        "provider_id": PROVIDERS.get(kind, PROVIDERS[SERVER_TYPE]),
        "vault_id": b.vault_id,
        "project_id": st.project_id,
        "enterprise_project_id": "0",
        "created_at": created,
        "updated_at": created,
        "expired_at": None,
        "protected_at": created,
        "replication_records": [],
        "incremental": False,
        "version": 2,
        "extend_info": extend,
        "progress": None,
    }


def request_id(task_id: str) -> str:
    """The cloud makes its own request id (``req-<uuid>`` in the documented examples),
    whatever ``X-Request-Id`` a client sent; stable per task."""
    return f"req-{uuid.uuid5(uuid.NAMESPACE_URL, 'restore-planner-sim/request/' + task_id)}"


def operation_log(st: SimState, t: Task, now: float) -> dict[str, Any]:
    b = st.backups[t.backup_id]
    source_name, _ = _resource_name_az(st, b)
    updated = (
        t.ended_at if t.ended_at is not None else (now if t.status == "running" else t.accepted_at)
    )
    return {
        "id": t.id,
        "operation_type": "restore",
        "status": t.status,
        "provider_id": PROVIDERS.get(b.resource_type, PROVIDERS[SERVER_TYPE]),
        "checkpoint_id": b.checkpoint_id,
        "policy_id": "",
        "project_id": st.project_id,
        "vault_id": b.vault_id,
        "vault_name": st.vaults[b.vault_id].name if b.vault_id in st.vaults else "",
        "created_at": rfc3339_s(t.accepted_at),
        "started_at": rfc3339_s(t.started_at) if t.started_at is not None else None,
        "ended_at": rfc3339_s(t.ended_at) if t.ended_at is not None else None,
        "updated_at": rfc3339_s(updated),
        "error_info": t.error_info(),
        "extra_info": {
            "common": {
                "progress": t.progress(now),
                "request_id": request_id(t.id),
                "task_id": t.id,
            },
            # required by the SDK model (OpExtraInfo.resource): the resource backed up
            "resource": {
                "id": b.resource_id,
                "name": source_name,
                "type": b.resource_type,
                "extra_info": {"exclude_volumes": []},
            },
            "restore": {
                "backup_id": b.id,
                "backup_name": b.name,
                "target_resource_id": t.target_id,
                "target_resource_name": t.target_name,
            },
        },
    }


_VM_STATE = {
    "ACTIVE": "active",
    "SHUTOFF": "stopped",
    "ERROR": "error",
    "BUILD": "building",
    "DELETED": "deleted",
    "SOFT_DELETED": "soft-delete",
}


# ServerDetail keys the SDK requires that the simulator has nothing to say about
_SERVER_BLANKS: dict[str, Any] = {
    "OS-EXT-SRV-ATTR:host": "",
    "OS-EXT-SRV-ATTR:hypervisor_hostname": "",
    "OS-EXT-SRV-ATTR:kernel_id": "",
    "OS-EXT-SRV-ATTR:ramdisk_id": "",
    "OS-EXT-SRV-ATTR:launch_index": 0,
    "OS-SRV-USG:terminated_at": "",
    "accessIPv4": "",
    "accessIPv6": "",
    "auto_terminate_time": "",
    "capacity_reservation_id": "",
    "capacity_reservation_specification": None,
    "config_drive": "",
    "enclave_options": None,
    "host_status": "UP",
    "security_groups": [],
    "spod_id": "",
}


_SERVER_KEYS = (
    "id",
    "name",
    "status",
    "tags",
    "metadata",
    "flavor",
    "image",
    "created",
    "updated",
    "locked",
    "addresses",
    "key_name",
    "hostId",
    "tenant_id",
    "user_id",
    "OS-EXT-AZ:availability_zone",
    "OS-EXT-STS:vm_state",
    "OS-EXT-STS:task_state",
    "OS-EXT-STS:power_state",
    "OS-EXT-SRV-ATTR:root_device_name",
    "OS-EXT-SRV-ATTR:hostname",
    "OS-EXT-SRV-ATTR:instance_name",
    "OS-SRV-USG:launched_at",
    "os-extended-volumes:volumes_attached",
    "enterprise_project_id",
    *_SERVER_BLANKS,
)


def server_stub(sid: str) -> dict[str, Any]:
    """ECS ``server_id=`` for an id that does not exist: only ``id`` and ``fault``, every
    other field null [SDK list_servers_details_request docstring]. The fault's shape is
    not documented; ``code``/``message`` as a Nova fault."""
    keys = dict.fromkeys(_SERVER_KEYS)
    return {
        **keys,
        "id": sid,
        "fault": {"code": 404, "message": f"Instance {sid} could not be found."},
    }


def server(st: SimState, sid: str) -> dict[str, Any]:
    s = st.servers[sid]
    status = st.server_status[sid]
    attached = [
        {
            "id": a.id,
            "device": a.device,
            "bootIndex": "0" if a.boot else "-1",
            "delete_on_termination": "false",
        }
        for a in s.volumes
    ]
    root = next((a.device for a in s.volumes if a.boot), "/dev/vda")
    return {
        "id": sid,
        "name": s.name,
        "status": status,
        "tags": [f"{k}={v}" for k, v in s.tags.items()],
        "metadata": {},
        "flavor": {
            "id": "s6.large.2",
            "name": "s6.large.2",
            "disk": "0",
            "vcpus": "2",
            "ram": "4096",
            "gpus": [],
            "asic_accelerators": [],
        },
        "image": {"id": "sim-image-0001"},
        "created": "2024-01-01T00:00:00Z",
        "updated": "2024-01-01T00:00:00Z",
        "locked": False,
        "addresses": {},
        "key_name": None,
        "hostId": "",
        "tenant_id": st.project_id,
        "user_id": "",
        "OS-EXT-AZ:availability_zone": s.az,
        "OS-EXT-STS:vm_state": _VM_STATE.get(status, status.lower()),
        "OS-EXT-STS:task_state": None,
        "OS-EXT-STS:power_state": 1 if status == "ACTIVE" else 4,
        "OS-EXT-SRV-ATTR:root_device_name": root,
        "OS-EXT-SRV-ATTR:hostname": s.name,
        "OS-EXT-SRV-ATTR:instance_name": f"instance-{sid[:8]}",
        "OS-SRV-USG:launched_at": "2024-01-01T00:00:00.000000",
        "os-extended-volumes:volumes_attached": attached,
        "enterprise_project_id": "0",
        **_SERVER_BLANKS,
    }


def volume(st: SimState, vid: str) -> dict[str, Any]:
    v = st.volumes[vid]
    att = st.attachments.get(vid)
    attachments = []
    if att is not None:
        attachments.append(
            {
                "server_id": att.server_id,
                "attachment_id": f"att-{vid[:8]}",
                "attached_at": "2024-01-01T00:00:00.000000",
                "device": att.device,
                "host_name": None,
                "id": vid,
                "volume_id": vid,
            }
        )
    return {
        "id": vid,
        "name": v.name,
        "size": v.size_gb,
        "status": st.volume_status[vid],
        "bootable": "true" if att is not None and att.boot else "false",
        "availability_zone": v.az,
        "volume_type": "SSD",
        "multiattach": False,
        "shareable": "false",
        "metadata": {},
        "tags": {},
        "service_type": "EVS",
        "attachments": attachments,
        "created_at": "2024-01-01T00:00:00.000000",
        "updated_at": None,
        "description": "",
        "encrypted": False,
        "links": [],
        "replication_status": "disabled",
        # required by the SDK's VolumeDetail; nothing to say about them here
        "os-vol-host-attr:host": "",
        "os-vol-mig-status-attr:migstat": None,
        "os-vol-mig-status-attr:name_id": None,
        "os-vol-tenant-attr:tenant_id": st.project_id,
        "os-volume-replication:extended_status": None,
        "snapshot_id": None,
        "user_id": "",
        "volume_image_metadata": {},
    }


# inventory vault statuses -> billing.status (enum available, lock, frozen, deleting,
# error [SDK billing.py]); "locked" is accepted in inventories written before
_VAULT_STATUS = {"locked": "lock"}


def vault(st: SimState, vid: str) -> dict[str, Any]:
    v = st.vaults[vid]
    return {
        "id": v.id,
        "name": v.name,
        "project_id": st.project_id,
        "provider_id": PROVIDERS[SERVER_TYPE],
        "billing": {
            "status": _VAULT_STATUS.get(v.status, v.status),
            "protect_type": "backup",
            "object_type": "server",
            "size": 10240,
            "allocated": 0,
            "used": 0,
            "charging_mode": "post_paid",
            "consistent_level": "crash_consistent",
            "spec_code": "vault.backup.server.normal",
        },
        "resources": [],
        "enterprise_project_id": "0",
        "locked": False,  # the vault lock flag, not billing status "lock"
    }
