"""``restore-planner validate``: offline checks of plan files (no cloud access)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from planner.addresses import Address
from planner.cli.output import color_enabled
from planner.config.load import evaluate
from planner.config.spec import DependencyRef, RestoreSpec
from planner.diagnostics import Diagnostic, SourceRange
from planner.graph.build import GraphNode, build, node_from_spec
from planner.render.diagnostics import render_json, render_text


def plan_dirs(path: str) -> list[str]:
    """A directory without plan files of its own but with plans in subdirectories
    (``plans/prod``, ``plans/staging``) holds several plans: each is checked alone."""
    root = Path(path)
    if not root.is_dir() or any(root.glob("*.yaml")) or any(root.glob("*.yml")):
        return []
    return [
        str(d)
        for d in sorted(root.iterdir())
        if d.is_dir() and (any(d.glob("*.yaml")) or any(d.glob("*.yml")))
    ]


def changed_plans(files: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The plan directories of changed files (pre-commit), each once, with its var files.

    A plan is the directory holding the file, since a plan's files are merged.
    The GitOps layout pairs ``plans/ENV/`` with ``vars/ENV.yaml``: a changed var
    file names its plan, and that plan is checked with it. Other files are ignored.
    """
    plans: dict[str, list[str]] = {}
    for name in files:
        path = Path(name)
        if path.parent.name == "vars":
            paired = path.parent.parent / "plans" / path.stem
            if paired.is_dir():
                plans.setdefault(str(paired), [])
            continue
        if path.suffix in (".yaml", ".yml"):
            plans.setdefault(str(path.parent), [])
    for plan in plans:
        p = Path(plan)
        if p.parent.name == "plans":
            plans[plan] = [str(v) for ext in (".yaml", ".yml")
                           if (v := p.parent.parent / "vars" / f"{p.name}{ext}").is_file()]
    return sorted(plans.items())


def run(args: argparse.Namespace) -> int:
    paths = [args.path] if isinstance(args.path, str) else list(args.path) or ["."]
    if getattr(args, "changed", False):
        rc = 0
        for plan, var_files in changed_plans(paths):
            one = argparse.Namespace(**{**vars(args), "path": plan, "changed": False,
                                        "var_file": list(args.var_file) or var_files})
            if args.format != "json":
                print(f"{plan}:", end=" ", flush=True)
            rc = max(rc, run(one))
        return rc
    if len(paths) > 1:
        rc = 0
        for path in paths:
            if args.format != "json":
                print(f"{path}:", end=" ", flush=True)
            rc = max(rc, run(argparse.Namespace(**{**vars(args), "path": path})))
        return rc
    args = argparse.Namespace(**{**vars(args), "path": paths[0]})
    subdirs = plan_dirs(args.path)
    if subdirs:
        rc = 0
        for sub in subdirs:
            one = argparse.Namespace(**{**vars(args), "path": sub})
            if args.format != "json":
                print(f"{sub}:", end=" ", flush=True)
            rc = max(rc, run(one))
        return rc
    ev = evaluate(args.path, list(args.var_file), list(args.var))
    config, diags = ev.config, ev.diagnostics
    blocks = 0
    if ev.specs or ev.failed_blocks:
        diags = [*diags, *_graph_diagnostics(ev.specs, ev.failed_blocks, ev.failed_depends_on, ev.failed_ranges)]
    if config is not None:
        blocks = len({r.address.block for r in config.restores})
    failed = config is None or any(d.is_error for d in diags)
    if args.format == "json":
        sys.stdout.write(render_json(diags))
    elif diags:
        sys.stderr.write(render_text(diags, color=color_enabled(args.no_color, sys.stderr)))
    if failed:
        return 1
    if args.format != "json" and config is not None:
        n = len(config.restores)
        files = len(config.files)
        print(
            f"Valid: {_plural(n, 'restore')} ({_plural(blocks, 'block')}) in {_plural(files, 'file')}."
        )
    return 0


def _graph_diagnostics(
    specs: Sequence[RestoreSpec],
    failed: frozenset[str],
    failed_deps: Mapping[str, tuple[DependencyRef, ...]],
    failed_at: Mapping[str, SourceRange | None],
) -> list[Diagnostic]:
    # a restore that did not evaluate still exists: references to it are not "unknown",
    # and its own plainly written depends_on is checked like anyone's
    placeholders = [
        GraphNode(Address(name), failed_deps.get(name, ()), None, None, failed_at.get(name), unexpanded=True)
        for name in sorted(failed)
    ]
    _graph, diags = build([*(node_from_spec(s) for s in specs), *placeholders])
    return list(diags)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"

