"""A disk that fills up in the middle of an apply (ENOSPC writing state, the journal or
the run log): apply stops sending at once, names the first error (not a later one
from closing its files), lists what is in flight and what was never sent, exits 1,
and the next plan and apply restore every target exactly once. The simulator's
ledger is the witness."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from planner import jsonl
from planner.cli.main import main
from planner.state.lock import StateLock
from tests.apply.checks import duplicates
from tests.apply.drill import addr, in_process, make_drill, simulator, write_drill


@contextmanager
def disk_full(after: int, first: str) -> Iterator[list[str]]:
    """Appends fail with ENOSPC from the ``after``-th write to a file whose name ends
    with ``first``; from then on every append fails (the disk stays full). Yields the
    names of the files whose writes failed, in order."""
    original = jsonl.Appender.write
    seen, failed = [0], []

    def write(self: jsonl.Appender, data: bytes, *, sync: bool) -> None:
        if self.path.name.endswith(first):
            seen[0] += 1
        if seen[0] >= after:
            failed.append(self.path.name)
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        original(self, data, sync=sync)

    jsonl.Appender.write = write  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        jsonl.Appender.write = original  # type: ignore[method-assign]


@pytest.mark.parametrize(("first", "after"), [(".json.log", 2), (".journal", 2), (".jsonl", 1)])
def test_a_full_disk_stops_apply_and_the_next_restores_each_target_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str, after: int
) -> None:
    drill = make_drill(8, seed=1, levels=2)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    state = str(tmp_path / "st" / "state.json")
    args = ["--auto-approve", "--no-color", "--state", state]
    with in_process(sim, clock):
        with disk_full(after, first) as failed:
            rc = main(["apply", str(plan), *args, "--parallelism", "3"])
        out, err = capsys.readouterr()
        posted = len(sim.ledger()["restores"])
        assert rc == 1, err
        assert failed, "the disk never filled: the test proves nothing"
        # the first error is the one named, not the closing's that came after it
        assert err.count("error: No space left on device") == 1, err
        assert f"({tmp_path / 'st'}" in err and failed[0] in err.splitlines()[-2], err
        assert "bug" not in err and "Traceback" not in err
        assert "Apply stopped:" in out, out
        assert 0 < posted < 8  # it stopped sending
        in_flight = [line for line in out.splitlines() if line.startswith("  unknown ")]
        assert in_flight, out
        # the disk has room again: plan shows the restores in flight as reconciles
        assert main(["plan", str(plan), "--no-color", "--state", state]) in (0, 2)
        assert "to reconcile" in capsys.readouterr().out
        assert main(["apply", str(plan), *args]) == 0
        capsys.readouterr()
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert sorted(r["target_id"] for r in ledger["restores"]) == sorted(drill.target.values())


def test_a_journal_that_cannot_be_written_sends_nothing_of_that_launch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The intents are written before any POST: when they cannot be, those restores are
    never sent, and the summary says so instead of calling them in flight."""
    drill = make_drill(6, seed=1, levels=2)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock), disk_full(2, ".journal"):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "2",
                   "--state", str(tmp_path / "state.json")])  # fmt: skip
    out, _err = capsys.readouterr()
    assert rc == 1
    sent = {r["target_id"] for r in sim.ledger()["restores"]}
    not_sent = [line.split()[2].rstrip(":") for line in out.splitlines() if line.startswith("  not sent ")]
    assert not_sent, out
    by_addr = {addr(block): server for block, server in drill.target.items()}
    for a in not_sent:
        assert by_addr[a] not in sent, f"{a} was sent although listed as not sent"


def test_a_lock_release_that_fails_keeps_no_lock_and_hides_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.json"
    lock = StateLock(state, "apply")
    lock.acquire()

    def broken(_path: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("planner.state.lock.read_lock_info", broken)
    with pytest.raises(RuntimeError, match="the command's own error"):
        try:
            raise RuntimeError("the command's own error")
        finally:
            lock.release()  # as ``with lock:`` does on the way out
    monkeypatch.undo()
    again = StateLock(state, "apply")
    again.acquire()  # the lock itself was let go
    again.release()
