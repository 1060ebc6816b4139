"""Diagnostics -> compiler-style text or JSON.

Owns how a problem looks to a user: ``file:line:col: error[RP123]: summary``,
the source line with a caret under the range, ``hint:`` and ``note:`` lines,
and a closing count.

Snippets come only from the text the loader accepted and parsed
(``planner.config.source.source_text``), never from the disk again: a file refused
(too large, a pseudo-file, not UTF-8) shows no snippet, and what is shown is what
was parsed. Output is bounded whatever the input: a snippet line is cut to a window
of about ``SNIPPET_WIDTH`` columns around the caret, control characters are shown
escaped, summaries and hints are cut, and at most ``MAX_SHOWN`` diagnostics are
printed (the first in position order, then one line saying how many more; the count
line and JSON hold them all). Values of credential-like keys are masked wherever
they are on the line, and so are the lines of a value under such a key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from planner.config.source import source_text
from planner.diagnostics import Diagnostic, Diagnostics, SourceRange

_RED, _YELLOW, _BOLD, _CYAN, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[36m", "\x1b[0m"

SNIPPET_WIDTH = 120
MAX_SHOWN = 200
_MAX_MESSAGE = 1000  # characters of one summary, hint or note line
_MORE = "..."

# a credential-like key, at the start of the line or after a blank, `{`, `,`, `[`,
# `?` or `-` (block or flow mapping, quoted or not), and its `:`
_SECRET_KEY = re.compile(
    r"(?<![^\s{,\[?-])[\"']?(?:[\w-]*(?:secret|password|passwd|token|access_key|credential)[\w-]*|ak|sk)[\"']?\s*:",
    re.IGNORECASE,
)
_MASK = "***"
# what YAML ends a line with (libyaml also counts NEL, LS and PS as line breaks)
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
# shown escaped in snippets and messages: C0 and C1 controls (but tab), DEL, and the
# bidirectional overrides that make a line read differently from what it holds
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# The hint of a diagnostic made without one: the "fix" column of specs/diagnostics.md
_FIX = {
    "RP100": "fix the line shown (quoting, indentation, brackets)",
    "RP108": "check the path: a plan file or a directory of *.yaml files",
    "RP110": "use one of the allowed keys",
    "RP111": "give a value of the type (or in the range) named in the message",
    "RP112": "add the missing key",
    "RP115": "use a number with a unit: 30s, 30m, 24h, 7d, 1h30m",
    "RP116": "write an RFC 3339 time with a zone, e.g. 2026-11-20T00:00:00Z",
    "RP120": "fix the template",
    "RP121": "define it in vars, --var-file or --var",
    "RP122": "templates may only read variables and use filters",
    "RP123": "simplify the template",
    "RP124": "fix the expression",
    "RP125": "templates pick and format values; compute lists in a var file instead",
}


def _hint(d: Diagnostic) -> str:
    return d.detail or _FIX.get(d.code, f"see {d.code} in specs/diagnostics.md")


def _escape(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def _clean(text: str, limit: int = _MAX_MESSAGE) -> str:
    """One line of a message, printable and bounded."""
    if len(text) > limit:
        text = text[:limit] + _MORE
    return _CONTROL.sub(lambda m: _escape(m.group()), text)


class _Lines:
    """The lines of each file as parsed, split once, with credentials masked. Each
    line is searched for a credential key at most once (a line can be megabytes)."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}
        self._secret: dict[tuple[str, int], bool] = {}
        self._shown: dict[tuple[str, int], tuple[str, int | None]] = {}

    def get(self, file: str, line: int) -> tuple[str, int | None] | None:
        """The line (1-based) as it may be shown, and the column from which it is
        masked (None: nothing is)."""
        if file not in self._cache:
            text = source_text(file)
            self._cache[file] = None if text is None else _LINE_BREAK.split(text)
        lines = self._cache[file]
        if lines is None or not 1 <= line <= len(lines):
            return None
        key = (file, line - 1)
        if key not in self._shown:
            self._shown[key] = self._masked(file, lines, line - 1)
        return self._shown[key]

    def _has_secret_key(self, file: str, lines: list[str], i: int) -> bool:
        key = (file, i)
        if key not in self._secret:
            self._secret[key] = _SECRET_KEY.search(lines[i]) is not None
        return self._secret[key]

    def _masked(self, file: str, lines: list[str], i: int) -> tuple[str, int | None]:
        text = lines[i]
        # A line inside the value of a credential-like key (a block scalar, a plain
        # or quoted scalar continued on more lines, a nested mapping) is masked
        # whole: its ancestors are the lines above it indented less, each less than
        # the one before; the key is looked for among them, at most 1000 lines up.
        if text.strip():
            level = _indent(text)
            for j in range(i - 1, max(i - 1000, -1), -1):
                above = lines[j]
                if not above.strip() or above.lstrip().startswith("#") or _indent(above) >= level:
                    continue
                if self._has_secret_key(file, lines, j):
                    return text[:level] + _MASK, level
                level = _indent(above)
                if level == 0:
                    break
        if not self._has_secret_key(file, lines, i):
            return text, None
        # mask from the first credential value on: the rest of the line may hold
        # more of it (a quoted string with commas) or other credentials
        for m in _SECRET_KEY.finditer(text):
            rest = text[m.end() :]
            if rest.strip() and not rest.lstrip().startswith("#"):
                cut = m.end() + len(rest) - len(rest.lstrip())
                return text[:cut] + _MASK, cut
        return text, None  # `password:` alone: its value is on the lines below


_INDENT = re.compile(r"[ \t]*(?:-[ \t]+)*")


def _indent(line: str) -> int:
    # the column of a line's first key or value: "- " marks sequence items
    m = _INDENT.match(line)
    return m.end() if m else 0


def _window(r: SourceRange, text: str, masked_from: int | None) -> tuple[str, str]:
    """The snippet line (cut around the caret, controls escaped) and its caret line."""
    start_col = r.col - 1
    width = 1
    if r.end_line == r.line and r.end_col is not None and r.end_col > r.col:
        width = r.end_col - r.col
    if masked_from is not None and start_col >= masked_from:
        start_col, width = masked_from, len(_MASK)  # the range is the masked value
    start_col = min(start_col, len(text))
    width = max(1, min(width, len(text) + 1 - start_col))
    lo = max(0, min(start_col - SNIPPET_WIDTH // 3, len(text) - SNIPPET_WIDTH))
    hi = min(len(text), lo + SNIPPET_WIDTH)
    shown: list[str] = [_MORE] if lo > 0 else []
    pad: list[str] = [" " * len(_MORE)] if lo > 0 else []
    caret_end = start_col + width
    under = 0
    for k in range(lo, hi):
        ch = text[k]
        piece = _escape(ch) if _CONTROL.match(ch) else ch
        shown.append(piece)
        if k < start_col:
            pad.append("\t" if ch == "\t" else " " * len(piece))
        elif k < caret_end:
            under += len(piece)
    if hi < len(text):
        shown.append(_MORE)
    under = max(under, 1)
    return "".join(shown), "".join(pad) + "^" + "~" * (under - 1)


def render_text(diags: Sequence[Diagnostic], color: bool = False) -> str:
    def paint(s: str, *codes: str) -> str:
        return "".join(codes) + s + _RESET if color else s

    lines = _Lines()
    out: list[str] = []
    ordered = Diagnostics(list(diags)).sorted()
    for d in ordered[:MAX_SHOWN]:
        sev = d.severity.value
        label = paint(f"{sev}[{d.code}]", _BOLD, _RED if d.is_error else _YELLOW)
        where = f"{_clean(str(d.range))}: " if d.range is not None else ""
        out.append(f"{where}{label}: {paint(_clean(d.summary), _BOLD)}")
        if d.range is not None:
            got = lines.get(d.range.file, d.range.line)
            if got is not None:
                shown, caret = _window(d.range, *got)
                out.append(f"  {shown}")
                out.append("  " + paint(caret, _RED if d.is_error else _YELLOW))
        first, *rest = _hint(d).splitlines() or [""]
        out.append(f"  {paint('hint', _CYAN)}: {_clean(first)}")
        out.extend(f"        {_clean(line)}" for line in rest[:20])
        if len(rest) > 20:
            out.append(f"        {_MORE} ({len(rest) - 20} more lines)")
        for rel in d.related[:10]:
            out.append(f"  note: {_clean(rel.message)} at {_clean(str(rel.range))}")
    if len(ordered) > MAX_SHOWN:
        more = len(ordered) - MAX_SHOWN
        out.append(f"... and {more} more {'problem' if more == 1 else 'problems'} "
                   f"(the first {MAX_SHOWN} are shown; --format json lists all)")  # fmt: skip
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    out.append(f"{_count(errors, 'error')}, {_count(warnings, 'warning')}")
    return "\n".join(out) + "\n"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_json(diags: Sequence[Diagnostic]) -> str:
    ordered = Diagnostics(list(diags)).sorted()
    errors = sum(1 for d in diags if d.is_error)
    doc = {
        "diagnostics": [{**d.to_dict(), "detail": _hint(d)} for d in ordered],
        "errors": errors,
        "warnings": len(diags) - errors,
    }
    return json.dumps(doc, indent=2) + "\n"
