"""Reading and writing the state file: atomic, serial-bumping, never repairing.

Owns the file on disk (``state.json`` and its ``state.json.backup``). It does
not lock: callers that write hold a ``planner.state.lock.StateLock``. The
lineage/serial check here is the second line of defence, for a writer that
forgot the lock or a file swapped underneath us.

A state file that does not parse is refused, never rewritten: it may be the only
record of restores that already overwrote data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.errors import UserError
from planner.fsutil import fsync_dir
from planner.state.model import FORMAT_VERSION, RestoreRecord, State

STATE_DIR = ".restore-planner"
STATE_FILE = "state.json"


def default_state_path(plan_path: str) -> Path:
    """``.restore-planner/state.json`` inside a plan directory, or beside a plan file."""
    p = Path(plan_path)
    if p.is_dir() or (not p.exists() and not p.suffix):
        return p / STATE_DIR / STATE_FILE
    return p.parent / STATE_DIR / STATE_FILE


def _fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)



def _describe_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # (lineage, serial) last read or written, keyed by the file's identity, so
        # the pre-write check can skip re-parsing a file nobody else touched.
        self._seen: tuple[tuple[int, int, int, int], str, int] | None = None
        # address -> (record, its JSON): records are frozen, so an identical
        # object needs no new serialisation (most of a write's cost at 1,000 records)
        self._cache: dict[str, tuple[RestoreRecord, bytes]] = {}

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + ".backup")

    def _refuse(self, what: str) -> UserError:
        return UserError(
            f"state file {self.path} {what}",
            hint="the file was left untouched; fix it by hand, or restore "
            f"{self.backup_path.name} (the previous version) if it is damaged",
        )

    def _read_raw(self) -> tuple[dict[str, Any], os.stat_result] | None:
        try:
            with self.path.open("rb") as f:
                st = os.fstat(f.fileno())
                data = f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UserError(f"cannot read state file {self.path}: {exc.strerror}") from None
        try:
            raw = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self._refuse(f"is not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise self._refuse("is not a restore-planner state (expected a JSON object)")
        version = raw.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self._refuse("is not a restore-planner state (no valid format_version)")
        if version > FORMAT_VERSION:
            raise UserError(
                f"state file {self.path} has format_version {version}, written by a newer "
                f"restore-planner; this version reads format_version {FORMAT_VERSION}",
                hint="upgrade restore-planner; the file was left untouched",
            )
        return raw, st

    def load(self) -> State:
        """The state on disk, or a new empty state (not written) when there is none."""
        got = self._read_raw()
        if got is None:
            self._seen = None
            return State.new()
        raw, st = got
        try:
            state = State.model_validate(raw)
        except ValidationError as exc:
            raise self._refuse(f"is not valid: {_describe_errors(exc)}") from None
        self._seen = (_fingerprint(st), state.lineage, state.serial)
        return state

    def _on_disk(self) -> tuple[str, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        if self._seen is not None and self._seen[0] == _fingerprint(st):
            return self._seen[1], self._seen[2]
        got = self._read_raw()
        if got is None:
            return None
        raw, _ = got
        lineage, serial = raw.get("lineage"), raw.get("serial")
        if not isinstance(lineage, str) or not isinstance(serial, int):
            raise self._refuse("is not valid: lineage or serial missing")
        return lineage, serial

    def _check_conflict(self, state: State) -> None:
        disk = self._on_disk()
        if disk is None:
            return
        lineage, serial = disk
        if lineage != state.lineage:
            raise UserError(
                f"state file {self.path} belongs to another state (lineage {lineage}, "
                f"this one is {state.lineage}); refusing to overwrite it",
                hint="use --state to choose a different file",
            )
        if serial > state.serial:
            raise UserError(
                f"state file {self.path} was written by someone else since it was read "
                f"(serial {serial} on disk, {state.serial} read); refusing to overwrite it",
                hint="run the command again so that it starts from the current state",
            )

    def write(self, state: State) -> State:
        """Bump the serial and replace the file atomically; the old file becomes the backup."""
        self._check_conflict(state)
        serial = state.serial + 1
        data = self._serialize(state, serial)
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{self.path.name}.tmp-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            self._keep_backup(directory)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(directory)
        state.serial = serial
        self._seen = (_fingerprint(os.stat(self.path)), state.lineage, serial)
        return state

    def _serialize(self, state: State, serial: int) -> bytes:
        """The state as JSON with one line per address (readable diffs, cheap rewrites)."""
        head = state.model_dump(mode="json", exclude={"restores"})
        head["serial"] = serial
        parts = [json.dumps(head, separators=(",", ":"))[:-1].encode() + b',"restores":{']
        cache: dict[str, tuple[RestoreRecord, bytes]] = {}
        lines = []
        for key in sorted(state.restores):
            rec = state.restores[key]
            hit = self._cache.get(key)
            if hit is not None and hit[0] is rec:
                line = hit[1]
            else:
                line = b"\n" + json.dumps(key).encode() + b":" + rec.model_dump_json().encode()
            cache[key] = (rec, line)
            lines.append(line)
        parts.append(b",".join(lines))
        parts.append(b"\n}}\n")
        self._cache = cache
        return b"".join(parts)

    def _keep_backup(self, directory: Path) -> None:
        # A hard link, then a rename over the backup: the state file itself never
        # disappears, so a crash at any point leaves a state a reader can load.
        if not self.path.exists():
            return
        tmp = directory / f".{self.path.name}.backup-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        try:
            os.link(self.path, tmp)
        except OSError:  # no hard links on this filesystem
            tmp.write_bytes(self.path.read_bytes())
        os.replace(tmp, self.backup_path)
