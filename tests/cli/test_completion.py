"""`restore-planner completion bash|zsh|fish`: scripts generated from the parser, run in the real shells."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli.completion import script


def _bash_complete(words: list[str], cwd: Path) -> list[str]:
    line = " ".join(f"'{w}'" for w in words)
    prog = f"""
source <("{sys.executable}" -m planner completion bash)
COMP_WORDS=({line}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMPREPLY=()
_restore_planner
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    out = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return out.stdout.split()


def test_bash_completes_commands_subcommands_options_and_choices(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    assert _bash_complete(["restore-planner", "st"], tmp_path) == ["state"]
    assert _bash_complete(["restore-planner", "state", "l"], tmp_path) == ["list"]
    assert _bash_complete(["restore-planner", "state", "list", "--format", ""], tmp_path) == ["text", "json"]
    assert _bash_complete(["restore-planner", "plan", "--format", "m"], tmp_path) == ["markdown"]
    assert _bash_complete(["restore-planner", "sim", "generate", "--for"], tmp_path) == ["--for-examples"]
    assert _bash_complete(["restore-planner", "completion", "f"], tmp_path) == ["fish"]
    assert _bash_complete(["restore-planner", "validate", "pl"], tmp_path) == ["plans"]  # paths
    assert _bash_complete(["restore-planner", "plan", "--out", "pl"], tmp_path) == ["plans"]


def test_every_command_is_in_every_script() -> None:
    for shell in ("bash", "zsh", "fish"):
        text = script(shell)
        for word in ("validate", "plan", "apply", "show", "graph", "state", "force-unlock", "report",
                     "sim", "demo", "schema", "completion", "detailed-exitcode", "for-examples",
                     "env-file"):
            assert word in text, (shell, word)  # fish spells options `-l name`


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes(tmp_path: Path) -> None:
    path = tmp_path / "rp.fish"
    path.write_text(script("fish"))
    out = subprocess.run(
        ["fish", "--no-config", "-c", f"source {path}; complete -C 'restore-planner state list --format '; "
         "complete -C 'restore-planner sim g'"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    got = [line.split("\t")[0] for line in out.stdout.splitlines()]
    assert got == ["json", "text", "generate"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_loads(tmp_path: Path) -> None:
    path = tmp_path / "_restore-planner"
    path.write_text(script("zsh"))
    out = subprocess.run(
        ["zsh", "-f", "-c", f"autoload -U compinit && compinit -u -d {tmp_path}/zcd && source {path} "
         "&& print -r -- $_comps[restore-planner]"],
        capture_output=True, text=True, timeout=60,
    )
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "_restore_planner", "")


def test_completion_command_prints_the_script() -> None:
    out = subprocess.run([sys.executable, "-m", "planner", "completion", "bash"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.startswith("# bash completion for restore-planner")
    assert out.stdout.rstrip().endswith("complete -o filenames -F _restore_planner restore-planner")
