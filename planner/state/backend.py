"""Where state lives: the interface apply and the state commands use, and choosing one.

A backend holds everything apply writes: the state snapshot (lineage, serial),
the lock and its holder, the journal (intent before each POST) and the run logs
that ``report`` reads. Two implementations: ``LocalBackend`` (the files beside
the plan, as always) and ``planner.state.postgres.PostgresBackend`` (one
PostgreSQL database, several workspaces; imported only when chosen, so the local
backend needs no driver).

Choosing: ``--backend``, else the saved plan's state reference, else the plan's
``backend:`` block, else local. The PostgreSQL connection string comes only from
``PG_CONN_STR`` (as Terraform's pg backend): it is never read from a file, never
stored in a plan, state or log, and never printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from planner.apply.events import Event
from planner.apply.journal import Journal, JournalEntry, journal_path
from planner.apply.runlog import RunLog, list_runs, read_run, runs_dir
from planner.clock import Clock
from planner.errors import UserError
from planner.state.lock import LockInfo, StateLock, force_unlock, read_lock_info
from planner.state.model import RestoreRecord, State
from planner.state.store import StateStore

DEFAULT_SCHEMA = "restore_planner"
DEFAULT_WORKSPACE = "default"
PG_PREFIX = "postgres:"  # a plan's state reference: postgres:<schema>/<workspace>
CONN_ENV = "PG_CONN_STR"
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_WORKSPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class StateStoreLike(Protocol):
    def load(self) -> State: ...
    def write(self, state: State) -> State: ...
    def append(self, state: State, changed: Sequence[RestoreRecord]) -> State: ...
    def compact(self, state: State) -> State: ...


class JournalLike(Protocol):
    def intent(
        self,
        run_id: str,
        address: Any,
        backup_id: str,
        target_id: str,
        body_digest: str,
        at: datetime | float,
        sync: bool = True,
    ) -> None: ...
    def flush(self) -> None: ...
    def sync(self) -> None: ...
    def accepted(self, address: Any, task_id: str, at: datetime | float) -> None: ...
    def finished(self, address: Any, status: str, at: datetime | float) -> None: ...
    def pending(self) -> list[JournalEntry]: ...
    def compact(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class RunLogLike(Protocol):
    run_id: str
    last_line: str

    def record(self, event: Event) -> Event: ...
    def event(self, kind: str, **fields: Any) -> Event: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class LockLike(Protocol):
    info: LockInfo | None
    stale: LockInfo | None

    def acquire(self) -> LockInfo: ...
    def release(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Backend(Protocol):
    kind: str
    # What a saved plan records as its state: a path, or postgres:<schema>/<workspace>.
    ref: str

    def describe(self) -> str: ...
    def store(self) -> StateStoreLike: ...
    def lock(self, operation: str) -> LockLike: ...
    def journal(self) -> JournalLike: ...
    def runlog(self, clock: Clock | None = None) -> RunLogLike: ...
    def list_runs(self) -> list[str]: ...
    def read_run(self, run_id: str | None = None) -> list[dict[str, Any]]: ...
    def run_location(self, run_id: str) -> str: ...
    def held_lock(self) -> LockInfo | None: ...
    def force_unlock(self, lock_id: str) -> LockInfo: ...
    def close(self) -> None: ...


class LocalBackend:
    """The state file and its companions beside it (``planner.state.store`` and friends)."""

    kind = "local"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.ref = str(self.path)

    def describe(self) -> str:
        return str(self.path)

    def store(self) -> StateStore:
        return StateStore(self.path)

    def lock(self, operation: str) -> StateLock:
        return StateLock(self.path, operation)

    def journal(self) -> Journal:
        return Journal(journal_path(self.path))

    def runlog(self, clock: Clock | None = None) -> RunLog:
        return RunLog.create(self.path, clock=clock)

    def list_runs(self) -> list[str]:
        return list_runs(self.path)

    def read_run(self, run_id: str | None = None) -> list[dict[str, Any]]:
        return read_run(self.path, run_id)

    def run_location(self, run_id: str) -> str:
        return str(runs_dir(self.path) / f"{run_id}.jsonl")

    def held_lock(self) -> LockInfo | None:
        """The holder while someone holds the lock (an info file alone may be stale)."""
        info = read_lock_info(self.path)
        if info is None:
            return None
        probe = StateLock(self.path, "probe")
        try:
            probe._lock.acquire(timeout=0)
        except Exception:  # held: the info describes a live holder
            return info
        probe._lock.release()
        return None

    def force_unlock(self, lock_id: str) -> LockInfo:
        return force_unlock(self.path, lock_id)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class BackendChoice:
    kind: str  # local | postgres
    schema: str = DEFAULT_SCHEMA
    workspace: str = DEFAULT_WORKSPACE


def check_names(schema: str, workspace: str) -> None:
    if not _NAME_RE.fullmatch(schema):
        raise UserError(
            f"invalid PostgreSQL schema name {schema!r}",
            hint="lower-case letters, digits and _, starting with a letter or _ (at most 63)",
        )
    if not _WORKSPACE_RE.fullmatch(workspace):
        raise UserError(
            f"invalid workspace name {workspace!r}",
            hint="letters, digits, '.', '_' and '-', starting with a letter or digit (at most 63)",
        )


def parse_ref(ref: str) -> BackendChoice | None:
    """The PostgreSQL choice a saved plan's state reference names, or None for a path."""
    if not ref.startswith(PG_PREFIX):
        return None
    schema, _, workspace = ref[len(PG_PREFIX) :].partition("/")
    return BackendChoice("postgres", schema or DEFAULT_SCHEMA, workspace or DEFAULT_WORKSPACE)


def plan_block(plan_path: str) -> BackendChoice | None:
    """The ``backend:`` block of the plan at ``plan_path``, read before anything else.

    Read literally (no templates: it decides which state the rest is compared
    with). A malformed block is left to ``validate``/``plan``, which report it
    with its location; here it is simply not used.
    """
    from pydantic import ValidationError

    from planner.config.schema import BackendBlock
    from planner.config.source import load_source

    p = Path(plan_path)
    if p.is_dir():
        files = sorted(
            f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and not f.name.startswith(".")
        )
    elif p.is_file() and p.suffix in (".yaml", ".yml"):
        files = [p]
    else:
        return None
    found: list[tuple[Path, BackendChoice]] = []
    for f in files:
        doc, diags = load_source(str(f))
        if doc is None or diags or not isinstance(doc.value, dict):
            continue
        raw = doc.value.get("backend")
        if not isinstance(raw, dict):
            continue
        if any("{{" in str(v) for v in raw.values()):
            raise UserError(
                f"{f}: backend: cannot use templates",
                hint="it chooses the state before variables are read; write its values literally",
            )
        try:
            block = BackendBlock.model_validate(raw)
        except ValidationError:
            continue
        found.append(
            (
                f,
                BackendChoice(
                    block.type,
                    block.schema_ or DEFAULT_SCHEMA,
                    block.workspace or DEFAULT_WORKSPACE,
                ),
            )
        )
    if len(found) > 1:
        raise UserError(
            f"backend: is defined in more than one file ({found[0][0]}, {found[1][0]})",
            hint="keep backend: in one file of the plan",
        )
    return found[0][1] if found else None


def choose(
    *,
    flag: str | None,
    workspace: str | None,
    state_flag: str | None,
    saved_ref: str | None,
    plan_path: str | None,
) -> BackendChoice:
    """Precedence: --backend, then the saved plan's state, then backend:, then local."""
    block = plan_block(plan_path) if plan_path and flag is None and saved_ref is None else None
    saved = parse_ref(saved_ref) if saved_ref else None
    if flag is not None:
        base = block or saved
        schema = base.schema if base and base.kind == "postgres" else DEFAULT_SCHEMA
        choice = BackendChoice(
            flag, schema, workspace or (base.workspace if base else DEFAULT_WORKSPACE)
        )
    elif saved_ref is not None:
        choice = saved or BackendChoice("local")
        if workspace and saved is not None:
            choice = BackendChoice("postgres", saved.schema, workspace)
    elif block is not None:
        choice = BackendChoice(block.kind, block.schema, workspace or block.workspace)
    else:
        choice = BackendChoice("local", workspace=workspace or DEFAULT_WORKSPACE)
    if choice.kind == "postgres" and state_flag:
        raise UserError(
            "--state names a local state file, but the backend is postgres",
            hint="drop --state, or pass --backend local",
        )
    if choice.kind == "local" and workspace:
        raise UserError(
            "--workspace needs the postgres backend",
            hint="pass --backend postgres, or set backend: {type: postgres} in the plan",
        )
    if choice.kind == "postgres":
        check_names(choice.schema, choice.workspace)
    return choice


def open_backend(
    choice: BackendChoice, local_path: Path, env: Mapping[str, str] | None = None
) -> Backend:
    if choice.kind == "local":
        return LocalBackend(local_path)
    from planner.state.postgres import PostgresBackend

    conn = (os.environ if env is None else env).get(CONN_ENV, "")
    if not conn.strip():
        raise UserError(
            f"the postgres backend takes its connection string from {CONN_ENV}, which is not set",
            hint=f"export {CONN_ENV}=postgresql://user@host:5432/dbname (keep a password in "
            "~/.pgpass or PGPASSWORD, never in the plan)",
        )
    return PostgresBackend(conn, choice.schema, choice.workspace)


def note_lock_held(backend: Backend) -> tuple[str, str] | None:
    """(summary, detail) for `plan` when an apply holds the lock: the plan reads the state
    as it is now, and cannot be applied while that run holds it, nor after it if the run
    changed the state (it is stale then)."""
    info = backend.held_lock()
    if info is None:
        return None
    return (
        f"an {info.operation} is in progress on {backend.describe()} ({info.describe()})",
        "this plan reads the state as of now: restores that run has in flight show as "
        "reconcile; applying this plan is refused while that run holds the state, and after "
        "it if the run changed the state; plan again once it is done",
    )
