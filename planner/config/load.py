"""The single entry point from plan files to a PlanConfig: ``load_plan``.

Owns finding the files (a file, or a directory's ``*.yaml``/``*.yml`` sorted
by name), merging them, gathering variables, validating the top-level sections
and calling expansion. Merge rules: every file is a full document (``version:
1`` in each, so editors validate every file alike); ``restores`` merge across
files and a name defined twice is an error naming both places; ``cloud``,
``vars``, ``defaults`` and ``guards`` may each appear in only one file.

Variables, later wins: ``vars:`` < ``--var-file F`` (a YAML mapping, in order)
< ``--var k=v`` (in order). A ``--var`` value is always a string, as in
Terraform; use a var file for lists, maps and numbers. ``vars`` are literal
values: they are not themselves templated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from planner.config import spec, template
from planner.config.expand import (
    Block,
    expand_restores,
    literal_depends_on,
    render_tree,
    schema_diagnostics,
)
from planner.config.schema import PlanHeader
from planner.config.source import SourceDoc, load_source, not_regular
from planner.diagnostics import Diagnostic, Related, SourceRange, error
from planner.validate import offline

_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SINGLE_SECTIONS = ("cloud", "vars", "defaults", "guards")


@dataclass(frozen=True)
class Evaluated:
    """Everything loading found, also when it found errors (for `validate`)."""

    config: spec.PlanConfig | None  # None when any error was found
    specs: tuple[spec.RestoreSpec, ...]  # the restores that evaluated cleanly
    failed_blocks: frozenset[str]  # restore names that did not evaluate
    diagnostics: list[Diagnostic]
    # their depends_on entries written as plain addresses, by restore name
    failed_depends_on: Mapping[str, tuple[spec.DependencyRef, ...]] = field(default_factory=dict)
    failed_ranges: Mapping[str, SourceRange | None] = field(default_factory=dict)  # their names


def load_plan(
    path: str, var_files: list[str], var_args: list[str]
) -> tuple[spec.PlanConfig | None, list[Diagnostic]]:
    """Load, merge, evaluate. Returns (None, diags) when any error was found."""
    ev = evaluate(path, var_files, var_args)
    return ev.config, ev.diagnostics


def evaluate(path: str, var_files: list[str], var_args: list[str]) -> Evaluated:
    """Like load_plan, and also the restores that evaluated despite errors elsewhere,
    so later checks (the graph) can still report their own problems. Every template
    of the load draws on one budget (``template.plan_scope``)."""
    with template.plan_scope():
        return _evaluate(path, var_files, var_args)


def _evaluate(path: str, var_files: list[str], var_args: list[str]) -> Evaluated:
    diags: list[Diagnostic] = []
    files = _discover(path, diags)
    docs: list[SourceDoc] = []
    for fs_path in files:
        doc, ds = load_source(fs_path)
        diags.extend(ds)
        if doc is None or ds:
            continue
        if not isinstance(doc.value, dict):
            diags.append(error("RP111", "a plan file must be a mapping with version: and restores:",
                               "start with `version: 1`", doc.range(())))  # fmt: skip
            continue
        docs.append(doc)
    owners = _single_sections(docs, diags)
    variables = _variables(owners.get("vars"), var_files, var_args, diags)
    header: dict[str, Any] = {}
    ranges: dict[str, SourceRange] = {}
    for doc in docs:
        header.update(_header(doc, variables, diags, ranges))
    blocks = _blocks(docs, diags)
    if not blocks and files and len(docs) == len(files):
        diags.append(_no_restores(docs))
    defaults = header.get("defaults")
    power_on = defaults.power_on if defaults is not None else True
    specs, ds = expand_restores(blocks, variables, power_on)
    diags.extend(ds)
    diags.extend(offline.check(specs))
    diags = _dedupe(diags)
    failed = frozenset(b.name for b in blocks) - {x.address.block for x in specs}
    failed_deps = {b.name: literal_depends_on(b) for b in blocks if b.name in failed}
    failed_at = {b.name: b.doc.key_range(("restores", b.name)) for b in blocks if b.name in failed}
    if any(d.is_error for d in diags):
        return Evaluated(None, tuple(specs), failed, diags, failed_deps, failed_at)
    cloud, guards = header.get("cloud"), header.get("guards")
    config = spec.PlanConfig(
        files=tuple(files),
        region=cloud.region if cloud else None,
        project_id=cloud.project_id if cloud else None,
        guards=_guards(guards),
        estimates=_estimates(defaults),
        restores=tuple(specs),
        digest=_digest(docs, variables),
        ranges=ranges,
    )
    return Evaluated(config, tuple(specs), failed, diags, failed_deps, failed_at)


def _discover(path: str, diags: list[Diagnostic]) -> list[str]:
    if os.path.isdir(path):
        names = sorted(
            n for n in os.listdir(path) if n.endswith((".yaml", ".yml")) and not n.startswith(".")
        )
        files = []
        root = os.path.realpath(path)
        for n in names:
            # a FIFO, device, dangling or looping link among the plan files is reported:
            # skipping it silently would drop restores from a recovery
            full = os.path.join(path, n)
            try:
                mode = os.stat(full).st_mode
            except OSError as exc:
                diags.append(error("RP108", f"cannot read {full}: {exc.strerror}",
                                   "every *.yaml file in a plan directory is part of the plan; fix or remove it"))  # fmt: skip
                continue
            if not stat.S_ISREG(mode):
                diags.append(not_regular(full, mode))
                continue
            if os.path.islink(full) and not _inside(os.path.realpath(full), root):
                # a plan comes from a pull request: a link in it must not read the
                # reviewer's files (/proc/self/environ holds the credentials); a file
                # named on the command line is the operator's choice and is not checked
                diags.append(error("RP108", f"cannot read {full}: it is a symbolic link to a file outside the plan directory",
                                   "plan files must be in the plan directory; copy the file in, or name it on the command line",
                                   SourceRange(full, 1, 1)))  # fmt: skip
                continue
            files.append(full)
        if not files and not diags:
            diags.append(
                error(
                    "RP108",
                    f"no *.yaml or *.yml files in {path}",
                    "point at a plan file or a directory of them",
                )
            )
        return files
    if not os.path.exists(path):
        diags.append(
            error(
                "RP108", f"{path} does not exist", "give a plan file or a directory of *.yaml files"
            )
        )
        return []
    return [path]


def _inside(real: str, root: str) -> bool:
    try:
        return os.path.commonpath([real, root]) == root
    except ValueError:  # different drives
        return False


def _single_sections(docs: list[SourceDoc], diags: list[Diagnostic]) -> dict[str, SourceDoc]:
    owners: dict[str, SourceDoc] = {}
    for doc in docs:
        for section in _SINGLE_SECTIONS:
            if section not in doc.value:
                continue
            if section in owners:
                first = owners[section]
                diags.append(error("RP135", f"{section}: is defined in more than one file",
                                   f"keep {section}: in one file ({first.file})", doc.key_range((section,)),
                                   [Related("first defined here", first.key_range((section,)))]))  # fmt: skip
                continue
            owners[section] = doc
    return owners


def _variables(
    owner: SourceDoc | None, var_files: list[str], var_args: list[str], diags: list[Diagnostic]
) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    if owner is not None and isinstance(owner.value.get("vars"), dict):
        _check_names(owner, ("vars",), diags)
        variables.update(owner.value["vars"])
    for f in var_files:
        doc, ds = load_source(f)
        diags.extend(ds)
        if doc is None or ds:
            continue
        if not isinstance(doc.value, dict):
            diags.append(error("RP141", f"variable file {f} must be a mapping of names to values",
                               "for example:\npoint_in_time: 2026-11-20T00:00:00Z", doc.range(())))  # fmt: skip
            continue
        _check_names(doc, (), diags)
        variables.update(doc.value)
    for arg in var_args:
        name, eq, value = arg.partition("=")
        name = name.strip()
        if not eq or not _VAR_NAME.fullmatch(name):
            diags.append(error("RP140", f"invalid --var {arg!r}",
                               "write --var NAME=VALUE, e.g. --var point_in_time=2026-11-20T00:00:00Z"))  # fmt: skip
            continue
        variables[name] = value
    return variables


def _check_names(doc: SourceDoc, base: tuple[str, ...], diags: list[Diagnostic]) -> None:
    # a variable is used as {{ name }}: a key that is no name can never be used, and is a typo
    mapping = doc.value.get(base[0]) if base else doc.value
    for key in mapping:
        if not _VAR_NAME.fullmatch(key):
            diags.append(error("RP142", f"invalid variable name {key[:80]!r}",
                               "a variable name starts with a letter or _ and holds letters, digits and _",
                               doc.key_range((*base, key))))  # fmt: skip


def _no_restores(docs: list[SourceDoc]) -> Diagnostic:
    # An error, as Terraform refuses a directory with no configuration: a restore plan
    # with nothing to restore is always a mistake (a wrong path, `restore:` misspelt, the
    # restores moved to another file), and a drill that "succeeds" restoring nothing is
    # the outcome to avoid; a warning scrolls past in a CI log.
    doc = docs[0]
    where = doc.key_range(("restores",)) if doc.has(("restores",)) else doc.range(())
    return error("RP137", "the plan has no restores",
                 "add restores under `restores:` (e.g. db: {server: {name: db-01}, backup: {before: ...}}), "
                 "or point at the plan file or directory that holds them", where)  # fmt: skip


def _header(
    doc: SourceDoc,
    variables: dict[str, Any],
    diags: list[Diagnostic],
    ranges: dict[str, SourceRange],
) -> dict[str, Any]:
    raw = {k: v for k, v in doc.value.items() if k != "restores"}
    if "restores" in doc.value and not isinstance(doc.value["restores"], dict | None):
        raw["restores"] = doc.value["restores"]  # let the schema report its type
    before = len(diags)
    data = {
        k: (v if k == "vars" else render_tree(v, (k,), variables, doc, diags))
        for k, v in raw.items()
    }
    if len(diags) > before:
        return {}
    try:
        model = PlanHeader.model_validate(
            {k: v for k, v in data.items() if v is not None or k == "version"}
        )
    except ValidationError as exc:
        diags.extend(schema_diagnostics(exc, data, doc, ()))
        return {}
    for section in ("cloud", "guards", "defaults"):
        value = data.get(section)
        if isinstance(value, dict):
            for key in value:
                ranges[f"{section}.{key}"] = doc.range((section, key))
    return {
        k: getattr(model, k)
        for k in ("cloud", "defaults", "guards")
        if k in raw and getattr(model, k) is not None
    }


def _blocks(docs: list[SourceDoc], diags: list[Diagnostic]) -> list[Block]:
    seen: dict[str, SourceDoc] = {}
    blocks: list[Block] = []
    for doc in docs:
        restores = doc.value.get("restores")
        if not isinstance(restores, dict):
            continue
        for name, raw in restores.items():
            if name in seen:
                first = seen[name].key_range(("restores", name))
                diags.append(error("RP134", f"restore {name!r} is defined twice",
                                   f"it is already defined at {first}; rename or remove one",
                                   doc.key_range(("restores", name)), [Related("first defined here", first)]))  # fmt: skip
                continue
            seen[name] = doc
            blocks.append(Block(name, doc, raw))
    return blocks


def _guards(g: Any) -> spec.Guards:
    if g is None:
        return spec.Guards()
    return spec.Guards(
        tuple(sorted(g.deny_target_tags.items())),
        g.max_restores,
        g.max_backup_skew,
        g.max_backup_age,
    )


def _estimates(d: Any) -> spec.Estimates:
    base = spec.Estimates()
    if d is None:
        return base
    overhead = (
        d.restore_overhead.total_seconds()
        if d.restore_overhead is not None
        else base.restore_overhead_s
    )
    throughput = (
        d.throughput_gb_per_min
        if d.throughput_gb_per_min is not None
        else base.throughput_gb_per_min
    )
    return spec.Estimates(overhead, throughput)


def _digest(docs: list[SourceDoc], variables: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.file):
        h.update(doc.file.encode() + b"\0" + doc.text.encode() + b"\0")
    h.update(json.dumps(variables, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, SourceRange | None, str]] = set()
    out: list[Diagnostic] = []
    for d in diags:
        key = (d.code, d.range, d.summary)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
