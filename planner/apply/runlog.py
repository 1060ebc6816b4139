"""The run log: one JSON-lines file per apply, ``runs/<run-id>.jsonl`` beside the state.

Owns writing events and reading runs back; ``planner.report`` turns them into a
drill report. Each line is ``{"ts": RFC 3339, "kind": ..., **fields}``. Times come
from the apply's Clock, so a simulated drill logs simulated time. Events are
written with one ``os.write`` each (a crash loses at most the line being
written; readers drop a torn last line) and not fsynced one by one: the run log
is a report, the journal and state are the records that must survive.

Run ids are ``YYYYMMDDTHHMMSSZ-xxxx`` (UTC start time, 4 random hex digits), so
sorting them sorts runs by start time.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from planner.addresses import Address
from planner.apply.journal import format_ts, read_lines
from planner.clock import Clock, WallClock, to_datetime
from planner.errors import UserError

KINDS = frozenset(
    {
        "run_started",  # plan {summary}, parallelism
        "restore_started",  # address, backup_id, target, batch, wave, estimate_s
        "restore_accepted",  # address, task_id
        "restore_progress",  # address, progress
        "restore_succeeded",  # address, started_at, ended_at (cloud task times)
        "restore_failed",  # address, error_code, error_message, started_at, ended_at
        "restore_skipped",  # address, because, wave, batch, estimate_s, depends_on
        "restore_withdrawn",  # address, reason: started, never accepted by the cloud (Ctrl-C)
        "restore_waiting",  # address, reason, retry_in_s (the cloud asked to retry later)
        "run_finished",  # counts, exit_code
    }
)
_RUN_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-z]+$")


def runs_dir(state_path: Path) -> Path:
    return Path(state_path).parent / "runs"


def new_run_id(now: float) -> str:
    return to_datetime(now).strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(2).hex()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if isinstance(value, Address):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def make_event(clock: Clock, kind: str, fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """One event and its JSON line (shared with the PostgreSQL run log)."""
    if kind not in KINDS:
        raise ValueError(f"unknown run log event kind {kind!r}")
    ts = fields.pop("ts", None)
    obj = {"ts": format_ts(clock.now() if ts is None else ts), "kind": kind}
    obj.update(_jsonable(fields))
    return obj, json.dumps(obj, ensure_ascii=False, default=str)


def check_run_id(run_id: str) -> str:
    if not _RUN_ID_RE.match(run_id):
        raise ValueError(f"bad run id {run_id!r}")
    return run_id


class RunLog:
    def __init__(self, path: Path, run_id: str, clock: Clock | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self._clock: Clock = clock or WallClock()
        self.last_line = ""  # the newest event as written (sinks printing JSON reuse it)
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two applies never share a log, even with the same run id
        self._fd: int | None = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644
        )

    @classmethod
    def create(
        cls, state_path: Path, run_id: str | None = None, clock: Clock | None = None
    ) -> RunLog:
        clock = clock or WallClock()
        run_id = check_run_id(run_id or new_run_id(clock.now()))
        return cls(runs_dir(state_path) / f"{run_id}.jsonl", run_id, clock)

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Append one event; ``ts`` (datetime or epoch seconds) defaults to the clock's now."""
        if self._fd is None:
            raise ValueError(f"run log {self.path} is closed")
        obj, self.last_line = make_event(self._clock, kind, fields)
        os.write(self._fd, self.last_line.encode() + b"\n")
        return obj

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

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
    return sorted(p.stem for p in d.glob("*.jsonl") if _RUN_ID_RE.match(p.stem))


def read_run(state_path: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    """The events of ``run_id`` (the latest run when None)."""
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
    return read_lines(runs_dir(state_path) / f"{run_id}.jsonl")
