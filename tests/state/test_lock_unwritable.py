"""A state directory this user cannot write (read-only, immutable, full): apply
refuses with a plain error and a hint, never a traceback and a crash log, and
sends nothing to the cloud."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from planner.cli.main import main
from tests.apply.drill import in_process, make_drill, simulator, write_drill


def test_apply_with_an_unwritable_state_directory_is_a_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(2, seed=1, levels=1)
    _inventory, plan = write_drill(drill, tmp_path)
    state_dir = tmp_path / ".restore-planner"
    state_dir.mkdir()
    chattr = shutil.which("chattr")
    # root ignores modes: an immutable directory refuses even root
    if chattr is None or subprocess.run([chattr, "+i", str(state_dir)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        sim, clock = simulator(drill)
        with in_process(sim, clock):
            assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 1
        err = capsys.readouterr().err
        assert "error: cannot lock the state" in err and "hint: the state's directory must be writable" in err
        assert "unexpected problem" not in err and "Traceback" not in err
        assert sim.ledger()["restores"] == []
    finally:
        subprocess.run([chattr, "-i", str(state_dir)], check=True)
