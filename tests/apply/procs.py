"""Real processes for the apply tests: `sim serve` and `apply` as subprocesses.

Both listen or connect on 127.0.0.1 only; callers stop them in a ``finally``
(``stop``), so no process outlives its test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def start_sim(inventory: Path, faults: str = "", seed: int = 0, time_scale: float = 3000.0) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Starts `sim serve --port 0`; returns it and the environment its export lines give."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "sim", "serve", "--inventory", str(inventory), "--port", "0",
         "--time-scale", str(time_scale), "--faults", faults, "--seed", str(seed)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HW_")}
    assert proc.stdout is not None
    for _ in range(6):
        line = proc.stdout.readline()
        if not line.startswith("export "):
            stop(proc)
            raise AssertionError(f"sim serve printed {line!r}")
        key, _, value = line[len("export "):].strip().partition("=")
        env[key] = value
    env.pop("HW_ACCESS_KEY"), env.pop("HW_SECRET_KEY")  # the token is enough
    return proc, env


def start_apply(args: Sequence[str], env: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "apply", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def ledger(env: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(env["HW_ENDPOINT"] + "/_sim/ledger", timeout=10).json()
    return result


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
