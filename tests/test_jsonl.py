"""planner.jsonl, the append-only JSON-lines files (journal, state log, run log): a torn last
line is dropped on read and cut before the next append, damage elsewhere is refused with
its line, and reads are bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner import jsonl
from planner.errors import UserError


def test_append_after_a_crash_mid_write_cuts_the_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a":1}\n{"a":2')  # the second write never finished
    with jsonl.Appender(path) as f:
        f.write(b'{"a":3}\n', sync=True)
    assert path.read_bytes() == b'{"a":1}\n{"a":3}\n'
    assert jsonl.read_objects(path, "journal") == [{"a": 1}, {"a": 3}]


def test_torn_tail_longer_than_one_chunk_and_a_file_that_is_all_tail(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"a":1}\n' + b"x" * 300_000)
    fd = os.open(path, os.O_RDWR)
    try:
        assert jsonl.drop_torn_tail(fd) is True
        assert jsonl.drop_torn_tail(fd) is False
    finally:
        os.close(fd)
    assert path.read_bytes() == b'{"a":1}\n'
    path.write_bytes(b'{"a":')
    jsonl.Appender(path).close()
    assert path.read_bytes() == b""


def test_exclusive_never_shares_a_file(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "r.jsonl"
    jsonl.Appender(path, exclusive=True).close()
    with pytest.raises(FileExistsError):
        jsonl.Appender(path, exclusive=True)


def test_complete_lines_numbers_lines_as_an_editor_does(tmp_path: Path) -> None:
    assert list(jsonl.complete_lines(b"a\n\nb\nc")) == [(1, b"a"), (3, b"b")]
    assert list(jsonl.complete_lines(b"")) == []


def test_damaged_line_is_refused_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    assert jsonl.read_objects(path, "journal") == []  # no file yet
    for bad in (b"not json", b"[1, 2]", b"[" * 100_000 + b"]" * 100_000, b"1" * 5000):
        path.write_bytes(b'{"a":1}\n' + bad + b'\n{"a":2}\n')
        with pytest.raises(UserError) as exc:
            jsonl.read_objects(path, "journal")
        assert exc.value.message == f"{path}:2: damaged line in a file restore-planner only appends to"
        assert exc.value.hint == "the file was not changed; inspect it before running apply again"


def test_reads_are_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="is not a regular file"):  # refused, not waited on
        jsonl.read_objects(fifo, "run log")
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"a":1}\n' * 1000)
    with pytest.raises(UserError, match="is larger than 0 MiB"):
        jsonl.read_objects(big, "run log", limit=4096)


def test_a_file_past_the_limit_is_refused_by_its_size_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """600 MB (sparse) against the 512 MiB limit: refused at once, not after reading
    512 MiB into memory (3.4 s and 629 MB before)."""
    big = tmp_path / "state.json"
    with big.open("wb") as f:
        f.truncate(600 * 1024 * 1024)
    read = [0]
    real_read = os.read

    def counting(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        read[0] += len(data)
        return data

    monkeypatch.setattr(os, "read", counting)
    with pytest.raises(UserError, match="is larger than 512 MiB"):
        jsonl.read_capped(big, jsonl.MAX_BYTES, "state")
    assert read[0] == 0


def test_an_appender_knows_when_its_path_names_another_file(tmp_path: Path) -> None:
    path = tmp_path / "log"
    log = jsonl.Appender(path)
    assert log.names(path)
    other = tmp_path / "other"
    other.write_bytes(b"")
    os.replace(other, path)  # another writer replaced it: appending to the old file would be lost
    assert not log.names(path)
    path.unlink()
    assert not log.names(path)
    log.close()
    assert not log.names(tmp_path / "log")
