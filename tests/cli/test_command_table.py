"""The command boundary: every (sub)command of the parser has an entry in the table,
its arguments parse into its frozen options, and defaults are the ones defined once."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from planner.cli import options as o
from planner.cli.main import COMMANDS, build_parser, command_path


def _leaves(parser: argparse.ArgumentParser, path: str = "") -> list[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [path]
    return [leaf for name, sub in subs[0].choices.items() for leaf in _leaves(sub, f"{path} {name}".strip())]


# the fewest arguments each command accepts
MINIMAL = {
    "show": ["p.plan"],
    "state show": ["db"],
    "state rm": ["db"],
    "state push": ["state.json"],
    "state mv": ["a", "b"],
    "state force-unlock": ["0123abcd"],
    "force-unlock": ["0123abcd"],
    "sim serve": ["--inventory", "inv.yaml"],
    "sim wait": ["sim.env"],
    "completion": ["bash"],
}


def test_every_parser_command_is_in_the_table_and_back() -> None:
    assert sorted(_leaves(build_parser())) == sorted(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_arguments_parse_into_frozen_options(path: str) -> None:
    ns = build_parser().parse_args([*path.split(), *MINIMAL.get(path, [])])
    assert command_path(ns) == path
    command = COMMANDS[path]
    opts = o.from_namespace(command.options, ns)
    assert isinstance(opts, command.options)
    assert isinstance(opts.out, o.Output) and opts.out == o.Output()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.out = o.Output(no_color=True)


def test_defaults_are_defined_once() -> None:
    ns = build_parser().parse_args(["apply"])
    opts = o.from_namespace(o.ApplyOptions, ns)
    assert opts.planning.parallelism == o.DEFAULT_PARALLELISM == 10
    # no --poll-interval: apply's floor starts at the default and follows the restores
    # in flight (planner.apply.policy.poll_floor)
    assert opts.poll_interval is None and o.DEFAULT_POLL_INTERVAL_S == 5.0
    assert opts.path == o.DEFAULT_PATH
    plan = o.from_namespace(o.PlanOptions, build_parser().parse_args(["plan"]))
    assert plan.planning == o.Planning()


def test_repeated_options_become_tuples() -> None:
    ns = build_parser().parse_args(
        ["plan", "plans/", "--var", "a=1", "--var", "b=2", "--target", "db", "--out", "x.plan",
         "--parallelism", "3", "--state", "s.json"]
    )  # fmt: skip
    opts = o.from_namespace(o.PlanOptions, ns)
    assert opts.planning.vars == o.Variables(var=("a=1", "b=2"))
    assert opts.planning.target == ("db",)
    assert opts.planning.choice == o.StateChoice(state="s.json")
    assert (opts.path, opts.out_file, opts.planning.parallelism) == ("plans/", "x.plan", 3)


def test_a_value_of_the_wrong_type_is_a_bug_not_silently_kept() -> None:
    ns = argparse.Namespace(shell=3, no_color=False, debug=False)
    with pytest.raises(o.OptionsError, match=r"CompletionOptions\.shell: 3 is not str"):
        o.from_namespace(o.CompletionOptions, ns)


@pytest.mark.parametrize("value", ["-5", "-inf", "-1e3", "-NaN", "-.5"])
def test_a_negative_value_is_refused_as_a_value_not_taken_for_an_option(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse's own pattern knows only -5 and -.5: `--poll-interval -inf` was
    "expected one argument", which says nothing of what is wrong."""
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["apply", "x.plan", "--poll-interval", value])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert f"must be between 0 and 3600 seconds, got {value}" in err, err
