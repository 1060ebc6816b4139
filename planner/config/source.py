"""YAML source -> plain Python values plus a position table.

Owns reading one YAML file safely: size limit, syntax errors, duplicate keys,
anchors/aliases, explicit tags, non-string keys, multiple documents, and YAML
1.2 core-schema scalars (``on``/``yes``/``NO`` stay strings). Does not know the
plan format: see ``schema.py`` and ``expand.py``.

Speed matters (DESIGN.md section 10): the text is composed by libyaml
(``CSafeLoader``), and one lean recursive walk turns nodes into values. The
position table stores node references only; ``SourceRange`` objects are made
when a diagnostic or a spec asks for them.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from planner.diagnostics import Diagnostic, Related, SourceRange, error

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NESTING = 64

Path = tuple[str | int, ...]

_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    ".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"),
    "+.inf": float("inf"), "+.Inf": float("inf"), "+.INF": float("inf"),
    "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
    ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan"),
}  # fmt: skip
# plain scalars starting with anything else are strings: skip the regexes
_MAYBE_SPECIAL = frozenset("-+.0123456789~nNtTfF")
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar."""
    if text and text[0] not in _MAYBE_SPECIAL:
        return text
    if text in _SPECIAL:
        return _SPECIAL[text]
    if _INT_RE.match(text):
        return int(text)
    if text.startswith("0x") and len(text) > 2:
        try:
            return int(text[2:], 16)
        except ValueError:
            return text
    if text.startswith("0o") and len(text) > 2:
        try:
            return int(text[2:], 8)
        except ValueError:
            return text
    if _FLOAT_RE.match(text):
        return float(text)
    return text


@dataclass
class SourceDoc:
    """One parsed file: its values and where each value (and its key) came from."""

    file: str
    value: Any = None
    text: str = ""
    # path -> (key node or None, value node); nodes carry libyaml marks
    _pos: dict[Path, tuple[yaml.Node | None, yaml.Node]] = field(default_factory=dict, repr=False)

    def range(self, path: Path) -> SourceRange:
        """Range of the value at path (or of the nearest ancestor that exists)."""
        entry = self._nearest(path)
        return _node_range(self.file, entry[1]) if entry else SourceRange(self.file, 1, 1)

    def key_range(self, path: Path) -> SourceRange:
        """Range of the mapping key at path; the value's range for list items."""
        entry = self._nearest(path)
        if entry is None:
            return SourceRange(self.file, 1, 1)
        return _node_range(self.file, entry[0] if entry[0] is not None else entry[1])

    def has(self, path: Path) -> bool:
        return path in self._pos

    def _nearest(self, path: Path) -> tuple[yaml.Node | None, yaml.Node] | None:
        while True:
            entry = self._pos.get(path)
            if entry is not None or not path:
                return entry
            path = path[:-1]


def _node_range(file: str, node: yaml.Node) -> SourceRange:
    s, e = node.start_mark, node.end_mark
    return SourceRange(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _mark_range(file: str, mark: Any) -> SourceRange:
    return SourceRange(file, mark.line + 1, mark.column + 1)


def load_source(path: str, display: str | None = None) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Read and parse one file. ``display`` is the name diagnostics use."""
    name = display or path
    raw, diag = read_regular(path, name, MAX_FILE_BYTES)
    if raw is None:
        return None, [diag] if diag else []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            error(
                "RP100",
                "file is not valid UTF-8",
                f"byte {exc.start} cannot be decoded; save the file as UTF-8",
                SourceRange(name, raw[: exc.start].count(b"\n") + 1, 1),
            )
        ]
    return parse_text(text, name)


def not_regular(name: str, mode: int) -> Diagnostic:
    """A FIFO, device, socket or directory where a plan file is expected: never opened
    (a FIFO would block, /dev/zero never ends), and no position (the snippet reader
    would open it too)."""
    kind = (
        "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket" if stat.S_ISSOCK(mode) else "a directory" if stat.S_ISDIR(mode) else "not a regular file"
    )  # fmt: skip
    return error("RP108", f"cannot read {name}: it is {kind}, not a regular file",
                 "plans and variable files must be regular files")  # fmt: skip


def read_regular(path: str, name: str, limit: int) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of a regular file of at most ``limit`` bytes, or a diagnostic.

    Checked before opening (stat follows links: a link to /dev/zero is a device) and
    again on the open descriptor, opened without blocking (a FIFO swapped in between
    cannot hang us), read with a cap (a file that grows cannot exhaust memory)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, error("RP108", f"cannot read {name}: {exc.strerror}", range=None)
    if not stat.S_ISREG(st.st_mode):
        return None, not_regular(name, st.st_mode)
    if st.st_size > limit:
        return None, _too_big(name, st.st_size)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, error("RP108", f"cannot read {name}: {exc.strerror}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, not_regular(name, st.st_mode)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return None, error("RP108", f"cannot read {name}: {exc.strerror}")
    finally:
        os.close(fd)
    if total > limit:  # grew between stat and read
        return None, _too_big(name, total)
    return b"".join(chunks), None


def _too_big(name: str, size: int) -> Diagnostic:
    return error(
        "RP105",
        f"file is too large ({size} bytes; the limit is {MAX_FILE_BYTES} bytes, 16 MiB)",
        "split the plan into several files in one directory",
        SourceRange(name, 1, 1),
    )


def parse_text(text: str, name: str) -> tuple[SourceDoc | None, list[Diagnostic]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    # anchors, aliases and tags need a sigil; scan events only when one may be there,
    # and before composing, so that an alias bomb is refused without being built
    if "&" in text or "*" in text or "!" in text:
        diags = list(_scan_events(text, name))
        if diags:
            return None, diags
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_error(exc, name, text)]
    except yaml.YAMLError as exc:
        return None, [error("RP100", f"invalid YAML: {exc}", range=SourceRange(name, 1, 1))]
    doc = SourceDoc(name, text=text)
    if node is None:
        return doc, []
    walker = _Walker(doc)
    doc.value = walker.walk(node, ())
    doc._pos[()] = (None, node)
    return doc, walker.diags


def _syntax_error(exc: yaml.MarkedYAMLError, name: str, text: str = "") -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    where = _mark_range(name, mark) if mark is not None else SourceRange(name, 1, 1)
    problem = exc.problem or "invalid YAML"
    if "expected a single document" in problem or "but found another document" in problem:
        return error(
            "RP107",
            "a plan file holds exactly one YAML document",
            "remove the `---` separator, or move the second document into its own file",
            where,
        )
    if mark is not None and _tab_near(text, mark.index):
        return error(
            "RP101",
            "tab character where YAML expects indentation",
            "YAML indentation must use spaces; replace the tab with spaces",
            where,
        )
    detail = f"{exc.context} " if exc.context else ""
    return error(
        "RP100",
        f"invalid YAML: {problem}",
        f"{detail}(check quoting and indentation)".strip(),
        where,
    )


def _tab_near(text: str, index: int) -> bool:
    # libyaml says "found character that cannot start any token" for a tab in indentation
    start = text.rfind("\n", 0, index) + 1
    return "\t" in text[start : index + 1]


def _scan_events(text: str, name: str) -> Iterator[Diagnostic]:
    try:
        for ev in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(ev, yaml.AliasEvent):
                yield error(
                    "RP103",
                    f"YAML alias *{ev.anchor} is not allowed",
                    "anchors and aliases are refused in plans; repeat the value or use vars and templates",
                    _mark_range(name, ev.start_mark),
                )
                return  # one is enough: an alias bomb has millions
            anchor = getattr(ev, "anchor", None)
            if anchor is not None:
                yield error(
                    "RP103",
                    f"YAML anchor &{anchor} is not allowed",
                    "anchors and aliases are refused in plans; repeat the value or use vars and templates",
                    _mark_range(name, ev.start_mark),
                )
            tag = getattr(ev, "tag", None)
            if tag is not None and tag != "!" and isinstance(ev, yaml.NodeEvent):
                yield error(
                    "RP104",
                    f"YAML tag {tag} is not allowed",
                    "explicit tags are refused in plans; write a plain value (quote it to make it a string)",
                    _mark_range(name, ev.start_mark),
                )
    except yaml.MarkedYAMLError as exc:
        yield _syntax_error(exc, name, text)
    except yaml.YAMLError as exc:
        yield error("RP100", f"invalid YAML: {exc}", range=SourceRange(name, 1, 1))


class _Walker:
    """Nodes -> values. Nesting is capped at MAX_NESTING (a plan needs a handful of
    levels; every later stage walks values recursively)."""

    def __init__(self, doc: SourceDoc) -> None:
        self.doc = doc
        self.pos = doc._pos
        self.diags: list[Diagnostic] = []

    def walk(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.style:
                return node.value
            try:
                return resolve_plain(node.value)
            except ValueError:  # an integer of more digits than Python converts (4300)
                self.diags.append(error("RP111", f"number too large ({len(node.value)} digits)",
                                        "quote it to make it a string", _node_range(self.doc.file, node)))  # fmt: skip
                return None
        if len(path) >= MAX_NESTING:
            self.diags.append(
                error(
                    "RP100",
                    f"invalid YAML: nested more than {MAX_NESTING} levels deep",
                    "a plan needs a few levels of nesting; flatten the value",
                    _node_range(self.doc.file, node),
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        assert isinstance(node, yaml.SequenceNode)
        return self._sequence(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pos = self.pos
        walk = self.walk
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode) or (
                not knode.style and not isinstance(resolve_plain(knode.value), str)
            ):
                self.diags.append(
                    error(
                        "RP106",
                        "mapping keys must be strings",
                        "quote the key to make it a string",
                        _node_range(self.doc.file, knode),
                    )
                )
                continue
            key = knode.value
            child = (*path, key)
            if key in out:
                first = pos[child][0]
                assert first is not None
                self.diags.append(
                    error(
                        "RP102",
                        f"duplicate key {key!r}",
                        f"{key!r} is already defined on line {first.start_mark.line + 1}; remove one of them",
                        _node_range(self.doc.file, knode),
                        [Related("first defined here", _node_range(self.doc.file, first))],
                    )
                )
                continue
            pos[child] = (knode, vnode)
            out[key] = walk(vnode, child)
        return out

    def _sequence(self, node: yaml.SequenceNode, path: Path) -> list[Any]:
        out: list[Any] = []
        pos = self.pos
        for i, item in enumerate(node.value):
            child = (*path, i)
            pos[child] = (None, item)
            out.append(self.walk(item, child))
        return out
