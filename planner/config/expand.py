"""Restore blocks -> RestoreSpecs: for_each, templates, schema, defaults.

Owns evaluating the ``restores`` section: one instance per for_each key (or
one for a plain block), every templated string rendered with ``vars`` plus
``each``, each instance validated against ``schema.Restore``, defaults applied,
``depends_on`` parsed into addresses. Also owns turning pydantic errors into
diagnostics at the exact source position (``schema_diagnostics``), which
``load.py`` uses for the top-level sections. Does not read files.
"""

from __future__ import annotations

import difflib
from collections import ChainMap
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from pydantic import ValidationError

from planner.addresses import NAME_RE, Address, AddressError
from planner.config import spec
from planner.config.schema import CREDENTIAL_KEYS, KNOWN_KEYS, TARGET_KEYS, Restore
from planner.config.source import Path, SourceDoc
from planner.config.template import (
    BudgetSpent,
    PlanBudget,
    TemplateError,
    end_ambient_budget,
    is_template,
    plan_budget,
    render,
)
from planner.diagnostics import Diagnostic, Related, SourceRange, error

# restores a plan may expand to, for_each instances and plain blocks together: 10x the
# 10,000-server scale target (DESIGN.md section 10), and where for_each stops multiplying
MAX_RESTORES = 100_000
_SPEC_FIELDS = ("backup", "disks", "power_on", "depends_on", "wave", "destination_path", "for_each")


@dataclass(frozen=True)
class Block:
    name: str
    doc: SourceDoc
    raw: Any


def dotted(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _pattern(path: Path) -> tuple[str, ...]:
    pat = tuple("*" if isinstance(p, int) else p for p in path)
    return ("restores", "*", *pat[2:]) if pat[:1] == ("restores",) and len(pat) > 1 else pat


def render_tree(
    value: Any,
    path: Path,
    ctx: Mapping[str, Any],
    doc: SourceDoc,
    diags: list[Diagnostic],
    note: str = "",
) -> Any:
    """Render every templated string under value; unchanged subtrees are returned as is."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        plan_budget()  # the first string of a load starts the budget all its strings share
        try:
            return render(value, ctx)
        except BudgetSpent:
            return value  # reported once, at the string that spent it; the caller skips
        except TemplateError as exc:
            diags.append(error(exc.code, exc.message, _join(exc.hint, note), doc.range(path)))
            return value
    if isinstance(value, dict):
        out = {k: render_tree(v, (*path, k), ctx, doc, diags, note) for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if isinstance(value, list):
        items = [render_tree(v, (*path, i), ctx, doc, diags, note) for i, v in enumerate(value)]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def schema_diagnostics(
    exc: ValidationError, data: Any, doc: SourceDoc, base: Path, note: str = ""
) -> list[Diagnostic]:
    """Pydantic errors -> diagnostics at the source position of the offending value."""
    found: list[
        tuple[Path, str, Mapping[str, Any], bool]
    ] = []  # path, last loc, error, union-tagged
    for raw_err in exc.errors(include_url=False):
        err: Mapping[str, Any] = raw_err
        path, cur, tagged = base, data, False
        loc = err["loc"]
        for i, el in enumerate(loc):
            if (isinstance(cur, dict) and el in cur) or (
                isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur)
            ):
                path, cur = (*path, el), cur[el]
            elif i == len(loc) - 1 and err["type"] in ("missing", "extra_forbidden"):
                path = (*path, el)
            else:
                tagged = True  # a union member's name, not a key of the data
        found.append((path, err["type"], err, tagged))
    deeper = {p[:i] for p, _, _, _ in found for i in range(len(p))}
    out: list[Diagnostic] = []
    merged: dict[Path, list[str]] = {}
    for path, kind, found_err, tagged in found:
        if tagged and kind.endswith("_type") and path in deeper:
            continue  # the value is a mapping: the other union member's errors say what is wrong
        if tagged and kind.endswith("_type"):
            merged.setdefault(path, []).append(_expected(found_err))
            continue
        out.append(_one(path, kind, found_err, data, doc, base, note))
    for path, expected in merged.items():
        got = type(_at(data, path[len(base) :])).__name__
        out.append(
            error(
                "RP111",
                f"{dotted(path)}: expected {' or '.join(dict.fromkeys(expected))}, got {_kind(got)}",
                note,
                doc.range(path),
            )
        )
    return out


def _at(data: Any, rel: Path) -> Any:
    for p in rel:
        data = data[p]
    return data


def _kind(name: str) -> str:
    return {"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "dict": "a mapping",
            "list": "a list", "NoneType": "null"}.get(name, name)  # fmt: skip


def _expected(err: Mapping[str, Any]) -> str:
    t = str(err["type"])
    if t.startswith("model") or t == "dict_type":
        return "a mapping"
    return {"string_type": "a string", "int_type": "an integer", "bool_type": "a boolean",
            "list_type": "a list", "float_type": "a number"}.get(t, t)  # fmt: skip


def _one(
    path: Path, kind: str, err: Mapping[str, Any], data: Any, doc: SourceDoc, base: Path, note: str
) -> Diagnostic:
    key = path[-1] if path else ""
    if path == ("version",) or (kind == "literal_error" and path[-1:] == ("version",)):
        if kind == "missing":
            return error(
                "RP118", "missing version", "start the file with `version: 1`", doc.range(())
            )
        return error(
            "RP118",
            f"unsupported plan format version {err.get('input')!r}",
            "this restore-planner reads version: 1",
            doc.range(path),
        )
    if kind == "extra_forbidden":
        parent = _pattern(path[:-1])
        if parent == ("cloud",) and str(key).lower() in CREDENTIAL_KEYS:
            return error(
                "RP117",
                f"credentials do not belong in the plan (cloud.{key})",
                "remove it; credentials come from HW_ACCESS_KEY + HW_SECRET_KEY, HW_AUTH_TOKEN or "
                "HW_USER_NAME + HW_USER_PASSWORD + HW_DOMAIN_NAME in the environment",
                doc.key_range(path),
            )
        known = KNOWN_KEYS.get(parent, [])
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        hint += f"allowed keys: {', '.join(known)}" if known else ""
        return error(
            "RP110",
            f"unknown key {key!r} in {dotted(path[:-1])}",
            _join(hint, note),
            doc.key_range(path),
        )
    if kind == "missing":
        return error(
            "RP112",
            f"missing required key {key!r} in {dotted(path[:-1])}",
            note,
            doc.key_range(path[:-1]),
        )
    if kind == "duration":
        return error(
            "RP115", f"{dotted(path)}: invalid duration", _join(err["msg"], note), doc.range(path)
        )
    if kind == "rfc3339":
        return error(
            "RP116", f"{dotted(path)}: invalid time", _join(err["msg"], note), doc.range(path)
        )
    if kind in ("region", "project_id", "destination_path", "cloud_id"):
        ctx = err.get("ctx") or {}
        return error(
            "RP111",
            f"{dotted(path)}: {ctx.get('why', 'invalid value')}",
            _join(str(ctx.get("hint", "")), note),
            doc.range(path),
        )
    msg = str(err["msg"])
    msg = msg[0].lower() + msg[1:]
    if kind.endswith("_type"):
        msg += f", got {_kind(type(err.get('input')).__name__)}"
    return error("RP111", f"{dotted(path)}: {msg}", note, doc.range(path))


def expand_restores(
    blocks: list[Block], variables: Mapping[str, Any], default_power_on: bool
) -> tuple[list[spec.RestoreSpec], list[Diagnostic]]:
    specs: list[spec.RestoreSpec] = []
    diags: list[Diagnostic] = []
    plan = plan_budget()  # the header's strings may have started it: one budget per load
    tally = _Tally()
    try:
        for block in blocks:
            specs.extend(_expand_block(block, variables, default_power_on, diags, plan, tally))
    finally:
        end_ambient_budget()
    return specs, diags


class _Tally:
    """Restores the plan may still expand to (MAX_RESTORES), reported once when passed."""

    __slots__ = ("left", "reported")

    def __init__(self) -> None:
        self.left = MAX_RESTORES
        self.reported = False

    def take(self, n: int, where: SourceRange, diags: list[Diagnostic]) -> bool:
        if n <= self.left:
            self.left -= n
            return True
        if not self.reported:
            self.reported = True
            diags.append(error("RP138", f"the plan expands to more than {MAX_RESTORES:,} restores",
                               f"a plan may hold at most {MAX_RESTORES:,} restores (for_each instances "
                               "included); split it into several plans", where))  # fmt: skip
        self.left = 0
        return False


def _expand_block(
    block: Block,
    variables: Mapping[str, Any],
    power_on: bool,
    diags: list[Diagnostic],
    plan: PlanBudget,
    tally: _Tally,
) -> list[spec.RestoreSpec]:
    base: Path = ("restores", block.name)
    doc, raw = block.doc, block.raw
    if not NAME_RE.fullmatch(block.name):
        diags.append(error("RP119", f"invalid restore name {block.name!r}",
                           "a name starts with a letter or _ and holds letters, digits, _ and -", doc.key_range(base)))  # fmt: skip
        _check_depends_on(raw, doc, base, diags, literal=True)
        return []
    if not isinstance(raw, dict):
        diags.append(error("RP111", f"restore {block.name!r} must be a mapping, got {_kind(type(raw).__name__)}",
                           "give it a target (server, volume, resource or select) and a backup", doc.range(base)))  # fmt: skip
        return []
    targets = [k for k in TARGET_KEYS if k in raw]
    if not targets:
        diags.append(error("RP113", f"restore {block.name!r} has no target",
                           "add exactly one of server, volume, resource or select", doc.key_range(base)))  # fmt: skip
    elif len(targets) > 1:
        first = Related(f"{targets[0]} given here", doc.key_range((*base, targets[0])))
        diags.append(error("RP114", f"restore {block.name!r} has more than one target ({', '.join(targets)})",
                           "a restore writes exactly one target; split it into several restores",
                           doc.key_range((*base, targets[1])), [first]))  # fmt: skip
    templated = _has_template(raw)
    if plan.spent and templated:
        return []  # the plan's template budget is spent (reported once, where it was)
    instances = _instances(block, variables, diags, tally)
    if instances is None:  # for_each failed: its instances are unknown, its literal entries not
        _check_depends_on(raw, doc, base, diags, literal=True)
        return []
    body = {k: v for k, v in raw.items() if k != "for_each"}
    ranges = {"block": doc.key_range(base)}
    for k in raw:
        if k in TARGET_KEYS or k in _SPEC_FIELDS:
            ranges[k] = doc.range((*base, k))
    out: list[spec.RestoreSpec] = []
    for key, each in instances:
        address = Address(block.name, key)
        note = f"in {address}" if key is not None else ""
        # each on top of the variables, not a copy of them per instance (ChainMap only writes
        # to its first mapping)
        ctx = variables if key is None else ChainMap({"each": {"key": key, "value": each}},
                                                     cast("MutableMapping[str, Any]", variables))  # fmt: skip
        before = len(diags)
        data = render_tree(body, base, ctx, doc, diags, note)
        if plan.spent and templated:
            break  # reported at the string that spent the budget; its strings are unrendered
        # a failed template must not hide the block's other problems; it only hides
        # the schema's complaint about the unrendered string on its own line (never
        # an unknown key: keys are not templated, `{befor: "{{ typo }}"}` is two errors)
        failed = {d.range for d in diags[before:] if d.range}
        failed_lines = {(r.file, r.line) for r in failed}
        try:
            model = Restore.model_validate(data)
        except ValidationError as exc:
            diags.extend(
                d
                for d in schema_diagnostics(exc, data, doc, base, note)
                if d.range is None
                or d.code == "RP110"
                or (d.range.file, d.range.line) not in failed_lines
            )
            _check_depends_on(data, doc, base, diags, skip=failed)
            continue
        if failed_lines:
            _check_depends_on(data, doc, base, diags, skip=failed)
            continue
        empty = [k for k in targets if getattr(model, k) is None]
        for k in empty:
            diags.append(error("RP111", f"{k} of restore {address} is empty",
                               _EMPTY_TARGET_HINT[k], doc.range((*base, k))))  # fmt: skip
        if empty:
            _check_depends_on(data, doc, base, diags)
            continue
        deps = _depends_on(enumerate(model.depends_on), doc, base, diags)
        if len(targets) == 1 and deps is not None:
            out.append(_to_spec(model, address, targets[0], doc, base, ranges, power_on, deps))
    return out


def _has_template(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if is_template(v):
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


_EMPTY_TARGET_HINT = {
    "server": 'give a server id, or {name: "app-01"}',
    "volume": 'give a volume id, or {name: "data-01"}',
    "resource": "give the id of the resource the backup belongs to",
    "select": "give {kind: server, tags: {...}} or a name pattern",
}


def _instances(
    block: Block, variables: Mapping[str, Any], diags: list[Diagnostic], tally: _Tally
) -> list[tuple[str | None, Any]] | None:
    """(key, each.value) per instance; None when for_each failed (reported)."""
    raw, doc = block.raw, block.doc
    if "for_each" not in raw:
        return (
            [(None, None)] if tally.take(1, doc.key_range(("restores", block.name)), diags) else []
        )
    path: Path = ("restores", block.name, "for_each")
    if "select" in raw:
        diags.append(error("RP136", "for_each and select cannot be combined",
                           "select already makes one instance per matching resource", doc.key_range(path)))  # fmt: skip
        return None
    before = len(diags)
    value = render_tree(raw["for_each"], path, variables, doc, diags)
    if len(diags) > before:
        return None
    if isinstance(value, dict | list) and not tally.take(len(value), doc.range(path), diags):
        return []
    items: list[tuple[str | None, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            key = _key(k, doc.range(path), diags)
            if key is not None:
                items.append((key, v))
    elif isinstance(value, list):
        seen: dict[str, int] = {}
        literal = value is raw["for_each"]
        for i, item in enumerate(value):
            where = doc.range((*path, i)) if literal else doc.range(path)
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                diags.append(error("RP132", f"for_each item {i} is {_kind(type(item).__name__)}, not a string or number",
                                   "list items become instance keys; use a map to attach values", where))  # fmt: skip
                continue
            k = _key(item, where, diags)
            if k is None:
                continue
            if k in seen:
                rel = [Related("first here", doc.range((*path, seen[k])))] if literal else []
                diags.append(
                    error(
                        "RP131",
                        f"duplicate for_each key {_short(k)!r}",
                        "each instance key must be unique",
                        where,
                        rel,
                    )
                )
                continue
            seen[k] = i
            items.append((k, item))
    else:
        diags.append(error("RP130", f"for_each must be a list or a map, got {_kind(type(value).__name__)}",
                           "for example for_each: [a, b] or for_each: \"{{ app_servers }}\"", doc.range(path)))  # fmt: skip
        return None
    return items


def _key(item: Any, where: SourceRange, diags: list[Diagnostic]) -> str | None:
    """An instance key as text; an integer too long to print is a diagnostic, not a crash."""
    try:
        return str(item)
    except ValueError:  # more digits than Python prints (sys.get_int_max_str_digits)
        digits = int(item.bit_length() * 0.30103) + 1 if isinstance(item, int) else 0
        diags.append(error("RP111", f"number too large (about {digits:,} digits) in for_each",
                           "an instance key is printed; quote it to make it a string", where))  # fmt: skip
        return None


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _check_depends_on(
    data: Any,
    doc: SourceDoc,
    base: Path,
    diags: list[Diagnostic],
    skip: set[SourceRange] | frozenset[SourceRange] = frozenset(),
    literal: bool = False,
) -> None:
    """RP133 for the malformed depends_on entries of a restore that does not evaluate
    (its other errors must not hide them); entries whose template failed (``skip``), or
    unrendered templates (``literal``), are left to be checked once they render."""
    entries = data.get("depends_on") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return
    texts = (
        (i, text)
        for i, text in enumerate(entries)
        if isinstance(text, str)
        and not (literal and is_template(text))
        and doc.range((*base, "depends_on", i)) not in skip
    )
    _depends_on(texts, doc, base, diags)


def _depends_on(
    texts: Iterator[tuple[int, str]] | enumerate[str],
    doc: SourceDoc,
    base: Path,
    diags: list[Diagnostic],
) -> tuple[spec.DependencyRef, ...] | None:
    deps: list[spec.DependencyRef] = []
    ok = True
    for i, text in texts:
        where = doc.range((*base, "depends_on", i))
        try:
            deps.append(spec.DependencyRef(Address.parse(text), where))
        except AddressError as exc:
            diags.append(
                error(
                    "RP133",
                    f"invalid address in depends_on: {_short(text)!r}",
                    str(exc).split("; ", 1)[-1],
                    where,
                )
            )
            ok = False
    return tuple(deps) if ok else None


def _to_spec(model: Restore, address: Address, kind: str, doc: SourceDoc, base: Path, ranges: dict[str, Any],
             power_on: bool, deps: tuple[spec.DependencyRef, ...]) -> spec.RestoreSpec:  # fmt: skip
    target: spec.TargetRef | spec.SelectRef
    if model.select is not None:
        sel = model.select
        target = spec.SelectRef(sel.kind, tuple(sorted(sel.tags.items())), sel.name)
    else:
        value = getattr(model, kind)
        target_kind = cast(spec.TargetKind, kind)  # one of the three target keys, by construction
        target = (
            spec.TargetRef(target_kind, id=value)
            if isinstance(value, str)
            else spec.TargetRef(target_kind, name=value.name)
        )
    b = model.backup
    backup: str | spec.BackupSelector = (
        b if isinstance(b, str) else spec.BackupSelector(b.before, b.not_before, b.vault, b.source)
    )
    disks = None
    if model.disks is not None:
        disks = tuple(
            spec.DiskMapEntry(d.backup, d.volume, doc.range((*base, "disks", i)))
            for i, d in enumerate(model.disks)
        )
    return spec.RestoreSpec(
        address=address,
        target=target,
        backup=backup,
        disks=disks,
        power_on=power_on if model.power_on is None else model.power_on,
        destination_path=model.destination_path,
        depends_on=deps,
        wave=model.wave,
        ranges=ranges,
    )


def literal_depends_on(block: Block) -> tuple[spec.DependencyRef, ...]:
    """The depends_on entries of a block written as plain addresses (no templates), for
    checking references of a restore that failed to evaluate: its other problems must
    not hide a dependency on a restore that does not exist. Invalid entries are left
    out (expansion reports them: ``_check_depends_on``)."""
    raw = block.raw.get("depends_on") if isinstance(block.raw, dict) else None
    if not isinstance(raw, list):
        return ()
    out = []
    for i, text in enumerate(raw):
        if not isinstance(text, str) or "{" in text:
            continue
        try:
            address = Address.parse(text)
        except AddressError:
            continue
        out.append(
            spec.DependencyRef(address, block.doc.range(("restores", block.name, "depends_on", i)))
        )
    return tuple(out)
