"""Append-only JSON-lines files: the apply journal, the state log and the run log.

The one implementation of appending a line, making it durable, recovering from a
crash mid-write and reading the file back; each caller chooses its own encoding
and how damage is reported. A crash can leave one torn line at the end (an
``os.write`` cut short): it was never acknowledged, so readers drop it and the
next writer cuts it off before appending (else the next line would glue onto it
and both would be lost). A damaged line anywhere else is not ours to repair.

Reads are bounded (``read_capped``): a path that is a FIFO, a link to
``/dev/zero`` or a huge file is refused, never waited on or read to exhaustion.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from planner.errors import UserError
from planner.fsutil import fsync_dir

# a state of 10,000 restores is about 10 MB, its run log about 15 MB; anything near this is not ours
MAX_BYTES = 512 * 1024 * 1024


class Appender:
    """An open append-only file. ``exclusive``: the file must not exist yet (a run log)."""

    def __init__(self, path: Path, *, exclusive: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = not exclusive and self.path.exists()
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | (os.O_EXCL if exclusive else 0)
        self._fd: int | None = os.open(self.path, flags, 0o644)
        if existed:
            drop_torn_tail(self._fd)
        else:  # make the new directory entry durable too
            fsync_dir(self.path.parent)

    def write(self, data: bytes, *, sync: bool) -> None:
        """Append whole lines (``data`` ends with a newline); ``sync``: fsync before returning."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        view = memoryview(data)
        while view:  # one write in practice; a short write (a full disk, a signal) is finished
            view = view[os.write(self._fd, view) :]
        if sync:
            os.fsync(self._fd)

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def names(self, path: Path) -> bool:
        """Whether ``path`` still names the file this appends to (not replaced or removed
        since it was opened): a writer keeping it open checks this before each write."""
        if self._fd is None:
            return False
        try:
            there = os.stat(path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self._fd)
        return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino)

    def close(self, *, sync: bool = False) -> None:
        if self._fd is not None:
            if sync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        # a writer that keeps its file open for a process's lifetime (the state log)
        if getattr(self, "_fd", None) is not None:
            self.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def drop_torn_tail(fd: int) -> bool:
    """Cut a final line a crash left unfinished; True when there was one.

    Reads back from the end in growing chunks, so a healthy file costs one byte
    and a torn one only its last line."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return False
    back = min(size, 1 << 16)
    while True:
        chunk = os.pread(fd, back, size - back)
        cut = chunk.rfind(b"\n")
        if cut >= 0 or back == size:
            os.ftruncate(fd, size - back + cut + 1)
            os.fsync(fd)
            return True
        back = min(size, back * 4)


def read_capped(path: Path, limit: int, what: str) -> tuple[bytes, os.stat_result] | None:
    """A regular file's bytes (None when it does not exist); a link to /dev/zero, a FIFO
    or a file past ``limit`` is refused, never read to exhaustion or waited on."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}") from None
    hint = "the file was left untouched; point --state at the state file (a regular file)"
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"{what} {path} is not a regular file", hint=hint)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped between stat and open
            raise UserError(f"{what} {path} is not a regular file", hint=hint)
        # refused by its size before a byte is read (the loop below bounds a file that
        # grows while it is read)
        total = st.st_size if st.st_size > limit else 0
        chunks: list[bytes] = []
        while total <= limit:
            chunk = os.read(fd, min(1 << 22, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise UserError(
            f"{what} {path} is larger than {limit // (1024 * 1024)} MiB: not a restore-planner state",
            hint=hint,
        )
    return b"".join(chunks), st


def complete_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every complete, non-blank line; a torn final line is dropped."""
    lines = data.split(b"\n")
    lines.pop()  # "" after the last newline, or a line whose write never finished
    for n, line in enumerate(lines, start=1):
        if line.strip():
            yield n, line


def _loads(line: bytes) -> Any:
    try:
        return json.loads(line)
    # RecursionError: nested too deeply; ValueError: an integer over 4,300 digits
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def read_objects(path: Path, what: str, limit: int = MAX_BYTES) -> list[dict[str, Any]]:
    """The JSON objects of a file only restore-planner appends to (``[]`` when it does not
    exist). A damaged line other than a torn last one is refused: the file is left as is."""
    got = read_capped(path, limit, what)
    if got is None:
        return []
    out: list[dict[str, Any]] = []
    for n, line in complete_lines(got[0]):
        obj = _loads(line)
        if not isinstance(obj, dict):
            raise UserError(
                f"{path}:{n}: damaged line in a file restore-planner only appends to",
                hint="the file was not changed; inspect it before running apply again",
            )
        out.append(obj)
    return out
