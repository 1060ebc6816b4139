"""``restore-planner validate``: offline checks of plan files (no cloud access).

The checks are the pipeline's offline stage (``planner.plan.pipeline.offline``),
the same that ``graph``, ``plan`` and ``apply PATH`` run first; this module only
chooses which plans to check (several paths, plan directories, ``--changed``)
and prints what was found.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from planner.cli.context import Context
from planner.cli.options import ValidateOptions
from planner.cli.output import color_enabled
from planner.plan.pipeline import offline
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
            plans[plan] = [
                str(v)
                for ext in (".yaml", ".yml")
                if (v := p.parent.parent / "vars" / f"{p.name}{ext}").is_file()
            ]
    return sorted(plans.items())


def run(opts: ValidateOptions, ctx: Context) -> int:
    paths = list(opts.path) or ["."]
    if opts.changed:
        rc = 0
        for plan, var_files in changed_plans(paths):
            chosen = opts.vars.var_file or tuple(var_files)
            if opts.format != "json":
                print(f"{plan}:", end=" ", flush=True)
            rc = max(rc, run(replace(opts, path=(plan,), changed=False,
                                     vars=replace(opts.vars, var_file=chosen)), ctx))  # fmt: skip
        return rc
    if len(paths) > 1:
        rc = 0
        for path in paths:
            if opts.format != "json":
                print(f"{path}:", end=" ", flush=True)
            rc = max(rc, run(replace(opts, path=(path,)), ctx))
        return rc
    subdirs = plan_dirs(paths[0])
    if subdirs:
        rc = 0
        for sub in subdirs:
            if opts.format != "json":
                print(f"{sub}:", end=" ", flush=True)
            rc = max(rc, run(replace(opts, path=(sub,)), ctx))
        return rc
    checked = offline(paths[0], opts.vars.var_file, opts.vars.var)
    config, diags = checked.config, checked.diagnostics
    if opts.format == "json":
        sys.stdout.write(render_json(diags))
    elif diags:
        no_color = opts.out.no_color
        sys.stderr.write(render_text(diags, color=color_enabled(no_color, sys.stderr, ctx.env)))
    if checked.failed or config is None:
        return 1
    if opts.format != "json":
        n = len(config.restores)
        files = len(config.files)
        blocks = len({r.address.block for r in config.restores})
        print(
            f"Valid: {_plural(n, 'restore')} ({_plural(blocks, 'block')}) in {_plural(files, 'file')}."
        )
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
