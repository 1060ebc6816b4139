"""The apply journal: what was about to be restored, so a killed apply never restores twice.

An append-only JSON-lines file beside the state (``state.json.journal``). Apply
writes ``intent`` before each restore POST, ``accepted`` with the task id after
it, and ``finished`` once the outcome is in the state file. Intents are written
(``flush``: one ``os.write`` per batch) before any POST leaves, so a killed apply
leaves them in the file; they are not fsynced. What survives a power cut is the
state's ``started`` record of the same restore, which apply fsyncs before the
POST (``planner.apply.executor``): the next plan shows it as ``reconcile``, and
apply looks its task up by backup, target and time, with or without an intent
(``tests/apply/test_power_loss.py``). A second fsync per launch, for the intent,
added nothing to that and cost about a twentieth of apply's client CPU
(``bench/apply_makespan.py``). ``accepted`` and ``finished`` lines wait in memory
and go out with the next intent (``Journal``).

On the next apply, ``pending()`` lists intents with no ``finished``: their POST
may have reached the cloud, so apply must look their task up before anything
else. This module does not talk to the cloud or the state file.

Lines::

    {"event":"intent","run_id":..,"address":"app[\\"a\\"]","backup_id":..,"target_id":..,"body_digest":..,"at":"2026-11-28T12:00:00.000Z"}
    {"event":"accepted","address":..,"task_id":..,"at":..}
    {"event":"finished","address":..,"status":"succeeded","at":..}
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from planner import jsonl
from planner.addresses import Address, AddressError
from planner.errors import UserError
from planner.fsutil import fsync_dir, write_synced
from planner.timefmt import parse as parse_ts
from planner.timefmt import rfc3339_ms


def journal_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".journal")


@dataclass(frozen=True)
class JournalEntry:
    """An intent whose outcome is not recorded; task_id once the cloud accepted it."""

    run_id: str
    address: Address
    backup_id: str
    target_id: str
    body_digest: str
    at: datetime
    task_id: str | None = None
    accepted_at: datetime | None = None


def fold(
    objs: list[dict[str, Any]], where: str
) -> tuple[dict[str, JournalEntry], dict[str, list[tuple[int, dict[str, Any]]]]]:
    """Open intents by address, and the (position, event) lines each one still needs.

    Shared by the file journal and the PostgreSQL one (``planner.state.postgres``),
    which store the same events."""
    open_: dict[str, JournalEntry] = {}
    lines: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for n, obj in enumerate(objs):
        try:
            addr = str(obj["address"])
            event = obj["event"]
            if event == "intent":
                open_[addr] = JournalEntry(
                    run_id=str(obj["run_id"]),
                    address=Address.parse(addr),
                    backup_id=str(obj["backup_id"]),
                    target_id=str(obj["target_id"]),
                    body_digest=str(obj["body_digest"]),
                    at=parse_ts(obj["at"]),
                )
                lines[addr] = [(n, obj)]
            elif event == "accepted" and addr in open_:
                open_[addr] = replace(
                    open_[addr], task_id=str(obj["task_id"]), accepted_at=parse_ts(obj["at"])
                )
                lines[addr].append((n, obj))
            elif event == "finished":
                open_.pop(addr, None)
                lines.pop(addr, None)
        except (KeyError, ValueError, TypeError, AddressError) as exc:
            raise UserError(f"{where}: unreadable journal event {obj!r}: {exc}") from None
    return open_, lines


def journal_bytes(obj: dict[str, Any]) -> bytes:
    """One journal event as its line, newline included: compact JSON in UTF-8 (orjson,
    a tenth of ``json.dumps``'s time; three lines per restore)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # an integer past 64 bits, in a hand-edited line compact() keeps
        return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def journal_line(obj: dict[str, Any]) -> str:
    """One journal event as its line (the file journal and the PostgreSQL one alike)."""
    return journal_bytes(obj)[:-1].decode()


def intent_event(
    run_id: str,
    address: Address,
    backup_id: str,
    target_id: str,
    body_digest: str,
    at: datetime | float,
) -> dict[str, Any]:
    return {
        "event": "intent",
        "run_id": run_id,
        "address": str(address),
        "backup_id": backup_id,
        "target_id": target_id,
        "body_digest": body_digest,
        "at": rfc3339_ms(at),
    }


BUFFERED_LINES = 64  # unsynced lines held before they are written anyway


class Journal:
    """Lines wait in memory and go out together: at ``flush`` (apply's, before a batch
    of POSTs), at an intent written with ``sync=True``, at ``BUFFERED_LINES``, or when
    the journal is read or closed: one ``os.write`` for several. A kill loses only
    ``accepted`` and ``finished`` lines; the next apply then looks the task up instead.
    Only ``sync()`` and ``intent(sync=True)`` fsync."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: jsonl.Appender | None = None
        self._buffered: list[bytes] = []

    def _open(self) -> jsonl.Appender:
        if self._file is None:
            self._file = jsonl.Appender(self.path)
        return self._file

    def _append(self, obj: dict[str, Any], sync: bool = True) -> None:
        self._buffered.append(journal_bytes(obj))
        if sync:
            self._write(sync=True)
        elif len(self._buffered) >= BUFFERED_LINES:
            self._write(sync=False)

    def _write(self, *, sync: bool) -> None:
        data, self._buffered = b"".join(self._buffered), []
        if data:
            self._open().write(data, sync=sync)
        elif sync:
            self._open().sync()

    def intent(
        self,
        run_id: str,
        address: Address,
        backup_id: str,
        target_id: str,
        body_digest: str,
        at: datetime | float,
        sync: bool = True,
    ) -> None:
        """``sync=False`` leaves the lines to ``flush()`` or ``sync()``: several intents,
        one write, as long as no POST leaves before it."""
        self._append(intent_event(run_id, address, backup_id, target_id, body_digest, at), sync)

    def flush(self) -> None:
        """Write every waiting line to the file (a killed process leaves them), no fsync."""
        self._write(sync=False)

    def sync(self) -> None:
        self._write(sync=True)

    def accepted(self, address: Address, task_id: str, at: datetime | float) -> None:
        self._append(
            {
                "event": "accepted",
                "address": str(address),
                "task_id": task_id,
                "at": rfc3339_ms(at),
            },
            # Only the intent must be durable before the POST: if this line is lost in a
            # crash, the next apply finds the task by backup, target and time instead.
            sync=False,
        )

    def finished(self, address: Address, status: str, at: datetime | float) -> None:
        self._append(
            {"event": "finished", "address": str(address), "status": status, "at": rfc3339_ms(at)},
            sync=False,  # the outcome is in state; a lost line only causes a harmless lookup
        )

    def _fold(self) -> tuple[dict[str, JournalEntry], dict[str, list[tuple[int, dict[str, Any]]]]]:
        if self._buffered:
            self._write(sync=False)
        return fold(jsonl.read_objects(self.path, "journal"), str(self.path))

    def pending(self) -> list[JournalEntry]:
        """Intents with no finished event, oldest first."""
        open_, _ = self._fold()
        return sorted(open_.values(), key=lambda e: (e.at, e.address))

    def compact(self) -> None:
        """Drop every finished restore's events (call once their outcome is in state)."""
        _, lines = self._fold()
        keep = sorted((i for items in lines.values() for i in items), key=lambda i: i[0])
        data = b"".join(journal_bytes(o) for _, o in keep)
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        write_synced(tmp, data)
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    def close(self) -> None:
        if self._buffered:
            self._write(sync=False)
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def close_forgotten(journal: Any, addresses: Collection[str], at: datetime | float) -> None:
    """Close, durably, the intents an earlier apply left open for addresses that state
    is about to forget (a removed block's `forget`, `state rm`): once forgotten, a later
    `+ restore` of the address must restore, never adopt that old task as its own.
    ``journal``: a file or PostgreSQL journal (``planner.state.backend.JournalLike``)."""
    for entry in journal.pending():
        if str(entry.address) in addresses:
            journal.finished(entry.address, "forgotten", at)
    journal.sync()
