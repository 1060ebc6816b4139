"""Reading and writing the state file: atomic, serial-bumping, never repairing.

Owns the files on disk: ``state.json`` (a snapshot), ``state.json.backup`` (the
previous snapshot) and ``state.json.log`` (updates since the snapshot, one JSON
line each, fsynced). Apply records every finished restore; rewriting the whole
snapshot each time would cost O(restores) per write, O(n^2) over a 10,000-restore
drill, so it appends the changed records to the log and compacts it into a new
snapshot now and then. Reading = snapshot + the log lines with a higher serial.
It does not lock: callers that write hold a ``planner.state.lock.StateLock``. The
lineage/serial check here is the second line of defence, for a writer that
forgot the lock or a file swapped underneath us.

A state file that does not parse is refused, never rewritten: it may be the only
record of restores that already overwrote data.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner import jsonl
from planner.errors import UserError
from planner.fsutil import fsync_dir, write_synced
from planner.render.fmt import clean
from planner.state.model import FORMAT_VERSION, RestoreRecord, State

STATE_DIR = ".restore-planner"
STATE_FILE = "state.json"
# compact the log into a snapshot past this many lines (or half the records)
COMPACT_AFTER = 256


RUNS_DIR = "runs"  # planner.apply.runlog.runs_dir: the run logs beside the state file
_LINK_HINT = (
    "remove the link, or pass --state explicitly with the state file you mean "
    "(a state of your choosing is never refused for a link)"
)


def default_state_path(plan_path: str) -> Path:
    """``.restore-planner/state.json`` inside a plan directory, or beside a plan file.

    The plan directory comes from the repository under review, so nothing below it
    on the way to the state may be a symbolic link: a committed ``.restore-planner``
    link (or a link in it: the state file, its backup, log, lock, journal, a temp
    file's name, ``runs/``) would send every state write wherever it points, while
    the plan shows ``.restore-planner/state.json``. Such a link is refused. Links
    above the plan directory (``/tmp -> /private/tmp``, the path the operator
    typed) are not the repository's and are followed as ever.
    """
    p = Path(plan_path)
    base = p if p.is_dir() or (not p.exists() and not p.suffix) else p.parent
    check_no_links(base / STATE_DIR)
    return base / STATE_DIR / STATE_FILE


def check_no_links(state_dir: Path) -> None:
    """Refuse ``state_dir`` when it, an entry in it or an entry of its ``runs/`` is a
    symbolic link (``lstat``: never followed). A missing directory is fine (apply
    makes it); anything else that is not a directory is left to fail where it is used."""
    link = _first_link(state_dir)
    if link is None:
        return
    try:
        points = f" (to {clean(os.readlink(link))})"
    except OSError:
        points = ""
    # names from the repository: escaped like every name the renderers print
    what = f"the state directory {clean(str(link))}" if link == state_dir else clean(str(link))
    raise UserError(
        f"{what} is a symbolic link{points}: the default state inside a plan directory "
        "is never kept through a link (its writes would land wherever the link points)",
        hint=_LINK_HINT,
    )


def _first_link(state_dir: Path) -> Path | None:
    try:
        st = os.lstat(state_dir)
    except OSError:
        return None  # missing (or unreadable: the store reports that where it reads)
    if stat.S_ISLNK(st.st_mode):
        return state_dir
    if not stat.S_ISDIR(st.st_mode):
        return None
    for directory in (state_dir, state_dir / RUNS_DIR):
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        return directory / entry.name
        except OSError:
            continue  # no runs/ yet; unreadable: reading or writing fails with its own error
    return None


MAX_STATE_BYTES = jsonl.MAX_BYTES


class _BadJson(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            # json.loads would keep the last silently: two records of one address, or two
            # serials, mean a hand-merged or damaged file
            raise _BadJson(f"duplicate key {key[:100]!r}")
        out[key] = value
    return out


def _parse_json(data: bytes) -> Any:
    """json.loads that refuses duplicate keys and never crashes: deep nesting
    (RecursionError) and integers over 4,300 digits (ValueError) are damage."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _BadJson(str(exc)) from None
    except RecursionError:
        raise _BadJson("nested too deeply") from None
    except ValueError as exc:
        raise _BadJson(str(exc)[:200]) from None


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
        self._log_lines = 0  # log lines on top of the snapshot
        self.log_path = self.path.with_name(self.path.name + ".log")
        self._log_seen: tuple[int, int, int, int] | None = None
        # the log stays open between appends (an apply appends once per launch);
        # reopened whenever its path names another file
        self._log: jsonl.Appender | None = None

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
        got = jsonl.read_capped(self.path, MAX_STATE_BYTES, "state file")
        if got is None:
            return None
        data, st = got
        try:
            raw = _parse_json(data)
        except _BadJson as exc:
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
        self._replay(state)
        self._seen = (_fingerprint(st), state.lineage, state.serial)
        return state

    def _replay(self, state: State) -> None:
        """Apply the log's updates newer than the snapshot (a torn last line is dropped)."""
        self._log_lines = 0
        self._log_seen = None
        got = jsonl.read_capped(self.log_path, MAX_STATE_BYTES, "state log")
        if got is None:
            return
        data = got[0]
        base = state.serial
        for n, line in jsonl.complete_lines(data):  # a torn last line was never acknowledged
            try:
                obj = _parse_json(line)
                if not isinstance(obj, dict):
                    raise TypeError("not a JSON object")
                serial = obj["serial"]
                if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
                    raise TypeError("serial is not a non-negative integer")
                if obj["lineage"] != state.lineage or serial <= base:
                    continue  # already in the snapshot (a crash before the log was removed)
                if "remove" in obj:
                    state.restores.pop(str(obj["remove"]), None)
                else:
                    rec = RestoreRecord.model_validate(obj["record"])
                    state.restores[rec.address] = rec
                state.serial = max(state.serial, serial)
                self._log_lines += 1
            except (_BadJson, ValueError, KeyError, TypeError, ValidationError) as exc:
                raise self._refuse(
                    f"log {self.log_path.name} line {n} is damaged ({exc})"
                ) from None
        self._log_seen = _fingerprint(os.stat(self.log_path))

    def _on_disk(self) -> tuple[str, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        if self._seen is not None and self._seen[0] == _fingerprint(st) and self._log_unchanged():
            return self._seen[1], self._seen[2]
        current = StateStore(self.path).load()  # someone else wrote: read it all
        return current.lineage, current.serial

    def _log_unchanged(self) -> bool:
        try:
            now: tuple[int, int, int, int] | None = _fingerprint(os.stat(self.log_path))
        except FileNotFoundError:
            now = None
        return now == self._log_seen

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
        write_synced(tmp, data)
        try:
            self._keep_backup(directory)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(directory)
        # the snapshot holds everything now; older log lines would be skipped anyway
        self._close_log()
        if self.log_path.exists():
            self.log_path.unlink()
            fsync_dir(directory)
        self._log_lines = 0
        self._log_seen = None
        state.serial = serial
        self._seen = (_fingerprint(os.stat(self.path)), state.lineage, serial)
        return state

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def compact(self, state: State) -> State:
        """Fold the log into a new snapshot (a clean end of apply leaves one file)."""
        return self.write(state) if self._log_lines else state

    def append(self, state: State, changed: Sequence[RestoreRecord]) -> State:
        """Record changed records durably at the cost of their size, not the state's.

        Bumps the serial like ``write``; compacts into a new snapshot when the log
        grows past ``COMPACT_AFTER`` lines or half the records.
        """
        limit = max(COMPACT_AFTER, len(state.restores) // 2)
        if self._seen is None or self._log_lines + len(changed) > limit:
            return self.write(state)
        self._check_conflict(state)
        serial = state.serial + 1
        head = b'{"serial":%d,"lineage":%s,"record":' % (serial, json.dumps(state.lineage).encode())
        data = b"".join(head + rec.model_dump_json().encode() + b"}\n" for rec in changed)
        log = self._log
        if log is None or not log.names(self.log_path):
            self._close_log()
            log = self._log = jsonl.Appender(self.log_path)
        log.write(data, sync=True)
        self._log_lines += len(changed)
        self._log_seen = _fingerprint(os.stat(self.log_path))
        state.serial = serial
        assert self._seen is not None
        self._seen = (self._seen[0], state.lineage, serial)
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
