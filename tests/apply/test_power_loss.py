"""A power cut right after the cloud accepted the restores: only what was fsynced survives.

A kill -9 leaves every byte apply wrote (the kernel has them); a power cut leaves
only what was fsynced. Apply fsyncs one thing before a restore's POST: the
state's "started" record. The journal's intents are written but not fsynced,
and task ids, later state records and the run log wait too. So the cut is
modelled here at its worst: the moment the cloud accepted the last of the
restores (none of their task ids is on disk yet), every file under the state's directory is taken back to its bytes at its last fsync
(a file never fsynced is gone), while the cloud goes on running the restores.
Then a re-plan must show each restore as reconcile and its apply must restore
nothing twice. The simulator's ledger is the witness.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import (
    abandoned_once_accepted,
    addr,
    in_process,
    make_drill,
    simulator,
    write_drill,
)

ARGS = ["--auto-approve", "--no-color", "--parallelism", "4"]


class Disk:
    """Each regular file's size at its last fsync, by inode (a rename keeps the inode)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.synced: dict[tuple[int, int], int] = {}
        real = os.fsync

        def fsync(fd: int) -> None:
            real(fd)
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode):
                self.synced[(st.st_dev, st.st_ino)] = st.st_size

        monkeypatch.setattr(os, "fsync", fsync)

    def image(self, root: Path) -> dict[Path, bytes]:
        """What a power cut now would leave under ``root``."""
        kept: dict[Path, bytes] = {}
        for path in root.rglob("*"):
            if path.is_file():
                st = path.stat()
                size = self.synced.get((st.st_dev, st.st_ino))
                if size is not None:
                    kept[path] = path.read_bytes()[:size]
        return kept


def _put_back(root: Path, image: dict[Path, bytes]) -> None:
    shutil.rmtree(root)
    for path, data in image.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_a_power_cut_after_the_posts_restores_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(8, seed=4, levels=1)
    _inventory, plan = write_drill(drill, tmp_path)
    root = tmp_path / ".restore-planner"
    saved = tmp_path / "again.plan"
    blocks = sorted(drill.target)
    done, cut = blocks[:4], blocks[4:]
    disk = Disk(monkeypatch)
    sim, clock = simulator(drill)
    taken: list[dict[Path, bytes]] = []
    with in_process(sim, clock):
        # a state that exists already: the records of the next apply are appended to its log
        targets = [a for b in done for a in ("--target", b)]
        assert main(["apply", str(plan), *ARGS, *targets]) == 0
        # the cut: at the last accept, the image a power cut would leave; then let go
        with abandoned_once_accepted(len(cut), lambda: taken.append(disk.image(root))):
            assert main(["apply", str(plan), *ARGS]) == 130
    assert sorted(r["target_id"] for r in sim.ledger()["restores"]) == sorted(drill.target.values())

    _put_back(root, taken[0])
    journal = root / "state.json.journal"
    # the intents were written, never fsynced: the cut took them (the worst case)
    assert not journal.exists() or b'"intent"' not in journal.read_bytes()
    left = StateStore(root / "state.json").load().restores
    assert {a: r.status for a, r in left.items()} == {
        **{addr(b): "succeeded" for b in done},
        **{addr(b): "started" for b in cut},
    }
    assert all(left[addr(b)].task_id is None for b in cut)  # no task id reached the disk

    with in_process(sim, clock):
        assert main(["plan", str(plan), "--no-color", "--out", str(saved)]) in (0, 2)
        capsys.readouterr()
        assert main(["show", str(saved), "--format", "json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert {a["address"]: a["action"] for a in shown["actions"]} == {
            **{addr(b): "unchanged" for b in done},
            **{addr(b): "reconcile" for b in cut},
        }
        assert main(["apply", str(saved), "--no-color"]) == 0
        recorded = StateStore(root / "state.json").load().restores
        assert {r.status for r in recorded.values()} == {"succeeded"}
        assert main(["plan", str(plan), "--no-color", "--detailed-exitcode"]) == 0
    restores = sim.ledger()["restores"]
    assert duplicates({"restores": restores}) == []
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
