"""Diagnostics -> compiler-style text or JSON.

Owns how a problem looks to a user: ``file:line:col: error[RP123]: summary``,
the source line with a caret under the range, ``hint:`` and ``note:`` lines,
and a closing count. Source lines are read lazily (once per file). Lines that
look like they hold a credential are masked, so that a plan with a secret in
it never echoes the secret back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from planner.diagnostics import Diagnostic, Diagnostics, SourceRange

_RED, _YELLOW, _BOLD, _CYAN, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[36m", "\x1b[0m"
_SECRET_LINE = re.compile(
    r"^(?P<head>\s*-?\s*[\"']?(?:[\w-]*(?:secret|password|token|access_key|credential)[\w-]*|ak|sk)[\"']?\s*:\s*)\S.*$",
    re.IGNORECASE,
)


class _Lines:
    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}

    def get(self, file: str, line: int) -> str | None:
        if file not in self._cache:
            try:
                with open(file, encoding="utf-8", errors="replace") as f:
                    self._cache[file] = f.read().splitlines()
            except OSError:
                self._cache[file] = None
        lines = self._cache[file]
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]


def _mask(line: str) -> str:
    m = _SECRET_LINE.match(line)
    return f"{m.group('head')}***" if m else line


def _caret(r: SourceRange, text: str) -> str:
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: r.col - 1])
    width = 1
    if r.end_line == r.line and r.end_col is not None and r.end_col > r.col:
        width = min(r.end_col, len(text) + 1) - r.col
    return pad + "^" + "~" * max(width - 1, 0)


def render_text(diags: Sequence[Diagnostic], color: bool = False) -> str:
    def paint(s: str, *codes: str) -> str:
        return "".join(codes) + s + _RESET if color else s

    lines = _Lines()
    out: list[str] = []
    for d in Diagnostics(list(diags)).sorted():
        sev = d.severity.value
        label = paint(f"{sev}[{d.code}]", _BOLD, _RED if d.is_error else _YELLOW)
        where = f"{d.range}: " if d.range is not None else ""
        out.append(f"{where}{label}: {paint(d.summary, _BOLD)}")
        if d.range is not None:
            text = lines.get(d.range.file, d.range.line)
            if text is not None:
                shown = _mask(text)
                out.append(f"  {shown}")
                if shown == text:
                    out.append("  " + paint(_caret(d.range, text), _RED if d.is_error else _YELLOW))
        if d.detail:
            first, *rest = d.detail.splitlines()
            out.append(f"  {paint('hint', _CYAN)}: {first}")
            out.extend(f"        {line}" for line in rest)
        for rel in d.related:
            out.append(f"  note: {rel.message} at {rel.range}")
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
        "diagnostics": [d.to_dict() for d in ordered],
        "errors": errors,
        "warnings": len(diags) - errors,
    }
    return json.dumps(doc, indent=2) + "\n"
