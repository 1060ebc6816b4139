"""Argument parsing, the command table and the single top-level error handler.

``main(argv, *, env, transport, clock)`` builds one ``Context`` (what the command
runs in, ``planner.cli.context``), parses the arguments once into the command's
frozen options (``planner.cli.options``) and calls ``run(opts, ctx) -> int`` from
the table ``COMMANDS``; each command's module is imported only when it runs, so
``--help`` stays fast.
Exit codes: 0 success, 1 error (a usage error too: 2 means "changes present"
for plan --detailed-exitcode), 2 changes present, 130 interrupted, 141 when
stdout is a pipe the reader closed (like git and terraform, which die of SIGPIPE).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from planner import __version__
from planner.cli import options as o
from planner.errors import DiagnosticsError, PlannerError

if TYPE_CHECKING:
    import httpx
    from _typeshed import SupportsWrite

    from planner.cli.context import Context
    from planner.clock import Clock

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for git or terraform piped into head

_EPILOG = """\
typical session:
  restore-planner validate plans/                 offline checks, no cloud access
  restore-planner plan plans/ --out drill.plan    refresh, resolve, diff; save for review
  restore-planner show drill.plan --format markdown
  restore-planner apply drill.plan                do exactly what was reviewed

cloud settings come from the environment (the Huawei Cloud Terraform provider's names):
  HW_REGION_NAME, HW_PROJECT_ID (or HW_PROJECT_NAME), and one of HW_AUTH_TOKEN |
  HW_ACCESS_KEY+HW_SECRET_KEY | HW_USER_NAME+HW_USER_PASSWORD+HW_DOMAIN_NAME |
  a KooCLI profile (HW_PROFILE, ~/.hcloud/config.json); HW_ENDPOINT sends every
  service to one URL.

exit codes: 0 ok, 1 error (usage errors too), 2 changes present (plan
--detailed-exitcode), 130 interrupted, 141 stdout closed by its reader.
try it without a cloud: restore-planner demo
shell completion: restore-planner completion bash|zsh|fish --help
"""


_NEGATIVE_NUMBER = re.compile(
    r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE
)


class Parser(argparse.ArgumentParser):
    """A usage error exits 1 (2 is `plan --detailed-exitcode`'s "changes present")
    and prints the usage of the command that was mistyped, not the top level's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a value that reads as a negative number is a value, not an option: argparse's
        # own pattern knows only -5 and -.5, so `--poll-interval -inf` was "expected one
        # argument" instead of the value's own refusal
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse swallows a write error: a closed stdout must reach main (exit 141)
        if message:
            (file or sys.stderr).write(message)

    def error(self, message: str, hint: str | None = None) -> NoReturn:
        self.print_usage(sys.stderr)
        hint = hint or f"run `{self.prog} --help` for examples"
        self.exit(EXIT_ERROR, f"error: {message}\nhint: {hint}\n")

    def unrecognized(self, extra: Sequence[str]) -> NoReturn:
        """Terraform spells its flags with one dash (``-auto-approve``, ``-out=F``): say
        which of ours was meant rather than only that the word is unknown."""
        meant = [
            f"--{arg[1:]}"
            for arg in extra
            if arg.startswith("-")
            and not arg.startswith("--")
            and f"--{arg[1:].split('=', 1)[0]}" in self._option_string_actions
        ]
        hint = None
        if meant:
            hint = f"options take two dashes here: {' '.join(meant)}"
        self.error(f"unrecognized arguments: {' '.join(extra)}", hint)


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-color", action="store_true", help="never colour output (NO_COLOR works too)"
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks and redacted HTTP traffic")


def _vars(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="K=V",
        help="set a template variable (repeatable; later wins over --var-file and vars:)",
    )
    p.add_argument(
        "--var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML file of variables (repeatable; later files win)",
    )


MAX_POLL_INTERVAL_S = 3600.0


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None


def _poll_interval(text: str) -> float:
    # inf or nan would never poll again (the apply waits forever), a negative one means nothing
    s = _number(text)
    if not 0.0 <= s <= MAX_POLL_INTERVAL_S:  # also false for nan
        raise argparse.ArgumentTypeError(
            f"must be between 0 and {MAX_POLL_INTERVAL_S:g} seconds, got {text}"
        )
    return s


MAX_TIME_SCALE = 1e7  # simulated seconds per real second: a year in about 3 s


def _time_scale(text: str) -> float:
    # inf or nan overflow the simulated clock; a value <= 0 is each command's to judge
    # (the demo picks one for 0)
    x = _number(text)
    if not x <= MAX_TIME_SCALE:  # also true for nan
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TIME_SCALE:g}, got {text}")
    return x


def _positive_int(text: str) -> int:
    # 0 would start nothing and wait forever; a negative count means nothing
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _state(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state",
        metavar="PATH",
        help="state file (default: .restore-planner/state.json beside the plan)",
    )
    p.add_argument(
        "--backend",
        choices=["local", "postgres"],
        help="where state lives (default: the plan's backend: block, else local); "
        "postgres connects with PG_CONN_STR",
    )
    p.add_argument(
        "--workspace",
        metavar="NAME",
        help="postgres: the state to use (default: backend: block, else default)",
    )


def _fmt(p: argparse.ArgumentParser, choices: Sequence[str], default: str = "text") -> None:
    p.add_argument(
        "--format",
        choices=list(choices),
        default=default,
        help=f"output format (default {default})",
    )


def _plan_path(
    p: argparse.ArgumentParser, what: str = "plan file or directory of *.yaml (default .)"
) -> None:
    p.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=what)


def _planning(p: argparse.ArgumentParser) -> None:
    _vars(p)
    _state(p)
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="ADDR",
        help='limit to ADDR (e.g. db or app["app-01"]) and its dependencies; repeatable',
    )
    p.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="ADDR",
        help="restore ADDR again even if state says it is done; repeatable",
    )
    p.add_argument(
        "--parallelism",
        type=_positive_int,
        default=o.DEFAULT_PARALLELISM,
        metavar="N",
        help=f"restores in flight (default {o.DEFAULT_PARALLELISM})",
    )


class _Commands:
    """Adds (sub)commands that share the parser class, formatter and --no-color/--debug."""

    def __init__(self, parent: argparse.ArgumentParser, dest: str, required: bool = False) -> None:
        self.sub = parent.add_subparsers(
            dest=dest,
            metavar="COMMAND" if dest == "command" else "SUBCOMMAND",
            parser_class=Parser,
            required=required,
        )

    def add(
        self,
        name: str,
        help: str,
        description: str,
        examples: str,
        common: bool = True,
        **kwargs: Any,
    ) -> argparse.ArgumentParser:
        p = self.sub.add_parser(
            name,
            help=help,
            description=description or help,
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kwargs,
        )
        if common:
            _common(p)
        return p


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="restore-planner",
        description="Plan, review and apply restores of Huawei Cloud CBR backups, declared in YAML.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"restore-planner {__version__}")
    cmds = _Commands(parser, "command")
    _validate(cmds)
    _plan_apply(cmds)
    p = cmds.add(
        "show",
        "render a saved plan",
        "Render a plan saved by `plan --out` with the same renderers as `plan`;\n"
        "nothing is refreshed and the cloud is not contacted.",
        _examples(
            "restore-planner show drill.plan",
            "restore-planner show drill.plan --format markdown > plan.md   # a pull request comment",
            "restore-planner show drill.plan --format json | jq '.actions | length'",
        ),
    )
    p.add_argument("planfile", help="file written by plan --out")
    _fmt(p, ["text", "json", "markdown"])
    p = cmds.add(
        "graph",
        "print the dependency graph as Graphviz dot or Mermaid",
        "Print the restores and their dependencies (depends_on, waves) offline.",
        _examples(
            "restore-planner graph plans/ | dot -Tsvg > graph.svg",
            "restore-planner graph plans/ --format mermaid",
        ),
    )
    _plan_path(p)
    _vars(p)
    _fmt(p, ["dot", "mermaid"], default="dot")
    _state_commands(cmds)
    _report(cmds)
    _sim(cmds)
    p = cmds.add(
        "demo",
        "run the bundled drill end to end on the in-process simulator",
        "Generate an inventory, start the simulated cloud in this process, then run\n"
        "validate, plan --out, apply and report in a directory, as a user would.",
        _examples(
            "restore-planner demo",
            "restore-planner demo --servers 300 --time-scale 2000 --dir /tmp/drill",
        ),
    )
    p.add_argument(
        "--servers",
        type=int,
        default=60,
        metavar="N",
        help="servers in the generated inventory (default 60)",
    )
    p.add_argument(
        "--time-scale",
        type=_time_scale,
        default=0.0,
        metavar="X",
        help="simulated seconds per real second; 0 picks one that takes about a minute",
    )
    p.add_argument(
        "--dir",
        default="demo-out",
        metavar="DIR",
        help="where to write plans, state and reports (default demo-out)",
    )
    p.add_argument("--auto-approve", action="store_true", default=True, help=argparse.SUPPRESS)
    cmds.add(
        "schema",
        "print the plan JSON Schema (for editors: yaml-language-server)",
        "Print the JSON Schema (draft-07) of plan files; specs/plan.schema.json is this output.",
        _examples(
            "restore-planner schema > plan.schema.json",
            "# then, first line of a plan:  # yaml-language-server: $schema=plan.schema.json",
        ),
    )
    p = cmds.add(
        "completion",
        "print a shell completion script (bash, zsh or fish)",
        "Print a completion script generated from this command line's own parser.",
        _examples(
            'eval "$(restore-planner completion bash)"          # in ~/.bashrc',
            'eval "$(restore-planner completion zsh)"           # in ~/.zshrc (after compinit)',
            "restore-planner completion fish > ~/.config/fish/completions/restore-planner.fish",
        ),
    )
    p.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete for")
    return parser


def _validate(cmds: _Commands) -> None:
    p = cmds.add(
        "validate",
        "check plan files offline (syntax, schema, templates, references, cycles)",
        "Check plan files without touching the cloud. Prints every problem as\n"
        "file:line:col: error[CODE]: summary, with the source line and a hint.",
        _examples(
            "restore-planner validate plans/prod/ --var point_in_time=2026-11-20T00:00:00Z",
            "restore-planner validate plans/                  # each plan directory under plans/",
            "restore-planner validate --changed plans/prod/db.yaml vars/staging.yaml   # pre-commit",
        ),
    )
    p.add_argument(
        "path",
        nargs="*",
        default=[o.DEFAULT_PATH],
        help="plan files or directories of *.yaml (default .); several are checked one by one",
    )
    p.add_argument(
        "--changed",
        action="store_true",
        help="the paths are changed files (pre-commit): check the plan directory of each once; "
        "plans/ENV/ uses vars/ENV.yaml when no --var-file is given",
    )
    _vars(p)
    _fmt(p, ["text", "json"])


def _plan_apply(cmds: _Commands) -> None:
    p = cmds.add(
        "plan",
        "refresh from the cloud, resolve, validate and show what apply would do",
        "Refresh what the plan needs from the cloud, resolve selectors to concrete\n"
        "backups and targets, check every cloud-side rule, compare with state, and\n"
        "print the execution plan. Nothing is changed.",
        _examples(
            "restore-planner plan plans/ --out drill.plan",
            "restore-planner plan plans/ --format markdown > plan.md",
            "restore-planner plan plans/ --detailed-exitcode   # exit 2 when there are changes",
            "restore-planner plan plans/ --target db --replace 'app[\"app-01\"]'",
        ),
    )
    _plan_path(p, "plan file or directory (default .)")
    _planning(p)
    _fmt(p, ["text", "json", "markdown"])
    p.add_argument("--out", metavar="FILE", help="save the plan for `show` and `apply FILE`")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when there is nothing to do, 2 when there are changes, 1 on error",
    )
    p = cmds.add(
        "apply",
        "execute a plan: restore, track to the end, record in state",
        "With a saved plan file, run exactly that plan without asking (the plan was\n"
        "the review; refused if modified or stale). With a path, plan first, show\n"
        "it, and ask before overwriting anything.",
        _examples(
            "restore-planner apply drill.plan",
            "restore-planner apply plans/ --auto-approve --parallelism 20",
        ),
    )
    _plan_path(p, "saved plan file, plan file or directory (default .)")
    _planning(p)
    _fmt(p, ["text", "json"])
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--require-digest",
        metavar="HEX",
        help="apply the saved plan only if its digest (`Plan digest:` of plan) is this one",
    )
    p.add_argument(
        "--poll-interval",
        type=_poll_interval,
        default=None,
        metavar="S",
        help="never poll task status more often than this (seconds of the cloud's clock); "
        f"default {o.DEFAULT_POLL_INTERVAL_S:g}, shortened to a tenth of the shortest restore "
        "expected in flight, down to 0.5 (restores of seconds are seen in time), and to "
        "a second of ours while the cloud's clock is still being learned",
    )


_STATE_PATH = "plan file or directory whose state to use (default .)"


def _state_commands(cmds: _Commands) -> None:
    p = cmds.add(
        "state",
        "inspect or edit state",
        "Inspect or edit the state file beside a plan. Reading does not take the lock.",
        _examples(
            "restore-planner state list plans/",
            "restore-planner state show 'db[\"db-01\"]' plans/",
            "restore-planner state rm web --path plans/",
        ),
    )
    scmds = _Commands(p, "state_command", required=True)
    sp = scmds.add(
        "list",
        "list addresses recorded in state",
        "List the addresses recorded in state, one a line.",
        _examples(
            "restore-planner state list plans/", "restore-planner state list --format json plans/"
        ),
    )
    _state(sp)
    _fmt(sp, ["text", "json"])
    sp.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "show",
        "show one address in state",
        "Show what state recorded for one address.",
        _examples(
            "restore-planner state show 'db[\"db-01\"]' plans/",
            "restore-planner state show db --format json --state backup/state.json",
        ),
    )
    _state(sp)
    _fmt(sp, ["text", "json"])
    sp.add_argument("address", help='address as `state list` prints it, e.g. db or app["app-01"]')
    sp.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "rm",
        "forget addresses (does not touch the cloud)",
        "Forget addresses: the next plan restores them again. The cloud is not touched.",
        _examples(
            "restore-planner state rm 'app[\"app-01\"]' --path plans/",
            "restore-planner state rm web --state plans/.restore-planner/state.json",
        ),
    )
    _state(sp)
    sp.add_argument(
        "address", nargs="+", help="addresses to forget (a block name forgets all its instances)"
    )
    sp.add_argument("--path", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "pull",
        "print the state as JSON",
        "Print the whole state (lineage, serial, records) as JSON.",
        _examples("restore-planner state pull --backend postgres --workspace prod > prod.json"),
    )
    _state(sp)
    sp.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "push",
        "replace the state with a state file (lineage and serial checked)",
        "Replace the state with FILE (`state pull` output or a state.json). Refused when FILE\n"
        "is another state (lineage) or older than the state (serial), unless --force.",
        _examples("restore-planner state push prod.json --backend postgres --workspace prod"),
    )
    _state(sp)
    sp.add_argument(
        "file", help="a state file: `state pull` output or a .restore-planner/state.json"
    )
    sp.add_argument("--force", action="store_true", help="replace even another or a newer state")
    sp.add_argument("--path", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "mv",
        "rename an address in state (a renamed restore keeps its history)",
        "Move the record of OLD to NEW, so a restore renamed in the plan shows as\n"
        "unchanged instead of forget + restore. A block name moves all its instances.",
        _examples(
            "restore-planner state mv db database --path plans/",
            "restore-planner state mv 'app[\"a\"]' 'app[\"b\"]' --path plans/",
        ),
    )
    _state(sp)
    sp.add_argument("old", help="address or block recorded in state")
    sp.add_argument("new", help="its new address or block name")
    sp.add_argument("--path", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "migrate",
        "copy a local state (and its run logs) into PostgreSQL",
        "Copy the local state file, keeping its lineage, and its run logs into a\n"
        "PostgreSQL workspace (PG_CONN_STR). Refused if the workspace holds another state\n"
        "or the local journal has restores whose outcome is unknown.",
        _examples("restore-planner state migrate plans/prod/ --workspace prod"),
    )
    sp.add_argument(
        "--state", metavar="PATH", help="the local state file (default: beside the plan)"
    )
    sp.add_argument(
        "--workspace",
        metavar="NAME",
        help="destination workspace (default: backend: block, else default)",
    )
    sp.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=_STATE_PATH)
    sp = scmds.add(
        "force-unlock",
        "remove a stale lock left by a dead process",
        "Remove the state lock with this id (the error naming the holder prints it).",
        _examples("restore-planner state force-unlock 6f1c2a9e plans/"),
    )
    _force_unlock_args(sp)
    p = cmds.add(
        "force-unlock",
        "remove a stale state lock (same as `state force-unlock`)",
        "Remove the state lock with this id (the error naming the holder prints it).",
        _examples("restore-planner force-unlock 6f1c2a9e plans/"),
    )
    _force_unlock_args(p)


def _force_unlock_args(p: argparse.ArgumentParser) -> None:
    _state(p)
    p.add_argument("lock_id", help="the lock's id, as the lock error printed it")
    p.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=_STATE_PATH)


def _report(cmds: _Commands) -> None:
    p = cmds.add(
        "report",
        "drill report of the last (or given) apply",
        "Render a run of apply as a drill report: per restore and per wave, estimate\n"
        "versus actual, the critical path taken, a Gantt chart.",
        _examples(
            "restore-planner report plans/ --format html --out drill.html",
            "restore-planner report plans/ --format junit --out junit.xml",
            "restore-planner report plans/ --calibrate",
        ),
    )
    p.add_argument(
        "run_id",
        nargs="?",
        help="run id (default: the latest run); a plan file or directory instead uses the state beside it",
    )
    _state(p)
    p.add_argument("path", nargs="?", default=o.DEFAULT_PATH, help=argparse.SUPPRESS)
    _fmt(p, ["markdown", "html", "junit", "json"], default="markdown")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--calibrate", action="store_true", help="fit overhead and throughput from the run"
    )


def _sim(cmds: _Commands) -> None:
    p = cmds.add(
        "sim",
        "the built-in cloud simulator",
        "A simulated CBR/ECS/EVS/IAM cloud: generate an inventory, serve it over HTTP.",
        _examples(
            "restore-planner sim generate --for-examples --out inv.yaml",
            "restore-planner sim serve --inventory inv.yaml --env-file sim.env &",
            "restore-planner sim wait sim.env && . ./sim.env",
        ),
    )
    simcmds = _Commands(p, "sim_command", required=True)
    sp = simcmds.add(
        "serve",
        "serve the simulated cloud API over HTTP on 127.0.0.1",
        "Print the `export ...` lines a client needs (and write them to --env-file,\n"
        "atomically, once listening), then serve until Ctrl-C.",
        _examples(
            "restore-planner sim serve --inventory inv.yaml --env-file sim.env &",
            "restore-planner sim wait sim.env && . ./sim.env",
            "restore-planner sim serve --inventory inv.yaml --port 8080 --faults 5xx=0.05,429=0.05",
        ),
    )
    sp.add_argument(
        "--inventory",
        required=True,
        metavar="FILE",
        help="inventory written by `sim generate` (YAML or JSON)",
    )
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    sp.add_argument(
        "--time-scale",
        type=_time_scale,
        default=1.0,
        metavar="X",
        help="simulated seconds per real second (default 1: restores take their real time)",
    )
    sp.add_argument("--faults", default="", metavar="SPEC", help="e.g. 5xx=0.05,429=0.05,lost=0.02")
    sp.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the fault injection and of each restore's pace (default 0)",
    )
    sp.add_argument(
        "--clock-skew",
        type=float,
        default=None,
        metavar="SECONDS",
        help="the simulated cloud's clock runs this far ahead (negative: behind) of the "
        "real time; every time it returns moves with it (default: the inventory's "
        "rules.clock_skew_s, 0)",
    )
    sp.add_argument(
        "--env-file",
        metavar="FILE",
        help="write the export lines here (temp file and rename) once the server listens",
    )
    sp = simcmds.add(
        "wait",
        "wait until `sim serve --env-file FILE` is listening",
        "Wait until FILE exists (sim serve writes it atomically once it listens).\n"
        "Without restore-planner: until [ -s sim.env ]; do sleep 0.1; done",
        _examples(
            "restore-planner sim wait sim.env && . ./sim.env",
            "restore-planner sim wait sim.env --timeout 120",
        ),
    )
    sp.add_argument("env_file", metavar="FILE", help="the --env-file given to sim serve")
    sp.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="give up after S seconds (default 60)",
    )
    sp = simcmds.add(
        "generate",
        "write a synthetic inventory",
        "Write a deterministic synthetic inventory (a function of the options).",
        _examples(
            "restore-planner sim generate --servers 200 --out inv.yaml",
            "restore-planner sim generate --for-examples --out inv.yaml   # what specs/examples/ name",
            "restore-planner sim generate --region ap-southeast-1 --project 0a1b... --out inv.json",
        ),
    )
    sp.add_argument(
        "--servers", type=int, default=60, metavar="N", help="servers to generate (default 60)"
    )
    sp.add_argument(
        "--disks", type=int, default=2, metavar="N", help="data disks per server (default 2)"
    )
    sp.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed: the same seed gives the same inventory (default 0)",
    )
    sp.add_argument(
        "--tiers", default="db,app,web", help="comma-separated tier names (default db,app,web)"
    )
    sp.add_argument("--region", metavar="NAME", help="region the simulator claims (default sim-1)")
    sp.add_argument("--project", metavar="ID", help="project id (default derived from the seed)")
    sp.add_argument(
        "--for-examples",
        action="store_true",
        help="also hold the servers, volumes, vault and backups that specs/examples/ name, "
        "in their region and project (at least 3 servers per tier)",
    )
    sp.add_argument("--out", metavar="FILE", help="write here instead of stdout (.json: JSON)")


Opts = TypeVar("Opts")


@dataclass(frozen=True)
class Command(Generic[Opts]):
    """A (sub)command: its options class and how it runs (imported when it does)."""

    options: type[Opts]
    run: Callable[[Opts, Context], int]


# Each entry imports its module only when called: `--help` and completion stay fast.
def _validate_run(opts: o.ValidateOptions, ctx: Context) -> int:
    from planner.cli import validate

    return validate.run(opts, ctx)


def _graph_run(opts: o.GraphOptions, ctx: Context) -> int:
    from planner.cli import graph

    return graph.run(opts, ctx)


def _plan_run(opts: o.PlanOptions, ctx: Context) -> int:
    from planner.cli import plan

    return plan.run(opts, ctx)


def _apply_run(opts: o.ApplyOptions, ctx: Context) -> int:
    from planner.cli import apply

    return apply.run(opts, ctx)


def _show_run(opts: o.ShowOptions, ctx: Context) -> int:
    from planner.cli import show

    return show.run(opts, ctx)


def _state_list(opts: o.StateListOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_list(opts, ctx)


def _state_show(opts: o.StateShowOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_show(opts, ctx)


def _state_rm(opts: o.StateRmOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_rm(opts, ctx)


def _state_pull(opts: o.StatePullOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_pull(opts, ctx)


def _state_push(opts: o.StatePushOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_push(opts, ctx)


def _state_mv(opts: o.StateMvOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_mv(opts, ctx)


def _state_migrate(opts: o.StateMigrateOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_migrate(opts, ctx)


def _force_unlock(opts: o.ForceUnlockOptions, ctx: Context) -> int:
    from planner.cli import state

    return state.run_force_unlock(opts, ctx)


def _report_run(opts: o.ReportOptions, ctx: Context) -> int:
    from planner.cli import report

    return report.run(opts, ctx)


def _sim_serve(opts: o.SimServeOptions, ctx: Context) -> int:
    from planner.cli import sim

    return sim.serve(opts, ctx)


def _sim_wait(opts: o.SimWaitOptions, ctx: Context) -> int:
    from planner.cli import sim

    return sim.wait(opts, ctx)


def _sim_generate(opts: o.SimGenerateOptions, ctx: Context) -> int:
    from planner.cli import sim

    return sim.generate(opts, ctx)


def _demo_run(opts: o.DemoOptions, ctx: Context) -> int:
    from planner.cli import demo

    return demo.run(opts, ctx)


def _schema_run(opts: o.SchemaOptions, ctx: Context) -> int:
    from planner.cli import schema

    return schema.run(opts, ctx)


def _completion_run(opts: o.CompletionOptions, ctx: Context) -> int:
    from planner.cli import completion

    return completion.run(opts, ctx)


# The command line's (sub)command path -> what runs it. A test checks every parser
# path has an entry and every entry a parser.
COMMANDS: dict[str, Command[Any]] = {
    "validate": Command(o.ValidateOptions, _validate_run),
    "graph": Command(o.GraphOptions, _graph_run),
    "plan": Command(o.PlanOptions, _plan_run),
    "apply": Command(o.ApplyOptions, _apply_run),
    "show": Command(o.ShowOptions, _show_run),
    "state list": Command(o.StateListOptions, _state_list),
    "state show": Command(o.StateShowOptions, _state_show),
    "state rm": Command(o.StateRmOptions, _state_rm),
    "state pull": Command(o.StatePullOptions, _state_pull),
    "state push": Command(o.StatePushOptions, _state_push),
    "state mv": Command(o.StateMvOptions, _state_mv),
    "state migrate": Command(o.StateMigrateOptions, _state_migrate),
    "state force-unlock": Command(o.ForceUnlockOptions, _force_unlock),
    "force-unlock": Command(o.ForceUnlockOptions, _force_unlock),
    "report": Command(o.ReportOptions, _report_run),
    "sim serve": Command(o.SimServeOptions, _sim_serve),
    "sim wait": Command(o.SimWaitOptions, _sim_wait),
    "sim generate": Command(o.SimGenerateOptions, _sim_generate),
    "demo": Command(o.DemoOptions, _demo_run),
    "schema": Command(o.SchemaOptions, _schema_run),
    "completion": Command(o.CompletionOptions, _completion_run),
}

_SUBCOMMAND_DESTS = ("command", "state_command", "sim_command")


def command_path(ns: argparse.Namespace) -> str:
    """ "state list" for `state list ...`: the (sub)command names the arguments chose."""
    chosen = vars(ns)
    return " ".join(str(chosen[d]) for d in _SUBCOMMAND_DESTS if chosen.get(d))


def _crash_log(exc: BaseException) -> str:
    fd, path = tempfile.mkstemp(prefix=f"restore-planner-crash-{int(time.time())}-", suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write(f"restore-planner {__version__}\n")
        f.write("".join(traceback.format_exception(exc)))
    return path


_GLOBAL_FLAGS = ("--no-color", "--debug")  # every command takes them (options.Output)


def _globals_after_command(argv: list[str]) -> list[str]:
    """`restore-planner --no-color validate .` as `restore-planner validate . --no-color`:
    the flags every command takes may come before the command too (as git's do)."""
    lead = 0
    while lead < len(argv) and argv[lead] in _GLOBAL_FLAGS:
        lead += 1
    if lead == 0 or lead == len(argv):
        return argv
    rest = argv[lead:]
    if "--" in rest:  # after a literal --, a flag would be a positional argument
        cut = rest.index("--")
        return rest[:cut] + argv[:lead] + rest[cut:]
    return rest + argv[:lead]


def _stdout_closed() -> int:
    """The reader of stdout went away (`state list | head -1`): end quietly.

    Python would otherwise complain again when it flushes stdout at exit, so
    stdout is pointed at /dev/null first. The status is 141 (128 + SIGPIPE),
    what a shell shows for git or terraform in the same pipe: they die of SIGPIPE.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _chosen(parser: argparse.ArgumentParser, path: str) -> argparse.ArgumentParser:
    """The innermost (sub)command parser of ``path`` ("state list")."""
    for name in path.split():
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions or name not in actions[0].choices:
            break
        parser = actions[0].choices[name]
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
) -> int:
    """The command line. ``env`` (default: the process environment), ``transport`` and
    ``clock`` (default: real HTTP, the wall clock) are for in-process callers: the demo,
    tests, bench (see ``planner.cli.context``)."""
    for name in ("stdout", "stderr"):  # a closed stream (`>&-`): written to nowhere
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115
    parser = build_parser()
    argv = _globals_after_command(list(sys.argv[1:] if argv is None else argv))
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # argparse would blame the top level; the mistyped command's usage helps more
            chosen = _chosen(parser, command_path(args))
            assert isinstance(chosen, Parser)
            chosen.unrecognized(extra)
    except BrokenPipeError:  # `--help | head -1`
        return _stdout_closed()
    except SystemExit as exc:  # --help, --version: what they printed must reach its reader
        if exc.code in (0, None):
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                return _stdout_closed()
        raise
    path = command_path(args)
    if not path:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    command = COMMANDS[path]
    opts = o.from_namespace(command.options, args)
    out = opts.out
    assert isinstance(out, o.Output)  # every options class has it: a test checks
    debug = out.debug
    if debug:
        import logging

        # HTTP traffic is logged with credentials redacted (planner.cloud.client)
        logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s")
        for noisy in ("httpcore", "httpx", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        from planner.cli.context import Context

        rc = command.run(opts, Context.build(env, transport, clock))
        sys.stdout.flush()  # a closed pipe shows here when the output fit in the buffer
        return rc
    except BrokenPipeError:
        return _stdout_closed()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the machine's to fix (a full disk, a read-only directory), no bug
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        with contextlib.suppress(OSError, ValueError):
            print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
            print(
                "hint: free the disk or make the directory writable, then run the command "
                "again; restores in flight are recorded as started and the next plan "
                "reconciles them",
                file=sys.stderr,
            )
        if debug:
            traceback.print_exc()
        return EXIT_ERROR
    except DiagnosticsError as exc:
        from planner.cli.output import color_enabled
        from planner.render.diagnostics import render_text

        color = color_enabled(out.no_color, sys.stderr, env)
        sys.stderr.write(render_text(exc.diagnostics, color=color))
        if debug:
            traceback.print_exc()
        return EXIT_ERROR
    except PlannerError as exc:  # the one root: UserError and CloudError alike
        print(f"error: {exc.summary()}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return EXIT_ERROR
    except Exception as exc:  # a bug: keep the traceback out of the user's face
        if debug:
            traceback.print_exc()
            return EXIT_ERROR
        path = _crash_log(exc)
        print(
            f"error: restore-planner hit an unexpected problem ({type(exc).__name__}: {exc}).\n"
            f"This is a bug. The traceback is in {path}; please attach it to a report.",
            file=sys.stderr,
        )
        return EXIT_ERROR
