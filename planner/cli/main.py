"""Argument parsing and the single top-level error handler.

Every command lives in its own module ``planner.cli.<name>`` exposing
``run(args) -> int``; modules are imported lazily so ``--help`` stays fast.
Exit codes: 0 success, 1 error, 2 changes present (plan --detailed-exitcode),
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence

from planner import __version__
from planner.errors import DiagnosticsError, UserError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130

_EPILOG = """\
typical session:
  restore-planner validate plans/                 offline checks, no cloud access
  restore-planner plan plans/ --out drill.plan    refresh, resolve, diff; save for review
  restore-planner show drill.plan --format markdown
  restore-planner apply drill.plan                do exactly what was reviewed

cloud settings come from the environment (the Huawei Cloud Terraform provider's names):
  HW_REGION_NAME, HW_PROJECT_ID, and one of HW_AUTH_TOKEN | HW_ACCESS_KEY+HW_SECRET_KEY |
  HW_USER_NAME+HW_USER_PASSWORD+HW_DOMAIN_NAME; HW_ENDPOINT sends every service to one URL.

exit codes: 0 ok, 1 error, 2 changes present (plan --detailed-exitcode), 130 interrupted.
try it without a cloud: restore-planner demo
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-color", action="store_true", help="never colour output (NO_COLOR works too)")
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


def _state(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state",
        metavar="PATH",
        help="state file (default: .restore-planner/state.json beside the plan)",
    )


def _fmt(p: argparse.ArgumentParser, choices: Sequence[str], default: str = "text") -> None:
    p.add_argument("--format", choices=list(choices), default=default, help=f"output format (default {default})")


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
    p.add_argument("--parallelism", type=int, default=10, metavar="N", help="restores in flight (default 10)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="restore-planner",
        description="Plan, review and apply restores of Huawei Cloud CBR backups, declared in YAML.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"restore-planner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, help: str, description: str = "") -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=description or help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(p)
        return p

    p = cmd(
        "validate",
        "check plan files offline (syntax, schema, templates, references, cycles)",
        "Check plan files without touching the cloud. Prints every problem as\n"
        "file:line:col: error[CODE]: summary, with the source line and a hint.\n\n"
        "example:\n  restore-planner validate plans/prod/ --var point_in_time=2026-11-20T00:00:00Z",
    )
    p.add_argument("path", nargs="?", default=".", help="plan file or directory of *.yaml (default .)")
    _vars(p)
    _fmt(p, ["text", "json"])

    p = cmd(
        "plan",
        "refresh from the cloud, resolve, validate and show what apply would do",
        "Refresh what the plan needs from the cloud, resolve selectors to concrete\n"
        "backups and targets, check every cloud-side rule, compare with state, and\n"
        "print the execution plan. Nothing is changed.\n\n"
        "examples:\n  restore-planner plan plans/ --out drill.plan\n"
        "  restore-planner plan plans/ --format markdown > plan.md\n"
        "  restore-planner plan plans/ --detailed-exitcode   # exit 2 when there are changes",
    )
    p.add_argument("path", nargs="?", default=".", help="plan file or directory (default .)")
    _planning(p)
    _fmt(p, ["text", "json", "markdown"])
    p.add_argument("--out", metavar="FILE", help="save the plan for `show` and `apply FILE`")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when there is nothing to do, 2 when there are changes, 1 on error",
    )

    p = cmd(
        "apply",
        "execute a plan: restore, track to the end, record in state",
        "With a saved plan file, run exactly that plan (refused if stale). With a\n"
        "path, plan first, show it, and ask before overwriting anything.\n\n"
        "examples:\n  restore-planner apply drill.plan\n"
        "  restore-planner apply plans/ --auto-approve --parallelism 20",
    )
    p.add_argument("path", nargs="?", default=".", help="saved plan file, plan file or directory")
    _planning(p)
    _fmt(p, ["text", "json"])
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--poll-interval",
        type=float,
        default=5.0,
        metavar="S",
        help="never poll task status more often than this (seconds, default 5)",
    )

    p = cmd("show", "render a saved plan")
    p.add_argument("planfile", help="file written by plan --out")
    _fmt(p, ["text", "json", "markdown"])

    p = cmd(
        "graph",
        "print the dependency graph as Graphviz dot or Mermaid",
        "examples:\n  restore-planner graph plans/ | dot -Tsvg > graph.svg\n"
        "  restore-planner graph plans/ --format mermaid",
    )
    p.add_argument("path", nargs="?", default=".", help="plan file or directory (default .)")
    _vars(p)
    _fmt(p, ["dot", "mermaid"], default="dot")

    p = cmd("state", "inspect or edit state")
    ssub = p.add_subparsers(dest="state_command", metavar="SUBCOMMAND")
    sp = ssub.add_parser("list", help="list addresses recorded in state")
    _state(sp)
    _common(sp)
    _fmt(sp, ["text", "json"])
    sp.add_argument("path", nargs="?", default=".", help="plan file or directory whose state to use")
    sp = ssub.add_parser("show", help="show one address in state")
    _state(sp)
    _common(sp)
    _fmt(sp, ["text", "json"])
    sp.add_argument("address")
    sp.add_argument("path", nargs="?", default=".")
    sp = ssub.add_parser("rm", help="forget addresses (does not touch the cloud)")
    _state(sp)
    _common(sp)
    sp.add_argument("address", nargs="+")
    sp.add_argument("--path", default=".", help="plan file or directory whose state to use")
    sp = ssub.add_parser("force-unlock", help="remove a stale lock left by a dead process")
    _state(sp)
    _common(sp)
    sp.add_argument("lock_id")
    sp.add_argument("path", nargs="?", default=".")

    p = cmd("force-unlock", "remove a stale state lock (same as `state force-unlock`)")
    _state(p)
    p.add_argument("lock_id")
    p.add_argument("path", nargs="?", default=".")

    p = cmd(
        "report",
        "drill report of the last (or given) apply",
        "examples:\n  restore-planner report --format html --out drill.html\n"
        "  restore-planner report --format junit --out junit.xml",
    )
    p.add_argument(
        "run_id",
        nargs="?",
        help="run id (default: the latest run); a plan file or directory instead uses the state beside it",
    )
    _state(p)
    p.add_argument("path", nargs="?", default=".", help=argparse.SUPPRESS)
    _fmt(p, ["markdown", "html", "junit", "json"], default="markdown")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--calibrate", action="store_true", help="fit overhead and throughput from the run")

    p = cmd("sim", "the built-in cloud simulator")
    simsub = p.add_subparsers(dest="sim_command", metavar="SUBCOMMAND")
    sp = simsub.add_parser(
        "serve",
        help="serve the simulated cloud API over HTTP on 127.0.0.1",
        description="Prints `export ...` lines a client needs, then serves until Ctrl-C.\n\n"
        'example:\n  restore-planner sim serve --inventory inv.yaml --port 0 > sim.env &\n'
        "  sleep 1; . ./sim.env   # the export lines",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(sp)
    sp.add_argument("--inventory", required=True, metavar="FILE")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    sp.add_argument("--time-scale", type=float, default=1.0, metavar="X")
    sp.add_argument("--faults", default="", metavar="SPEC", help="e.g. 5xx=0.05,429=0.05,lost=0.02")
    sp.add_argument("--seed", type=int, default=0)
    sp = simsub.add_parser("generate", help="write a synthetic inventory")
    _common(sp)
    sp.add_argument("--servers", type=int, default=60)
    sp.add_argument("--disks", type=int, default=2, help="data disks per server")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--tiers", default="db,app,web", help="comma-separated tier names")
    sp.add_argument("--out", metavar="FILE", help="write here instead of stdout")

    p = cmd("demo", "run the bundled drill end to end on the in-process simulator")
    p.add_argument("--servers", type=int, default=60)
    p.add_argument("--time-scale", type=float, default=0.0, help="0 picks one that takes about a minute")
    p.add_argument("--dir", default="demo-out", help="where to write plans, state and reports")
    p.add_argument("--auto-approve", action="store_true", default=True, help=argparse.SUPPRESS)

    p = cmd("schema", "print the plan JSON Schema (for editors: yaml-language-server)")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    name = args.command
    if name == "state":
        name = "state"
    elif name == "force-unlock":
        name = "state"
        args.state_command = "force-unlock"
    module = importlib.import_module(f"planner.cli.{name.replace('-', '_')}")
    rc: int = module.run(args)
    return rc


def _crash_log(exc: BaseException) -> str:
    fd, path = tempfile.mkstemp(prefix=f"restore-planner-crash-{int(time.time())}-", suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write(f"restore-planner {__version__}\n")
        f.write("".join(traceback.format_exception(exc)))
    return path


def _cloud_hint(exc: Exception) -> str | None:
    """What to do about a cloud error that ended a command (restores are handled apart)."""
    from planner.cloud.errors import CloudAPIError, CloudAuthError, CloudTransportError

    if isinstance(exc, CloudAuthError):
        return None  # its message already says which variables to check
    if isinstance(exc, CloudTransportError):
        return (
            "check the network and the endpoint (HW_ENDPOINT, or the region's "
            "https://{service}.{region}.myhuaweicloud.com); running the command again is safe"
        )
    if isinstance(exc, CloudAPIError):
        if exc.status == 403:
            return "the credentials lack a permission this command needs (CBR, ECS and EVS read; CBR restore for apply)"
        if exc.status == 404:
            return "check HW_PROJECT_ID and the region: the cloud does not know this path in that project"
        if exc.status == 429 or exc.status >= 500:
            return "the cloud is busy or failing; run the command again later"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_ERROR
    debug = bool(getattr(args, "debug", False))
    if debug:
        import logging

        # HTTP traffic is logged with credentials redacted (planner.cloud.client)
        logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s")
        for noisy in ("httpcore", "httpx", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DiagnosticsError as exc:
        from planner.render.diagnostics import render_text

        color = not getattr(args, "no_color", False)
        sys.stderr.write(render_text(exc.diagnostics, color=color and sys.stderr.isatty()))
        if debug:
            traceback.print_exc()
        return EXIT_ERROR
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return EXIT_ERROR
    except Exception as exc:  # a bug: keep the traceback out of the user's face
        from planner.cloud.errors import CloudError

        if isinstance(exc, CloudError):
            where = getattr(exc, "request", "")
            print(f"error: {where + ': ' if where else ''}{exc}", file=sys.stderr)
            hint = _cloud_hint(exc)
            if hint:
                print(f"hint: {hint}", file=sys.stderr)
            if debug:
                traceback.print_exc()
            return EXIT_ERROR
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
