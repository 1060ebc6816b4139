"""``restore-planner state list|show|rm|mv|pull|push|migrate|force-unlock`` (and ``force-unlock``).

Thin: parse addresses, call planner.state through the chosen backend (local
file or PostgreSQL workspace, ``planner.state.backend``), print. Reading commands
do not take the lock (a reader always sees a whole state: the file is replaced
atomically, the database read is one snapshot); the commands that write do.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from planner.addresses import Address, AddressError
from planner.apply.journal import close_forgotten
from planner.cli.context import Context, state_path
from planner.cli.options import (
    ForceUnlockOptions,
    StateChoice,
    StateListOptions,
    StateMigrateOptions,
    StateMvOptions,
    StatePullOptions,
    StatePushOptions,
    StateRmOptions,
    StateShowOptions,
)
from planner.cli.output import print_json, write_out
from planner.errors import UserError
from planner.state import backend as state_backend
from planner.state.backend import Backend
from planner.state.model import RestoreRecord, State
from planner.state.store import StateStore
from planner.timefmt import rfc3339_s


class _OnState(Protocol):
    """The options of a subcommand that works on one state: ``choice`` and ``path``."""

    @property
    def choice(self) -> StateChoice: ...
    @property
    def path(self) -> str: ...


_O = TypeVar("_O", bound=_OnState)


def _parse(text: str) -> Address:
    try:
        return Address.parse(text)
    except AddressError as exc:
        raise UserError(str(exc)) from None


def _ts(dt: datetime | None) -> str:
    return rfc3339_s(dt)


def _target(rec: RestoreRecord) -> str:
    return f"{rec.target.kind} {rec.target.name or rec.target.id}"


def _backup(rec: RestoreRecord) -> str:
    return f"{rec.backup.name or rec.backup.id} ({_ts(rec.backup.created_at)})"


def _unknown_error(missing: list[str], state: State, path: Path | str) -> UserError:
    known = list(state.restores)
    hints = []
    for m in missing:
        close = difflib.get_close_matches(m, known, n=1)
        if close:
            hints.append(f"did you mean {close[0]} instead of {m}?")
    if not hints:
        hints.append("`restore-planner state list` shows the recorded addresses")
    return UserError(f"not in state {path}: {', '.join(missing)}", hint=" ".join(hints))


def _list(args: StateListOptions, b: Backend) -> int:
    path = b.describe()
    state = b.store().load()
    records = [state.restores[str(a)] for a in state.addresses()]
    if args.format == "json":
        print_json(
            {
                "state": path,
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


def _show(args: StateShowOptions, b: Backend) -> int:
    path = b.describe()
    addr = _parse(args.address)
    state = b.store().load()
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


def _rm(args: StateRmOptions, b: Backend) -> int:
    path = b.describe()
    addrs = [_parse(a) for a in args.address]
    with b.lock("state rm"):
        store = b.store()
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
        with b.journal() as journal:  # before state lets go of them
            close_forgotten(journal, {str(a) for a in doomed}, datetime.now(UTC))
        for a in doomed:
            state.remove(a)
        store.write(state)
    print(f"Removed {len(doomed)} address(es) from state (serial {state.serial}).")
    return 0


def _force_unlock(args: ForceUnlockOptions, b: Backend) -> int:
    info = b.force_unlock(args.lock_id)
    print(f"Removed lock {info.id} held by {info.describe()}; {b.describe()} is unlocked.")
    return 0


def _moves(old: Address, new: Address, recorded: list[Address]) -> list[tuple[Address, Address]]:
    if old.key is None and new.key is None:  # a renamed block: every instance follows
        return [(a, Address(new.block, a.key)) for a in recorded if old.contains(a)]
    if old.key is None and any(a.block == old.block and a.key is not None for a in recorded):
        raise UserError(
            f"{old} has instances in state; move it to a block name, not to {new}",
            hint=f"restore-planner state mv {old} {new.block}",
        )
    return [(old, new)] if old in recorded else []


def _mv(args: StateMvOptions, b: Backend) -> int:
    old, new = _parse(args.old), _parse(args.new)
    with b.lock("state mv"):
        store = b.store()
        state = store.load()
        recorded = state.addresses()
        moves = _moves(old, new, recorded)
        if not moves:
            raise _unknown_error([str(old)], state, b.describe())
        moving = {a for a, _ in moves}
        taken = [str(n) for _, n in moves if n in recorded and n not in moving]
        if taken:
            raise UserError(
                f"already in state: {', '.join(taken)}; refusing to overwrite its record",
                hint="`restore-planner state rm` it first if its record is no longer wanted",
            )
        records = {a: state.restores[str(a)] for a, _ in moves}
        for a, _ in moves:
            state.remove(a)
        for a, n in moves:
            state.record(records[a].model_copy(update={"address": str(n)}))
        store.write(state)
    for a, n in moves:
        print(f"Moved {a} to {n}")
    print(f"Moved {len(moves)} address(es) in state (serial {state.serial}).")
    return 0


def _pull(args: StatePullOptions, b: Backend) -> int:
    state = b.store().load()
    write_out(state.model_dump_json(indent=1) + "\n")
    return 0


def _read_state_file(file: str) -> State:
    p = Path(file)
    if not p.is_file():
        raise UserError(
            f"{file} is not a file", hint="give the output of `state pull`, or a state.json"
        )
    return StateStore(
        p
    ).load()  # refuses what is not a whole, valid state (a .log beside it counts)


def _push(args: StatePushOptions, b: Backend) -> int:
    incoming = _read_state_file(args.file)
    with b.lock("state push"):
        store = b.store()
        current = store.load()
        exists = current.serial > 0
        if exists and incoming.lineage != current.lineage:
            raise UserError(
                f"{args.file} is another state (lineage {incoming.lineage}) than {b.describe()} "
                f"(lineage {current.lineage}); refusing to replace it",
                hint="push it into a workspace of its own (--workspace), or fix the file's lineage",
            )
        if exists and not args.force:
            if incoming.serial < current.serial:
                raise UserError(
                    f"{args.file} is older (serial {incoming.serial}) than {b.describe()} "
                    f"(serial {current.serial}); refusing to replace it",
                    hint="`state pull` the current state and edit that, or pass --force",
                )
            if incoming.serial == current.serial and incoming.restores != current.restores:
                raise UserError(
                    f"{args.file} has serial {incoming.serial} like {b.describe()}, but other records",
                    hint="the two were changed apart; pass --force to replace the state with the file",
                )
        if exists and incoming.restores == current.restores:
            print(f"{b.describe()} already holds these records (serial {current.serial}).")
            return 0
        # written on top of the current serial: every reader and saved plan sees it moved
        state = incoming.model_copy(update={"serial": current.serial})
        store.write(state)
    print(f"Pushed {len(state.restores)} record(s) to {b.describe()} (serial {state.serial}).")
    return 0


def run_migrate(args: StateMigrateOptions, ctx: Context) -> int:
    from planner.state.postgres import PostgresBackend

    local_path = state_path(args.state, args.path)
    if not local_path.is_file():
        raise UserError(
            f"no local state at {local_path}", hint="point --state at the state file to migrate"
        )
    local = state_backend.LocalBackend(local_path)
    choice = state_backend.choose(
        flag="postgres",
        workspace=args.workspace,
        state_flag=None,
        saved_ref=None,
        plan_path=args.path,
    )
    dest = state_backend.open_backend(choice, local_path, ctx.env)
    assert isinstance(dest, PostgresBackend)
    try:
        with local.lock("state migrate"), dest.lock("state migrate"):
            with local.journal() as journal:
                pending = journal.pending()
            if pending:
                raise UserError(
                    f"the local journal has {len(pending)} restore(s) whose outcome is unknown "
                    f"(first {pending[0].address}); refusing to migrate",
                    hint="run apply once more on the local state so it looks them up, then migrate",
                )
            state = local.store().load()
            store = dest.store()
            current = store.load()
            if current.serial > 0:
                raise UserError(
                    f"{dest.describe()} already holds a state (lineage {current.lineage}, serial "
                    f"{current.serial}); refusing to overwrite it",
                    hint="migrate into a new --workspace",
                )
            serial = state.serial
            state.serial = 0
            store.write(state)
            have = set(dest.list_runs())
            runs = [r for r in local.list_runs() if r not in have]
            for run_id in runs:
                dest.import_run(run_id, local.read_run(run_id))
    finally:
        dest.close()
    print(
        f"Migrated {len(state.restores)} record(s) (lineage {state.lineage}, serial {serial} "
        f"locally) and {len(runs)} run log(s) from {local_path} to {dest.describe()}."
    )
    print(
        "The local files were left as they were; use --backend postgres (or backend:) from now on."
    )
    return 0


def _on_backend(
    command: Callable[[_O, Backend], int],
) -> Callable[[_O, Context], int]:
    """``command`` run on the backend its options choose, closed after."""

    def run(opts: _O, ctx: Context) -> int:
        b = ctx.open_state(state_path(opts.choice.state, opts.path), opts.choice, opts.path)
        try:
            return command(opts, b)
        finally:
            b.close()

    return run


run_list = _on_backend(_list)
run_show = _on_backend(_show)
run_rm = _on_backend(_rm)
run_mv = _on_backend(_mv)
run_pull = _on_backend(_pull)
run_push = _on_backend(_push)
run_force_unlock = _on_backend(_force_unlock)
