"""The apply journal: what was about to be restored, so a killed apply never restores twice.

An append-only JSON-lines file beside the state (``state.json.journal``). Apply
writes ``intent`` before each restore POST, ``accepted`` with the task id after
it, and ``finished`` once the outcome is in the state file. Each event is one
``os.write`` of one line followed by ``fsync`` (about one disk flush per event:
cheap next to a restore, and the only way the intent survives a power cut).

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from planner.addresses import Address, AddressError
from planner.errors import UserError
from planner.fsutil import fsync_dir, write_synced


def journal_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".journal")


_second: tuple[datetime | None, str] = (None, "")  # the last whole second formatted, and its text


def format_ts(at: datetime | float) -> str:
    """RFC 3339 in UTC with milliseconds; a float is seconds since the epoch (a Clock).

    Every event and journal line carries one, so the text of the current second is
    reused rather than formatted again.
    """
    global _second
    dt = datetime.fromtimestamp(at, tz=UTC) if isinstance(at, int | float) else at.astimezone(UTC)
    whole = dt.replace(microsecond=0)
    cached = _second
    if whole != cached[0]:
        cached = _second = (whole, whole.strftime("%Y-%m-%dT%H:%M:%S."))
    return f"{cached[1]}{dt.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


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


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Complete JSON lines of a JSON-lines file; a torn final line (a kill mid-write) is dropped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    if lines and lines[-1] != b"":  # no newline yet: the write never finished
        lines.pop()
    out: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            obj = None
        if not isinstance(obj, dict):
            raise UserError(
                f"{path}:{n}: damaged line in a file restore-planner only appends to",
                hint="the file was not changed; inspect it before running apply again",
            )
        out.append(obj)
    return out


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


def intent_event(
    run_id: str, address: Address, backup_id: str, target_id: str, body_digest: str, at: datetime | float
) -> dict[str, Any]:
    return {
        "event": "intent",
        "run_id": run_id,
        "address": str(address),
        "backup_id": backup_id,
        "target_id": target_id,
        "body_digest": body_digest,
        "at": format_ts(at),
    }


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is not None:
            return self._fd
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._drop_torn_tail(fd)
        if not existed:  # make the new directory entry durable too
            fsync_dir(self.path.parent)
        self._fd = fd
        return fd

    @staticmethod
    def _drop_torn_tail(fd: int) -> None:
        # Appending after a partial line would glue the next event onto it.
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        back = min(size, 1 << 16)
        while True:
            chunk = os.pread(fd, back, size - back)
            cut = chunk.rfind(b"\n")
            if cut >= 0 or back == size:
                os.ftruncate(fd, size - back + cut + 1)
                os.fsync(fd)
                return
            back = min(size, back * 4)

    def _append(self, obj: dict[str, Any], sync: bool = True) -> None:
        fd = self._open()
        os.write(fd, json.dumps(obj, separators=(",", ":")).encode() + b"\n")
        if sync:
            os.fsync(fd)

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
        """``sync=False`` leaves the fsync to ``sync()``: several intents, one flush,
        as long as no POST leaves before it."""
        self._append(intent_event(run_id, address, backup_id, target_id, body_digest, at), sync)

    def sync(self) -> None:
        os.fsync(self._open())

    def accepted(self, address: Address, task_id: str, at: datetime | float) -> None:
        self._append(
            {"event": "accepted", "address": str(address), "task_id": task_id, "at": format_ts(at)},
            # Only the intent must be durable before the POST: if this line is lost in a
            # crash, the next apply finds the task by backup, target and time instead.
            sync=False,
        )

    def finished(self, address: Address, status: str, at: datetime | float) -> None:
        self._append(
            {"event": "finished", "address": str(address), "status": status, "at": format_ts(at)},
            sync=False,  # the outcome is in state; a lost line only causes a harmless lookup
        )

    def _fold(self) -> tuple[dict[str, JournalEntry], dict[str, list[tuple[int, dict[str, Any]]]]]:
        return fold(read_lines(self.path), str(self.path))

    def pending(self) -> list[JournalEntry]:
        """Intents with no finished event, oldest first."""
        open_, _ = self._fold()
        return sorted(open_.values(), key=lambda e: (e.at, e.address))

    def compact(self) -> None:
        """Drop every finished restore's events (call once their outcome is in state)."""
        _, lines = self._fold()
        keep = sorted((i for items in lines.values() for i in items), key=lambda i: i[0])
        data = b"".join(json.dumps(o, separators=(",", ":")).encode() + b"\n" for _, o in keep)
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        write_synced(tmp, data)
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

