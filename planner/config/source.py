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
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
# 10**4300 needs 14,284 bits: below this, every integer prints within the limit
_MAX_INT_BITS = 14_000
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
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar.

    Raises ValueError for an integer too large to print (more than 4,300 decimal
    digits, or a hex/octal one of more than _MAX_INT_BITS bits): the walker reports it
    as RP111, so that no later stage is handed an int that ``str()`` refuses."""
    if text and text[0] not in _MAYBE_SPECIAL:
        return text
    if text in _SPECIAL:
        return _SPECIAL[text]
    if _INT_RE.match(text):
        return int(text)
    # int(..., 16) would also take "0x_f", "0x-f" and "0x f": YAML 1.2 does not
    if _HEX_RE.match(text):
        return _bounded(int(text[2:], 16))
    if _OCT_RE.match(text):
        return _bounded(int(text[2:], 8))
    if _FLOAT_RE.match(text):
        return float(text)
    return text


def _bounded(n: int) -> int:
    # power-of-two bases convert without Python's 4,300-digit limit, but printing
    # the result does not: refuse what the decimal path refuses
    if n.bit_length() > _MAX_INT_BITS:
        raise ValueError("integer too large")
    return n


def _is_string_key(node: yaml.ScalarNode) -> bool:
    if node.style:
        return True
    try:
        return isinstance(resolve_plain(node.value), str)
    except ValueError:  # a huge number is no string either
        return False


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
        # no snippet: bytes that are not text are never echoed
        return None, [
            error(
                "RP100",
                "file is not valid UTF-8",
                f"byte {exc.start} cannot be decoded; save the file as UTF-8",
                SourceRange(name, raw[: exc.start].count(b"\n") + 1, 1),
            )
        ]
    return parse_text(text, name)


# The text of every file accepted for parsing, by the name its diagnostics carry:
# the renderer shows snippets from here, never from the disk (a file refused as too
# large, a pseudo-file or one changed since must not be read again). Bounded: the
# oldest entries go once more than _MAX_KEPT characters are kept.
_TEXTS: dict[str, str] = {}
_MAX_KEPT = 128 * 1024 * 1024


def _keep_text(name: str, text: str) -> None:
    _TEXTS.pop(name, None)
    _TEXTS[name] = text
    total = sum(len(t) for t in _TEXTS.values())
    while total > _MAX_KEPT and len(_TEXTS) > 1:
        oldest = next(iter(_TEXTS))
        total -= len(_TEXTS.pop(oldest))


def source_text(name: str) -> str | None:
    """The text parsed under ``name`` (as diagnostics name it), or None if none was."""
    return _TEXTS.get(name)


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


# Kernel pseudo-filesystems: their "regular" files (/proc/self/environ, /sys/...)
# are made when read, report a size of 0 or 4096 whatever they hold, and hold the
# process's environment (credentials), memory maps and the like. No plan lives there.
_PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def _pseudo(name: str) -> Diagnostic:
    return error("RP108", f"cannot read {name}: it is a kernel pseudo-file, not a regular file",
                 "plans and variable files must be regular files; /proc, /sys and /dev hold none")  # fmt: skip


def _under_pseudo_root(real: str) -> bool:
    return any(real == r or real.startswith(r + "/") for r in _PSEUDO_ROOTS)


def _opened_path(fd: int, path: str) -> str:
    # the file actually opened (a link swapped after the first check is seen here);
    # where /proc/self/fd is missing, the path resolved now
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


def _cannot_read(name: str, exc: OSError) -> Diagnostic:
    return error("RP108", f"cannot read {name}: {exc.strerror}",
                 "check the path, and that the file exists and is readable")  # fmt: skip


def read_regular(path: str, name: str, limit: int) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of a regular file of at most ``limit`` bytes, or a diagnostic.

    Checked before opening (stat follows links: a link to /dev/zero is a device) and
    again on the open descriptor, opened without blocking (a FIFO swapped in between
    cannot hang us), read with a cap (a file that grows cannot exhaust memory).

    Pseudo-files are refused by two rules, each enough for /proc/self/environ: the
    file opened (its real path, read back from the descriptor) lies under /proc, /sys
    or /dev; or fstat says 0 bytes and reading gives some (a real file that is empty
    reads empty; only generated content does that, whatever filesystem it is on)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return None, _cannot_read(name, exc)
    if not stat.S_ISREG(st.st_mode):
        return None, not_regular(name, st.st_mode)
    if st.st_size > limit:
        return None, _too_big(name, st.st_size)
    if _under_pseudo_root(os.path.realpath(path)):
        return None, _pseudo(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, _cannot_read(name, exc)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, not_regular(name, st.st_mode)
        if _under_pseudo_root(_opened_path(fd, path)):
            return None, _pseudo(name)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return None, _cannot_read(name, exc)
    finally:
        os.close(fd)
    if total > limit:  # grew between stat and read
        return None, _too_big(name, total)
    if st.st_size == 0 and total:
        return None, _pseudo(name)
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
    _keep_text(name, text)  # positions below are in this text (after the BOM)
    # anchors, aliases and tags need a sigil; scan events only when one may be there,
    # and before composing, so that an alias bomb is refused without being built
    if "&" in text or "*" in text or "!" in text:
        diags = list(_scan_events(text, name))
        if diags:
            return None, diags
    try:
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        return None, [_yaml_error(exc, name, text)]
    doc = SourceDoc(name, text=text)
    if node is None:
        return doc, []
    walker = _Walker(doc)
    doc.value = walker.walk(node, ())
    doc._pos[()] = (None, node)
    return doc, walker.diags


def _yaml_error(exc: yaml.YAMLError, name: str, text: str) -> Diagnostic:
    if isinstance(exc, yaml.MarkedYAMLError):
        return _syntax_error(exc, name, text)
    if isinstance(exc, yaml.reader.ReaderError):
        return _reader_error(exc, name, text)
    return error("RP100", "invalid YAML", "check quoting and indentation", SourceRange(name, 1, 1))


def _reader_error(exc: yaml.reader.ReaderError, name: str, text: str) -> Diagnostic:
    """A character YAML refuses (a control character, NUL). libyaml gives its place as
    a byte offset into the UTF-8 text, and a message naming "<unicode string>"."""
    pos = exc.position if isinstance(exc.position, int) and exc.position >= 0 else 0
    before = text.encode("utf-8")[:pos].decode("utf-8", "ignore")
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    char = exc.character
    what = f"#x{char:04x}" if isinstance(char, int) else repr(char)
    return error(
        "RP100",
        f"invalid YAML: unacceptable character {what}: {exc.reason}",
        'remove it; in a double-quoted string write it as an escape (e.g. "\\e", "\\x00")',
        SourceRange(name, line, col, line, col + 1),
    )


def _at_end(text: str, mark: Any) -> bool:
    # a mark past the last character, or on a line with nothing left but blanks
    return bool(mark.index >= len(text) or not text[mark.index :].strip())


def _what_opened(context: str | None) -> str:
    # libyaml says "while parsing a flow sequence", "while scanning a quoted scalar"
    for lead in (
        "while parsing a ",
        "while scanning a ",
        "while parsing an ",
        "while scanning an ",
    ):
        if context and context.startswith(lead):
            return context[len(lead) :]
    return "value"


def _syntax_error(exc: yaml.MarkedYAMLError, name: str, text: str = "") -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    context = exc.context_mark
    related: list[Related] = []
    opened = False
    if mark is not None and context is not None and mark is not context:
        if _at_end(text, mark):
            # "did not find expected ']'" at the end of the file: the place to fix is
            # the bracket (or quote) left open, where libyaml's context mark is
            related.append(Related("the file ends here", _mark_range(name, mark)))
            mark, opened = context, True
        elif (context.line, context.column) != (mark.line, mark.column):
            related.append(Related(exc.context or "started here", _mark_range(name, context)))
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
    if opened:
        return error(
            "RP100",
            f"invalid YAML: {problem}",
            f"the {_what_opened(exc.context)} that starts here is not closed before the file"
            " ends (check brackets and quotes)",
            where,
            related,
        )
    detail = f"{exc.context} " if exc.context else ""
    return error(
        "RP100",
        f"invalid YAML: {problem}",
        f"{detail}(check quoting and indentation)".strip(),
        where,
        related,
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
    except yaml.YAMLError as exc:
        yield _yaml_error(exc, name, text)


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
            if not isinstance(knode, yaml.ScalarNode) or not _is_string_key(knode):
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
