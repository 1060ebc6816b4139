"""The run log: one JSON-lines file per apply, ``runs/<run-id>.jsonl`` beside the state.

Owns the files of run logs: writing events and reading runs back; what an event
holds is ``planner.apply.events`` (``specs/run-log.schema.json``), and
``planner.report`` turns them into a drill report. Times come from the apply's
Clock, so a simulated drill logs simulated time. Events are appended with
``planner.jsonl`` one ``os.write`` per batch (``RunLog.flush``; a crash loses at
most the events not yet flushed, and readers drop a torn last line) and not
fsynced one by one: the run log is a report, the state is the record that must
survive (``planner.apply.journal`` says why the journal is not fsynced either).

Run ids are ``YYYYMMDDTHHMMSSZ-xxxx`` (UTC start time, 4 random hex digits), so
sorting them sorts runs by start time.
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from planner import jsonl, timefmt
from planner.apply import events
from planner.apply.events import Event
from planner.clock import Clock, WallClock, to_datetime
from planner.errors import UserError

FLUSH_AFTER = 256  # events held before they are written anyway

_RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-z]+$")


def runs_dir(state_path: Path) -> Path:
    return Path(state_path).parent / "runs"


def new_run_id(now: float) -> str:
    return timefmt.compact(now) + "-" + os.urandom(2).hex()


def stamp(clock: Clock, event: Event) -> tuple[Event, str]:
    """The event with its time (the clock's now unless it has one) and its JSON line;
    shared with the PostgreSQL run log."""
    if event.ts is None:
        event = event.model_copy(update={"ts": to_datetime(clock.now())})
    return event, events.encode(event)


def event_of(clock: Clock, kind: str, fields: dict[str, Any]) -> Event:
    """The event of ``kind`` with ``fields``; ``ts`` (a datetime or epoch seconds)
    defaults to the clock's now."""
    ts = fields.pop("ts", None)
    if not isinstance(ts, datetime):
        ts = to_datetime(clock.now() if ts is None else ts)
    return events.make(kind, {"ts": ts, **fields})


def check_run_id(run_id: str) -> str:
    if not _RUN_ID_RE.fullmatch(run_id):
        raise ValueError(f"bad run id {run_id!r}")
    return run_id


class RunLog:
    def __init__(self, path: Path, run_id: str, clock: Clock | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self._clock: Clock = clock or WallClock()
        self.last_line = ""  # the newest event as written (sinks printing JSON reuse it)
        # exclusive: two applies never share a log, even with the same run id
        self._file = jsonl.Appender(path, exclusive=True)
        self._pending: list[str] = []

    @classmethod
    def create(
        cls, state_path: Path, run_id: str | None = None, clock: Clock | None = None
    ) -> RunLog:
        clock = clock or WallClock()
        run_id = check_run_id(run_id or new_run_id(clock.now()))
        return cls(runs_dir(state_path) / f"{run_id}.jsonl", run_id, clock)

    def record(self, event: Event) -> Event:
        """Append one event, stamped with the clock's now unless it has a time.

        Lines wait in memory for ``flush`` (the executor's, before it sleeps) or for
        ``FLUSH_AFTER`` of them: one ``os.write`` per batch instead of per event (a
        third of what an event cost). A crash loses at most the events since the
        last flush, which the journal and state do not need.
        """
        event, line = stamp(self._clock, event)
        self._pending.append(line)
        if len(self._pending) >= FLUSH_AFTER:
            self.flush()
        self.last_line = line
        return event

    def flush(self) -> None:
        if self._pending:
            data = "\n".join(self._pending).encode() + b"\n"
            self._pending.clear()
            self._file.write(data, sync=False)

    def event(self, kind: str, **fields: Any) -> Event:
        """``record`` for an event given as its kind and fields (``ts``: datetime or epoch seconds)."""
        return self.record(event_of(self._clock, kind, fields))

    def close(self) -> None:
        self.flush()
        self._file.close(sync=True)

    def __enter__(self) -> RunLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def list_runs(state_path: Path) -> list[str]:
    """Run ids beside this state, oldest first."""
    d = runs_dir(state_path)
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.jsonl") if _RUN_ID_RE.fullmatch(p.stem))


def read_run(state_path: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    """The lines of ``run_id`` (the latest run when None), as written: ``events.decode`` reads them."""
    runs = list_runs(state_path)
    if run_id is None:
        if not runs:
            raise UserError(
                f"no runs recorded beside {state_path} (looked in {runs_dir(state_path)})",
                hint="run apply first, or point --state at the state file the apply used",
            )
        run_id = runs[-1]
    elif run_id not in runs:
        close = difflib.get_close_matches(run_id, runs, n=1)
        hint = f"did you mean {close[0]}?" if close else f"{len(runs)} run(s) recorded"
        if runs and not close:
            hint += f"; the latest is {runs[-1]}"
        raise UserError(f"no run {run_id} beside {state_path}", hint=hint)
    return jsonl.read_objects(runs_dir(state_path) / f"{run_id}.jsonl", "run log")
