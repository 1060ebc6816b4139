"""Help and usage errors, as a user meets them: every command's --help has
examples and explains every argument; a usage error exits 1 (2 means "changes
present" for plan --detailed-exitcode) and shows the mistyped command's usage."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(p: argparse.ArgumentParser) -> None:
        found.append((p.prog, p))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub in a.choices.values():
                    walk(sub)

    walk(build_parser())
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HW_")}
    return subprocess.run([sys.executable, "-m", "planner", *argv], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)


def test_every_command_is_covered() -> None:
    progs = {prog for prog, _ in _parsers()}
    for name in ("show", "state", "state list", "state show", "state rm", "state force-unlock",
                 "force-unlock", "sim", "sim serve", "sim generate", "sim wait", "demo", "schema",
                 "completion", "validate", "plan", "apply", "graph", "report"):
        assert f"restore-planner {name}" in progs, name


@pytest.mark.parametrize("prog", [prog for prog, _ in _parsers()])
def test_help_has_examples_and_every_argument_has_help(prog: str) -> None:
    parser = dict(_parsers())[prog]
    text = parser.format_help()
    assert "examples:" in text or "typical session:" in text, f"{prog} --help has no examples"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert choice.help, f"{prog}: subcommand {choice.dest} has no help"
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{prog}: {name} has no help text"


def test_help_examples_as_printed() -> None:
    out = _run("state", "list", "--help")
    assert out.returncode == 0
    assert "examples:\n  restore-planner state list plans/\n" in out.stdout
    assert "plan file or directory whose state to use (default .)" in out.stdout
    out = _run("sim", "serve", "--help")
    assert "inventory written by `sim generate` (YAML or JSON)" in out.stdout
    assert "restore-planner sim wait sim.env" in out.stdout


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        (["plan", "--bogus"], "usage: restore-planner plan ", "error: unrecognized arguments: --bogus"),
        (["state", "list", "--format", "xml"], "usage: restore-planner state list ",
         "error: argument --format: invalid choice: 'xml' (choose from 'text', 'json')"),
        (["state"], "usage: restore-planner state ", "error: the following arguments are required: SUBCOMMAND"),
        (["state", "show"], "usage: restore-planner state show ",
         "error: the following arguments are required: address"),
        (["sim", "generate", "--servers", "x"], "usage: restore-planner sim generate ",
         "error: argument --servers: invalid int value: 'x'"),
        (["sim", "serve"], "usage: restore-planner sim serve ",
         "error: the following arguments are required: --inventory"),
        (["apply", "a", "b", "c"], "usage: restore-planner apply ", "error: unrecognized arguments: b c"),
        (["frobnicate"], "usage: restore-planner [-h]", "error: argument COMMAND: invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_1_with_the_subcommands_usage(argv: list[str], usage: str, message: str) -> None:
    out = _run(*argv)
    assert out.returncode == 1, out.stderr
    assert out.stdout == ""
    assert out.stderr.startswith(usage), out.stderr
    assert message in out.stderr
    prog = usage.removeprefix("usage: ").split(" [")[0].strip()
    assert out.stderr.endswith(f"hint: run `{prog} --help` for examples\n")


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["apply", "-auto-approve", "x.plan"], "--auto-approve"),
        (["plan", "-out=x.plan", "-detailed-exitcode", "plans/"], "--out=x.plan --detailed-exitcode"),
    ],
)
def test_terraform_s_one_dash_flags_are_answered_with_ours(argv: list[str], hint: str) -> None:
    out = _run(*argv)
    assert out.returncode == 1, out.stderr
    assert out.stderr.endswith(f"hint: options take two dashes here: {hint}\n"), out.stderr


def test_no_command_prints_help_and_exits_1() -> None:
    out = _run()
    assert out.returncode == 1
    assert out.stderr.startswith("usage: restore-planner")
    assert "typical session:" in out.stderr


def test_plan_detailed_exitcode_keeps_2_for_changes_only() -> None:
    # a usage error of plan itself is 1, never the "changes present" 2
    assert _run("plan", "--detailed-exitcode", "--parallelism", "many").returncode == 1
