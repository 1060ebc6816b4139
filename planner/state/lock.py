"""The state lock: one writer at a time, and a second one told who holds it.

Two files beside the state: ``state.json.lock``, held with an OS lock through
the filelock package (the kernel drops it when the holder dies, even by kill -9),
and ``state.json.lock.info``, JSON naming the holder. The OS lock decides; the
info file only describes. So an info file whose OS lock is free was left by a
dead holder and is simply replaced, while a held OS lock is never broken by
acquire, whatever its info file says. ``force_unlock`` exists for the rare lock
that outlives its process (a child that inherited the descriptor, a network
filesystem) and checks the lock id first.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shlex
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from planner import __version__
from planner.errors import StateLockedError, UserError
from planner.fsutil import write_synced
from planner.render.fmt import clean
from planner.timefmt import rfc3339_s


@dataclass(frozen=True)
class LockInfo:
    id: str
    holder: str  # user name
    host: str
    pid: int
    operation: str
    created: str  # RFC 3339, UTC
    version: str

    def describe(self) -> str:
        return (
            f"{self.operation} (pid {self.pid} on {self.host}, user {self.holder}, "
            f"since {self.created})"
        )

    def process_alive(self) -> bool | None:
        """Whether the holder runs; None when it is on another host (unknowable here)."""
        if self.host != socket.gethostname():
            return None
        return _pid_alive(self.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return str(os.getuid())


def lock_paths(state_path: Path) -> tuple[Path, Path]:
    """(OS lock file, info file) for a state file."""
    return (
        state_path.with_name(state_path.name + ".lock"),
        state_path.with_name(state_path.name + ".lock.info"),
    )


def read_lock_info(state_path: Path) -> LockInfo | None:
    """The info file's holder, or None when there is none or it is unreadable."""
    _, info_path = lock_paths(Path(state_path))
    try:
        raw = json.loads(info_path.read_text())
        return LockInfo(**{k: raw[k] for k in LockInfo.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_info(info_path: Path, info: LockInfo) -> None:
    tmp = info_path.with_name(f".{info_path.name}.{os.getpid()}")
    write_synced(tmp, json.dumps(asdict(info), indent=1).encode() + b"\n")
    os.replace(tmp, info_path)


def locked_error(state_path: Path, info: LockInfo | None) -> StateLockedError:
    if info is None:
        return StateLockedError(
            f"state {state_path} is locked by another process (it has not written "
            f"{lock_paths(state_path)[1].name} yet)",
            hint="try again in a moment",
        )
    # the command as it can be pasted where this ran: the state named, as it was found
    where = shlex.quote(clean(str(state_path)))
    hint = f"if that process is dead, run: restore-planner force-unlock {info.id} --state {where}"
    if info.process_alive() is False:
        return StateLockedError(
            f"state {state_path} is locked by {info.describe()}, which is no longer running, "
            f"but the lock is still held (by a child process or another host?); lock id {info.id}",
            hint=hint,
        )
    return StateLockedError(
        f"state {state_path} is locked by {info.describe()}; lock id {info.id}", hint=hint
    )


class StateLock:
    """``with StateLock(path, "apply") as lock:`` fails at once if anyone holds it."""

    def __init__(self, state_path: Path, operation: str) -> None:
        self.state_path = Path(state_path)
        self.operation = operation
        self._lock_path, self._info_path = lock_paths(self.state_path)
        self._lock = FileLock(str(self._lock_path), timeout=0, thread_local=False)
        self.info: LockInfo | None = None
        # the info file a dead holder left behind, replaced by ours (callers may warn)
        self.stale: LockInfo | None = None

    def acquire(self) -> LockInfo:
        try:
            return self._acquire()
        except OSError as exc:  # a read-only or full directory: a refusal, not a crash
            where = exc.filename or self._lock_path.parent
            raise UserError(
                f"cannot lock the state {self.state_path}: {exc.strerror or exc} ({where})",
                hint="the state's directory must be writable by this user; nothing was sent "
                "to the cloud (or pass --state with a writable location)",
            ) from None

    def _acquire(self) -> LockInfo:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except (Timeout, RuntimeError):
            raise locked_error(self.state_path, read_lock_info(self.state_path)) from None
        try:
            self.stale = read_lock_info(self.state_path)
            info = LockInfo(
                id=str(uuid.uuid4()),
                holder=_user(),
                host=socket.gethostname(),
                pid=os.getpid(),
                operation=self.operation,
                created=rfc3339_s(datetime.now(UTC)),
                version=__version__,
            )
            _write_info(self._info_path, info)
        except BaseException:
            self._lock.release()
            raise
        self.info = info
        return info

    def release(self) -> None:
        if self.info is None:
            return
        # Remove the info only if it is still ours (force-unlock may have handed
        # the state to someone else meanwhile).
        # A failure here (a read-only or vanished directory) must not hide the error the
        # command is ending with, nor keep the lock: the info left behind is read as stale.
        try:
            current = read_lock_info(self.state_path)
            if current is not None and current.id == self.info.id:
                self._info_path.unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            self.info = None
            self._lock.release()

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def force_unlock(state_path: Path, lock_id: str) -> LockInfo:
    """Remove the lock whose id is ``lock_id``; returns the holder it described."""
    state_path = Path(state_path)
    lock_path, info_path = lock_paths(state_path)
    info = read_lock_info(state_path)
    if info is None:
        raise UserError(f"state {state_path} is not locked (no {info_path.name})")
    if info.id != lock_id:
        raise UserError(
            f"lock id {lock_id} does not match the lock on {state_path}: it is {info.id}, "
            f"held by {info.describe()}",
            hint="copy the lock id from the error that named the holder",
        )
    probe = FileLock(str(lock_path), timeout=0)
    try:
        probe.acquire(timeout=0)
    except (Timeout, RuntimeError):
        if info.process_alive():
            raise UserError(
                f"lock {lock_id} is held by a running process: {info.describe()}",
                hint=f"stop process {info.pid} first, or wait for it to finish",
            ) from None
        # Held, but not by a process we can see running: break it by unlinking,
        # so the next acquirer locks a fresh file.
        info_path.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            lock_path.unlink()
        return info
    try:
        info_path.unlink(missing_ok=True)
    finally:
        probe.release()
    return info
