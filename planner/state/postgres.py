"""State in PostgreSQL (psycopg 3): snapshot, lock, journal and run logs of several workspaces.

One schema (default ``restore_planner``) holds any number of workspaces, each
one state (one per environment). Modelled on Terraform's pg backend:

- The schema is created on first use and versioned (``meta.schema_version``);
  ``_MIGRATIONS`` upgrades an older one, a newer one is refused.
- Every state change is one transaction that first checks lineage and serial
  (``UPDATE ... WHERE serial = <the serial we read>``), the same second line of
  defence as the file store. Readers use a REPEATABLE READ snapshot, so ``plan``
  sees a whole state while an apply appends to it.
- The lock is a session advisory lock held by the applying process's
  connection, plus a ``locks`` row describing the holder. The advisory lock
  decides (PostgreSQL frees it when the connection dies, so a killed apply
  frees it by itself); the row only describes, and a row whose advisory lock is
  free was left by a dead holder and is replaced.
- Journal events and run log lines are rows. They wait in memory and go out with
  the next transaction, but intents are committed before ``flush()``, ``sync()``
  or ``intent(sync=True)`` returns: a row still in memory would die with the
  process, where the file journal's written line survives a kill.

The connection string (``PG_CONN_STR``) is held by the connection only: never
stored, logged or put into an error message.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from planner import __version__
from planner.apply.events import Event
from planner.apply.journal import JournalEntry, fold, intent_event, journal_line
from planner.apply.runlog import check_run_id, event_of, new_run_id, stamp
from planner.clock import Clock, WallClock
from planner.errors import StateLockedError, UserError
from planner.state.lock import LockInfo
from planner.state.model import FORMAT_VERSION, RestoreRecord, State
from planner.timefmt import rfc3339_ms, rfc3339_s

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 1
_LOCK_CLASS = 0x5250  # "RP": the first key of every restore-planner advisory lock
_FLUSH_AFTER = 512  # deferred rows past this are written without waiting for a transaction

_MIGRATIONS: dict[int, list[str]] = {
    # version 0 -> 1: everything
    0: [
        "CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text NOT NULL)",
        """CREATE TABLE IF NOT EXISTS {s}.states (
            workspace text PRIMARY KEY, lineage text NOT NULL, serial bigint NOT NULL,
            format_version int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE IF NOT EXISTS {s}.records (
            workspace text NOT NULL, address text NOT NULL, record text NOT NULL,
            PRIMARY KEY (workspace, address))""",
        """CREATE TABLE IF NOT EXISTS {s}.locks (
            workspace text PRIMARY KEY, id text NOT NULL, holder text NOT NULL, host text NOT NULL,
            pid int NOT NULL, operation text NOT NULL, created text NOT NULL, version text NOT NULL,
            backend_pid int NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS {s}.journal (
            workspace text NOT NULL, seq bigserial, line text NOT NULL, PRIMARY KEY (workspace, seq))""",
        """CREATE TABLE IF NOT EXISTS {s}.runs (
            workspace text NOT NULL, run_id text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (workspace, run_id))""",
        """CREATE TABLE IF NOT EXISTS {s}.run_events (
            workspace text NOT NULL, run_id text NOT NULL, n int NOT NULL, line text NOT NULL,
            PRIMARY KEY (workspace, run_id, n))""",
    ],
}


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid())


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UserError(
            "the postgres backend needs psycopg 3, which is not installed",
            hint="pip install 'restore-planner[postgres]'",
        ) from None
    return psycopg


def _clean(exc: BaseException, conn_str: str) -> str:
    """A driver error's first line, with anything of the connection string's secrets removed."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    try:
        from psycopg.conninfo import conninfo_to_dict

        secret = conninfo_to_dict(conn_str).get("password")
    except Exception:
        # the driver could not read the string: what it says about it quotes pieces of
        # it, the password among them (a raw % in a URI, a space in key=value)
        return (
            "PG_CONN_STR is not a connection string the driver can read (a URI "
            "postgresql://user:password@host:port/db with special characters %-encoded, or "
            "key=value pairs with values that hold spaces in single quotes)"
        )
    raw = _URI_PASSWORD.search(conn_str)
    for s in (secret, raw.group(1) if raw else None, conn_str):
        if s:
            text = text.replace(str(s), "***")
    return text


# the password of a URI as written (percent-encoded), beside the one the driver decodes
_URI_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]+)@")


class PostgresBackend:
    kind = "postgres"

    def __init__(self, conn_str: str, schema: str, workspace: str) -> None:
        self._conn_str = conn_str
        self.schema = schema
        self.workspace = workspace
        self.ref = f"postgres:{schema}/{workspace}"
        self._conn: psycopg.Connection[Any] | None = None
        # rows waiting for the next transaction (journal lines, run log lines)
        self._journal_rows: list[str] = []
        self._event_rows: list[tuple[str, int, str]] = []

    # -- connection, schema, transactions

    def describe(self) -> str:
        return f"workspace {self.workspace} (PostgreSQL schema {self.schema})"

    def _error(self, exc: BaseException, doing: str) -> UserError:
        return UserError(
            f"PostgreSQL state backend: cannot {doing}: {_clean(exc, self._conn_str)}",
            hint=f"check PG_CONN_STR and that the server is reachable; the state of {self.describe()} "
            "is changed only by whole transactions, so running the command again is safe",
        )

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            psycopg = _driver()
            try:
                self._conn = psycopg.connect(
                    self._conn_str, autocommit=True, application_name="restore-planner"
                )
            except psycopg.Error as exc:
                raise self._error(exc, "connect") from None
            self._migrate(self._conn)
        return self._conn

    @contextmanager
    def _tx(self, doing: str, readonly: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        psycopg = _driver()
        try:
            conn = self.conn
            with conn.transaction(), conn.cursor() as cur:
                if readonly:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                else:
                    self._flush_deferred(cur)
                yield cur
        except psycopg.Error as exc:
            raise self._error(exc, doing) from None

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        s = f'"{self.schema}"'
        with conn.transaction(), conn.cursor() as cur:
            # one migrator at a time; the others wait, then find the work done
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                (_LOCK_CLASS, "schema:" + self.schema),
            )
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            cur.execute("SELECT to_regclass(%s)", (f"{s}.meta",))
            row = cur.fetchone()
            version = 0
            if row is not None and row[0] is not None:
                cur.execute(f"SELECT value FROM {s}.meta WHERE key = 'schema_version'")
                got = cur.fetchone()
                version = int(got[0]) if got else 0
            if version > SCHEMA_VERSION:
                raise UserError(
                    f"PostgreSQL schema {self.schema} has schema version {version}, made by a newer "
                    f"restore-planner; this version knows schema version {SCHEMA_VERSION}",
                    hint="upgrade restore-planner; nothing was changed in the database",
                )
            while version < SCHEMA_VERSION:
                for stmt in _MIGRATIONS[version]:
                    cur.execute(stmt.format(s=s))
                version += 1
                cur.execute(
                    f"INSERT INTO {s}.meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (str(version),),
                )

    def _flush_deferred(self, cur: psycopg.Cursor[Any]) -> None:
        s = f'"{self.schema}"'
        if self._journal_rows:
            rows, self._journal_rows = self._journal_rows, []
            with cur.copy(f"COPY {s}.journal (workspace, line) FROM STDIN") as copy:
                for line in rows:
                    copy.write_row((self.workspace, line))
        if self._event_rows:
            ev, self._event_rows = self._event_rows, []
            with cur.copy(f"COPY {s}.run_events (workspace, run_id, n, line) FROM STDIN") as copy:
                for run_id, n, line in ev:
                    copy.write_row((self.workspace, run_id, n, line))

    def flush(self) -> None:
        if self._journal_rows or self._event_rows:
            with self._tx("write journal and run log events"):
                pass

    def close(self) -> None:
        if self._conn is not None:
            try:
                self.flush()
            finally:
                self._conn.close()
                self._conn = None

    # -- the pieces apply uses

    def store(self) -> PgStateStore:
        return PgStateStore(self)

    def lock(self, operation: str) -> PgLock:
        return PgLock(self, operation)

    def journal(self) -> PgJournal:
        return PgJournal(self)

    def runlog(self, clock: Clock | None = None) -> PgRunLog:
        return PgRunLog.create(self, clock=clock)

    def list_runs(self) -> list[str]:
        with self._tx("list runs", readonly=True) as cur:
            cur.execute(
                f'SELECT run_id FROM "{self.schema}".runs WHERE workspace = %s ORDER BY run_id',
                (self.workspace,),
            )
            return [r[0] for r in cur.fetchall()]

    def read_run(self, run_id: str | None = None) -> list[dict[str, Any]]:
        import difflib

        self.flush()
        runs = self.list_runs()
        if run_id is None:
            if not runs:
                raise UserError(
                    f"no runs recorded in {self.describe()}",
                    hint="run apply first, or pass the --workspace the apply used",
                )
            run_id = runs[-1]
        elif run_id not in runs:
            close = difflib.get_close_matches(run_id, runs, n=1)
            hint = f"did you mean {close[0]}?" if close else f"{len(runs)} run(s) recorded"
            raise UserError(f"no run {run_id} in {self.describe()}", hint=hint)
        with self._tx("read a run log", readonly=True) as cur:
            cur.execute(
                f'SELECT line FROM "{self.schema}".run_events WHERE workspace = %s AND run_id = %s ORDER BY n',
                (self.workspace, run_id),
            )
            out = []
            for n, (line,) in enumerate(cur.fetchall(), start=1):
                try:
                    obj = json.loads(line)
                except (ValueError, RecursionError):
                    obj = None
                if not isinstance(obj, dict):
                    # as a damaged line of a run log file is (jsonl.read_objects)
                    raise UserError(
                        f"run {run_id} of {self.describe()}: damaged event {n}",
                        hint="the row was not changed; inspect it before reading the report again",
                    )
                out.append(obj)
            return out

    def import_run(self, run_id: str, events: list[dict[str, Any]]) -> None:
        """Copy a run log as it was (its id, its events' times): migration from a local state."""
        log = PgRunLog(self, check_run_id(run_id))
        for n, ev in enumerate(events, start=1):
            self._event_rows.append((run_id, n, json.dumps(ev, ensure_ascii=False, default=str)))
        log.close()

    def run_location(self, run_id: str) -> str:
        return f"run {run_id} in {self.describe()}"

    # -- the lock, seen from outside

    def _lock_row(self, cur: psycopg.Cursor[Any]) -> tuple[LockInfo, int] | None:
        cur.execute(
            f'SELECT id, holder, host, pid, operation, created, version, backend_pid FROM "{self.schema}".locks '
            "WHERE workspace = %s",
            (self.workspace,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        return LockInfo(*row[:7]), int(row[7])

    def _holder_pids(self, cur: psycopg.Cursor[Any]) -> list[int]:
        """Backends holding this workspace's advisory lock (pg_locks shows int4 keys as oids)."""
        cur.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
            "AND classid = %s::oid AND objid = (hashtext(%s)::bigint & 4294967295)::oid",
            (_LOCK_CLASS, self._lock_key()),
        )
        return [int(r[0]) for r in cur.fetchall()]

    def _lock_key(self) -> str:
        return f"{self.schema}/{self.workspace}"

    def held_lock(self) -> LockInfo | None:
        with self._tx("read the lock") as cur:
            got = self._lock_row(cur)
            if got is None or not self._holder_pids(cur):
                return None
            return got[0]

    def force_unlock(self, lock_id: str) -> LockInfo:
        with self._tx("remove the lock") as cur:
            got = self._lock_row(cur)
            if got is None:
                raise UserError(f"state {self.describe()} is not locked")
            info, _ = got
            if info.id != lock_id:
                raise UserError(
                    f"lock id {lock_id} does not match the lock on {self.describe()}: it is "
                    f"{info.id}, held by {info.describe()}",
                    hint="copy the lock id from the error that named the holder",
                )
            holders = self._holder_pids(cur)
            if holders and info.process_alive():
                raise UserError(
                    f"lock {lock_id} is held by a running process: {info.describe()}",
                    hint=f"stop process {info.pid} first, or wait for it to finish",
                )
            # Held by a connection whose process is gone or on another host (a hung
            # client, a runner that vanished): end that connection, which frees it.
            for pid in holders:
                cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            cur.execute(
                f'DELETE FROM "{self.schema}".locks WHERE workspace = %s AND id = %s',
                (self.workspace, lock_id),
            )
            return info

    # -- state rows, shared by the store and the state commands

    def workspaces(self) -> list[str]:
        with self._tx("list workspaces", readonly=True) as cur:
            cur.execute(f'SELECT workspace FROM "{self.schema}".states ORDER BY workspace')
            return [r[0] for r in cur.fetchall()]


class PgStateStore:
    """``StateStore`` semantics in one workspace: load, write, append, compact."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.b = backend
        self._s = f'"{backend.schema}"'
        # what the database holds as of our last read or write (records are
        # frozen, so identity says unchanged): write() sends only the difference
        self._known: dict[str, RestoreRecord] | None = None
        self._known_lineage: str | None = None

    def load(self) -> State:
        with self.b._tx("read the state", readonly=True) as cur:
            cur.execute(
                f"SELECT lineage, serial, format_version FROM {self._s}.states WHERE workspace = %s",
                (self.b.workspace,),
            )
            head = cur.fetchone()
            if head is None:
                self._known = None
                return State.new()
            lineage, serial, version = head
            if version > FORMAT_VERSION:
                raise UserError(
                    f"the state of {self.b.describe()} has format_version {version}, written by a "
                    f"newer restore-planner; this version reads format_version {FORMAT_VERSION}",
                    hint="upgrade restore-planner; the state was left untouched",
                )
            cur.execute(
                f"SELECT record FROM {self._s}.records WHERE workspace = %s", (self.b.workspace,)
            )
            records = {}
            for (text,) in cur.fetchall():
                rec = RestoreRecord.model_validate_json(text)
                records[rec.address] = rec
        state = State.model_construct(
            format_version=FORMAT_VERSION, lineage=lineage, serial=int(serial), restores=records
        )
        self._known = dict(records)
        self._known_lineage = lineage
        return state

    def _bump(self, cur: psycopg.Cursor[Any], state: State) -> int:
        """Take serial -> serial + 1 if the database still holds what we read; else refuse."""
        serial = state.serial + 1
        cur.execute(
            f"UPDATE {self._s}.states SET serial = %s, updated_at = now() "
            "WHERE workspace = %s AND lineage = %s AND serial = %s",
            (serial, self.b.workspace, state.lineage, state.serial),
        )
        if cur.rowcount == 1:
            return serial
        cur.execute(
            f"SELECT lineage, serial FROM {self._s}.states WHERE workspace = %s FOR UPDATE",
            (self.b.workspace,),
        )
        row = cur.fetchone()
        if row is None:
            cur.execute(
                f"INSERT INTO {self._s}.states (workspace, lineage, serial, format_version) "
                "VALUES (%s, %s, %s, %s)",
                (self.b.workspace, state.lineage, serial, FORMAT_VERSION),
            )
            self._known = {}
            return serial
        lineage, on_db = row
        if lineage != state.lineage:
            raise UserError(
                f"the state of {self.b.describe()} belongs to another state (lineage {lineage}, "
                f"this one is {state.lineage}); refusing to overwrite it",
                hint="choose another --workspace, or `state pull` it to see what it holds",
            )
        raise UserError(
            f"the state of {self.b.describe()} was written by someone else since it was read "
            f"(serial {on_db} in the database, {state.serial} read); refusing to overwrite it",
            hint="run the command again so that it starts from the current state",
        )

    def _upsert(self, cur: psycopg.Cursor[Any], records: Sequence[RestoreRecord]) -> None:
        if not records:
            return
        cur.executemany(
            f"INSERT INTO {self._s}.records (workspace, address, record) VALUES (%s, %s, %s) "
            "ON CONFLICT (workspace, address) DO UPDATE SET record = EXCLUDED.record",
            [(self.b.workspace, r.address, r.model_dump_json()) for r in records],
        )

    def write(self, state: State) -> State:
        """Bump the serial and make the database hold exactly ``state``, in one transaction."""
        with self.b._tx("write the state") as cur:
            serial = self._bump(cur, state)
            known = (
                self._known
                if self._known_lineage == state.lineage and self._known is not None
                else None
            )
            if known is None:
                cur.execute(
                    f"DELETE FROM {self._s}.records WHERE workspace = %s", (self.b.workspace,)
                )
                known = {}
            gone = [a for a in known if a not in state.restores]
            if gone:
                cur.execute(
                    f"DELETE FROM {self._s}.records WHERE workspace = %s AND address = ANY(%s)",
                    (self.b.workspace, gone),
                )
            self._upsert(cur, [r for a, r in state.restores.items() if known.get(a) is not r])
        state.serial = serial
        self._known = dict(state.restores)
        self._known_lineage = state.lineage
        return state

    def append(self, state: State, changed: Sequence[RestoreRecord]) -> State:
        """Record changed records (and bump the serial) in one transaction."""
        if self._known is None:
            return self.write(state)
        with self.b._tx("record restores in the state") as cur:
            serial = self._bump(cur, state)
            self._upsert(cur, changed)
        state.serial = serial
        for r in changed:
            self._known[r.address] = r
        return state

    def compact(self, state: State) -> State:
        """Nothing to fold (appends are rows already); the waiting events go out."""
        self.b.flush()
        return state


class PgLock:
    """``StateLock`` for a workspace: a session advisory lock plus a row naming the holder."""

    def __init__(self, backend: PostgresBackend, operation: str) -> None:
        self.b = backend
        self.operation = operation
        self.info: LockInfo | None = None
        self.stale: LockInfo | None = None

    def acquire(self) -> LockInfo:
        s = f'"{self.b.schema}"'
        with self.b._tx("take the state lock") as cur:
            cur.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_LOCK_CLASS, self.b._lock_key())
            )
            row = cur.fetchone()
            if not (row and row[0]):
                got = self.b._lock_row(cur)
                raise self._locked(got[0] if got else None)
        try:
            with self.b._tx("record the lock holder") as cur:
                got = self.b._lock_row(cur)
                self.stale = got[0] if got else None
                info = LockInfo(
                    id=str(uuid.uuid4()),
                    holder=_user(),
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    operation=self.operation,
                    created=rfc3339_s(datetime.now(UTC)),
                    version=__version__,
                )
                cur.execute(
                    f"INSERT INTO {s}.locks (workspace, id, holder, host, pid, operation, created, "
                    "version, backend_pid) VALUES (%(workspace)s, %(id)s, %(holder)s, %(host)s, "
                    "%(pid)s, %(operation)s, %(created)s, %(version)s, pg_backend_pid()) "
                    "ON CONFLICT (workspace) DO UPDATE SET id = EXCLUDED.id, holder = EXCLUDED.holder, "
                    "host = EXCLUDED.host, pid = EXCLUDED.pid, operation = EXCLUDED.operation, "
                    "created = EXCLUDED.created, version = EXCLUDED.version, backend_pid = EXCLUDED.backend_pid",
                    {"workspace": self.b.workspace, **asdict(info)},
                )
        except BaseException:
            self._unlock()
            raise
        self.info = info
        return info

    def _locked(self, info: LockInfo | None) -> StateLockedError:
        if info is None:
            return StateLockedError(
                f"state {self.b.describe()} is locked by another process (it has not recorded "
                "its holder yet)",
                hint="try again in a moment",
            )
        return StateLockedError(
            f"state {self.b.describe()} is locked by {info.describe()}; lock id {info.id}",
            hint="a killed holder frees the lock by itself; if that process hangs, run: "
            f"restore-planner force-unlock {info.id} --backend postgres --workspace {self.b.workspace}",
        )

    def _unlock(self) -> None:
        if self.b._conn is None or self.b._conn.closed:
            return
        with self.b._tx("release the state lock") as cur:
            cur.execute(
                "SELECT pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_CLASS, self.b._lock_key())
            )

    def release(self) -> None:
        if self.info is None:
            return
        with self.b._tx("release the state lock") as cur:
            # the row only if it is still ours (force-unlock may have handed it on)
            cur.execute(
                f'DELETE FROM "{self.b.schema}".locks WHERE workspace = %s AND id = %s',
                (self.b.workspace, self.info.id),
            )
        self.info = None
        self._unlock()

    def __enter__(self) -> PgLock:
        self.acquire()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class PgJournal:
    """The journal's events as rows; the same events and folding as the file journal."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.b = backend

    def intent(
        self,
        run_id: str,
        address: Any,
        backup_id: str,
        target_id: str,
        body_digest: str,
        at: datetime | float,
        sync: bool = True,
    ) -> None:
        self.b._journal_rows.append(
            journal_line(intent_event(run_id, address, backup_id, target_id, body_digest, at))
        )
        if sync:
            self.sync()

    def sync(self) -> None:
        """Commit every waiting event: after this, a POST may leave."""
        self.b.flush()

    def flush(self) -> None:
        """A row waiting in memory dies with the process: ``flush`` commits, as ``sync``."""
        self.b.flush()

    def accepted(self, address: Any, task_id: str, at: datetime | float) -> None:
        self.b._journal_rows.append(
            journal_line(
                {
                    "event": "accepted",
                    "address": str(address),
                    "task_id": task_id,
                    "at": rfc3339_ms(at),
                }
            )
        )

    def finished(self, address: Any, status: str, at: datetime | float) -> None:
        self.b._journal_rows.append(
            journal_line(
                {
                    "event": "finished",
                    "address": str(address),
                    "status": status,
                    "at": rfc3339_ms(at),
                }
            )
        )
        if len(self.b._journal_rows) > _FLUSH_AFTER:
            self.b.flush()

    def _rows(self) -> tuple[list[int], list[dict[str, Any]]]:
        self.b.flush()
        with self.b._tx("read the journal", readonly=True) as cur:
            cur.execute(
                f'SELECT seq, line FROM "{self.b.schema}".journal WHERE workspace = %s ORDER BY seq',
                (self.b.workspace,),
            )
            seqs, objs = [], []
            for seq, line in cur.fetchall():
                try:
                    obj = json.loads(line)
                except (ValueError, RecursionError):  # a huge number, deep nesting
                    obj = None
                if not isinstance(obj, dict):
                    raise UserError(
                        f"journal of {self.b.describe()}: damaged row {seq}",
                        hint="the row was not changed; inspect it before running apply again",
                    )
                seqs.append(int(seq))
                objs.append(obj)
        return seqs, objs

    def pending(self) -> list[JournalEntry]:
        _, objs = self._rows()
        open_, _ = fold(objs, f"journal of {self.b.describe()}")
        return sorted(open_.values(), key=lambda e: (e.at, e.address))

    def compact(self) -> None:
        seqs, objs = self._rows()
        _, lines = fold(objs, f"journal of {self.b.describe()}")
        keep = [seqs[n] for items in lines.values() for n, _ in items]
        with self.b._tx("compact the journal") as cur:
            cur.execute(
                f'DELETE FROM "{self.b.schema}".journal WHERE workspace = %s AND NOT (seq = ANY(%s))',
                (self.b.workspace, keep),
            )

    def close(self) -> None:
        self.b.flush()

    def __enter__(self) -> PgJournal:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class PgRunLog:
    """A run's events as rows; lines wait for the next transaction (a report, like the file's)."""

    def __init__(self, backend: PostgresBackend, run_id: str, clock: Clock | None = None) -> None:
        self.b = backend
        self.run_id = run_id
        self._clock: Clock = clock or WallClock()
        self.last_line = ""
        self._n = 0
        self._closed = False
        with self.b._tx("start a run log") as cur:
            cur.execute(
                f'INSERT INTO "{self.b.schema}".runs (workspace, run_id) VALUES (%s, %s) '
                "ON CONFLICT DO NOTHING",
                (self.b.workspace, run_id),
            )
            if cur.rowcount != 1:  # like O_EXCL: two applies never share a log
                raise UserError(f"run {run_id} already exists in {self.b.describe()}")

    @classmethod
    def create(
        cls, backend: PostgresBackend, run_id: str | None = None, clock: Clock | None = None
    ) -> PgRunLog:
        clock = clock or WallClock()
        return cls(backend, check_run_id(run_id or new_run_id(clock.now())), clock)

    def record(self, event: Event) -> Event:
        if self._closed:
            raise ValueError(f"run log {self.run_id} is closed")
        event, self.last_line = stamp(self._clock, event)
        self._n += 1
        self.b._event_rows.append((self.run_id, self._n, self.last_line))
        if len(self.b._event_rows) > _FLUSH_AFTER:
            self.b.flush()
        return event

    def event(self, kind: str, **fields: Any) -> Event:
        return self.record(event_of(self._clock, kind, fields))

    def flush(self) -> None:
        """Nothing to do: the lines go with the next transaction (or ``close``)."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.b.flush()

    def __enter__(self) -> PgRunLog:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
