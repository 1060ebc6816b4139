"""``restore-planner state list|show|rm|force-unlock`` (and top-level ``force-unlock``).

Thin: parse addresses, call planner.state, print. Reading commands do not take
the lock (writes replace the file atomically, so a reader always sees a whole
state); ``rm`` does.
"""

from __future__ import annotations

import argparse
import difflib
from datetime import UTC, datetime
from pathlib import Path

from planner.addresses import Address, AddressError
from planner.cli.output import print_json
from planner.errors import UserError
from planner.state.lock import StateLock, force_unlock
from planner.state.model import RestoreRecord, State
from planner.state.store import StateStore, default_state_path


def _state_path(args: argparse.Namespace) -> Path:
    explicit = getattr(args, "state", None)
    return Path(explicit) if explicit else default_state_path(str(getattr(args, "path", ".")))


def _parse(text: str) -> Address:
    try:
        return Address.parse(text)
    except AddressError as exc:
        raise UserError(str(exc)) from None


def _ts(dt: datetime | None) -> str:
    return "-" if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _target(rec: RestoreRecord) -> str:
    return f"{rec.target.kind} {rec.target.name or rec.target.id}"


def _backup(rec: RestoreRecord) -> str:
    return f"{rec.backup.name or rec.backup.id} ({_ts(rec.backup.created_at)})"


def _unknown_error(missing: list[str], state: State, path: Path) -> UserError:
    known = list(state.restores)
    hints = []
    for m in missing:
        close = difflib.get_close_matches(m, known, n=1)
        if close:
            hints.append(f"did you mean {close[0]} instead of {m}?")
    if not hints:
        hints.append("`restore-planner state list` shows the recorded addresses")
    return UserError(f"not in state {path}: {', '.join(missing)}", hint=" ".join(hints))


def _list(args: argparse.Namespace, path: Path) -> int:
    state = StateStore(path).load()
    records = [state.restores[str(a)] for a in state.addresses()]
    if args.format == "json":
        print_json(
            {
                "state": str(path),
                "lineage": state.lineage,
                "serial": state.serial,
                "restores": [r.model_dump(mode="json") for r in records],
            }
        )
        return 0
    if not records:
        print(f"No restores recorded in {path}.")
        return 0
    rows = [(r.address, r.status, _target(r), _backup(r)) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)] + [row[3]]
        print("  ".join(cells).rstrip())
    return 0


def _show_text(rec: RestoreRecord) -> list[str]:
    error = f"{rec.error.code}: {rec.error.message}" if rec.error else "-"
    disks = [f"{d.backup_id} -> {d.volume_id}" for d in rec.disks] or ["-"]
    pairs = [
        ("status", rec.status),
        ("error", error),
        ("target", f"{_target(rec)} (id {rec.target.id})"),
        (
            "backup",
            f"{rec.backup.name or '-'} (id {rec.backup.id}), created {_ts(rec.backup.created_at)}",
        ),
        ("disks", disks[0]),
        *(("", d) for d in disks[1:]),
        ("power_on", "true" if rec.power_on else "false"),
        ("destination_path", rec.destination_path or "-"),
        ("task_id", rec.task_id or "-"),
        ("started_at", _ts(rec.started_at)),
        ("ended_at", _ts(rec.ended_at)),
        ("run_id", rec.run_id),
    ]
    return [f"# {rec.address}"] + [f"{k:<17}{v}" for k, v in pairs]


def _show(args: argparse.Namespace, path: Path) -> int:
    addr = _parse(args.address)
    state = StateStore(path).load()
    rec = state.get(addr)
    if rec is None:
        instances = [str(a) for a in state.addresses() if addr.contains(a)]
        if instances:
            raise UserError(
                f"{addr} has {len(instances)} instance(s) in state; show one of them",
                hint="instances: " + ", ".join(instances),
            )
        raise _unknown_error([str(addr)], state, path)
    if args.format == "json":
        print_json(rec.model_dump(mode="json"))
    else:
        print("\n".join(_show_text(rec)))
    return 0


def _rm(args: argparse.Namespace, path: Path) -> int:
    addrs = [_parse(a) for a in args.address]
    with StateLock(path, "state rm"):
        store = StateStore(path)
        state = store.load()
        recorded = state.addresses()
        doomed: list[Address] = []
        missing: list[str] = []
        for addr in addrs:
            hit = [a for a in recorded if addr.contains(a)]
            if not hit:
                missing.append(str(addr))
            doomed.extend(a for a in hit if a not in doomed)
        if missing:
            raise _unknown_error(missing, state, path)
        for a in doomed:
            state.remove(a)
        store.write(state)
    print(f"Removed {len(doomed)} address(es) from state (serial {state.serial}).")
    return 0


def _force_unlock(args: argparse.Namespace, path: Path) -> int:
    info = force_unlock(path, args.lock_id)
    print(f"Removed lock {info.id} held by {info.describe()}; {path} is unlocked.")
    return 0


def run(args: argparse.Namespace) -> int:
    command = getattr(args, "state_command", None)
    path = _state_path(args)
    if command == "list":
        return _list(args, path)
    if command == "show":
        return _show(args, path)
    if command == "rm":
        return _rm(args, path)
    if command == "force-unlock":
        return _force_unlock(args, path)
    raise UserError("state needs a subcommand: list, show, rm or force-unlock")
