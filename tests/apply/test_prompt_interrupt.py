"""At apply's "Only 'yes' is accepted" prompt (stdin a terminal), Ctrl-C ends apply at
once with nothing sent, and Ctrl-D is a no. Before, Ctrl-C was held until the answer,
then cancelled the run inside its first POST: a restore sent and at once abandoned;
Ctrl-D crashed. Real processes: `sim serve` and `apply` on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_sim, stop


def _until_prompt(master: int, timeout: float = 60.0) -> str:
    seen, end = b"", time.monotonic() + timeout
    while b"Only 'yes' is accepted" not in seen:
        if time.monotonic() > end:
            raise AssertionError(f"no prompt: {seen[-500:]!r}")
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            seen += os.read(master, 65536)
    return seen.decode(errors="replace")


@pytest.mark.parametrize("answer", ["ctrl-c", "ctrl-d"])
def test_the_prompt_is_answered_at_once_and_nothing_is_sent(tmp_path: Path, answer: str) -> None:
    inv, plan = write_drill(make_drill(2, seed=1, levels=1), tmp_path)
    sim, env = start_sim(inv)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "planner", "apply", str(plan), "--no-color"],
                                cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave)  # fmt: skip
        try:
            _until_prompt(master)
            if answer == "ctrl-c":
                proc.send_signal(signal.SIGINT)
            else:
                os.write(master, b"\x04")  # Ctrl-D at the start of a line: end of input
            rc = proc.wait(timeout=30)
        finally:
            stop(proc)  # type: ignore[arg-type]
        out = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        text = out.decode(errors="replace")
        assert "bug" not in text and "Traceback" not in text, text
        assert rc == (130 if answer == "ctrl-c" else 1), text
        assert ledger(env)["restores"] == []
    finally:
        os.close(master)
        os.close(slave)
        stop(sim)
