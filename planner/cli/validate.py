"""``restore-planner validate``: offline checks of plan files (no cloud access).

The checks are the pipeline's offline stage (``planner.plan.pipeline.offline``),
the same that ``graph``, ``plan`` and ``apply PATH`` run first; this module only
chooses which plans to check (several paths, plan directories, ``--changed``)
and prints what was found.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from planner.cli.context import Context
from planner.cli.options import ValidateOptions
from planner.cli.output import color_enabled, write_out
from planner.diagnostics import Diagnostic
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
        plans = [
            (plan, opts.vars.var_file or tuple(var_files))
            for plan, var_files in changed_plans(paths)
        ]
    elif len(paths) > 1:
        plans = [(path, opts.vars.var_file) for path in paths]
    else:
        plans = [(sub, opts.vars.var_file) for sub in plan_dirs(paths[0])]
    if not plans and opts.changed:
        return 0  # no changed file belongs to a plan
    if not plans:
        rc, diags, line = _check(paths[0], opts.vars.var_file, opts)
        if opts.format == "json":
            write_out(render_json(diags))
        else:
            _print_text(diags, line, None, opts, ctx)
        return rc
    # several plans: each is checked alone; JSON is one document (the single plan's
    # fields over all of them, and each plan's own under "plans")
    rc, docs, every = 0, [], []
    for plan, var_files in plans:
        one, diags, line = _check(plan, var_files, opts)
        rc = max(rc, one)
        if opts.format == "json":
            docs.append({"path": plan, "valid": one == 0, **json.loads(render_json(diags))})
            every += diags
        else:
            _print_text(diags, line, plan, opts, ctx)
    if opts.format == "json":
        doc = json.loads(render_json(every))
        write_out(json.dumps({**doc, "plans": docs}, indent=2) + "\n")
    return rc


def _check(
    path: str, var_files: Sequence[str], opts: ValidateOptions
) -> tuple[int, list[Diagnostic], str]:
    """One plan's exit code, problems and result line."""
    checked = offline(path, var_files, opts.vars.var)
    config, diags = checked.config, list(checked.diagnostics)
    if checked.failed or config is None:
        errors = sum(1 for d in diags if d.is_error)
        warnings = len(diags) - errors
        return 1, diags, f"Invalid: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}."
    n = len(config.restores)
    files = len(config.files)
    blocks = len({r.address.block for r in config.restores})
    return (
        0,
        diags,
        f"Valid: {_plural(n, 'restore')} ({_plural(blocks, 'block')}) in {_plural(files, 'file')}.",
    )


def _print_text(
    diags: Sequence[Diagnostic], line: str, plan: str | None, opts: ValidateOptions, ctx: Context
) -> None:
    """Problems on stderr, each on lines of its own; the result on stdout (``plan: ...``
    when several plans are checked; a single plan that fails prints no result line)."""
    if diags:
        sys.stdout.flush()
        color = color_enabled(opts.out.no_color, sys.stderr, ctx.env)
        sys.stderr.write(render_text(diags, color=color))
        sys.stderr.flush()
    if plan is not None:
        print(f"{plan}: {line}", flush=True)
    elif line.startswith("Valid"):
        print(line)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
