"""The README's command blocks work as written: each block marked with
``<!-- readme-test: run -->`` runs in bash (errexit, pipefail) in a temporary
copy of the repository's specs/ and examples/, with the venv first on PATH and
no cloud settings in the environment. ``make demo``/``make test`` blocks are not
marked (they are what runs this)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARK = "<!-- readme-test: run -->"
_BLOCK = re.compile(re.escape(MARK) + r"\s*\n```(?:sh|bash)\n(.*?)```", re.DOTALL)


def marked_blocks() -> list[str]:
    return _BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_marks_its_runnable_blocks() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = marked_blocks()
    assert text.count(MARK) == len(blocks), "a mark must stand right before a ```sh block"
    assert any("sim serve" in b and "specs/examples/waves/" in b for b in blocks)
    for block in blocks:
        assert "make demo" not in block and "make test" not in block


@pytest.mark.parametrize("index", range(len(marked_blocks())))
def test_readme_block_runs(index: int, tmp_path: Path) -> None:
    block = marked_blocks()[index]
    for name in ("specs", "examples"):
        shutil.copytree(ROOT / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HW_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a block's background server dies with it, even on failure
    )
    try:
        out, _ = proc.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
    assert proc.returncode == 0, f"README block {index} failed:\n{block}\n--- output ---\n{out}"
    if "apply waves.plan" in block:
        assert "Apply complete: 11 restored, 0 failed" in out, out
        assert "<svg" in (tmp_path / "waves.html").read_text(encoding="utf-8")
        assert not (tmp_path / "sim.env").exists()  # removed when the server stopped
