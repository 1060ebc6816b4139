"""Diagnostics: the one shape every user-facing problem takes.

Owns the data (severity, stable code, summary, detail, source range, related
places). Does not render: see ``planner.render.diagnostics``. Pipeline stages
*return* diagnostics next to their result instead of raising, so that one run
reports every problem it can find. Codes are documented in specs/diagnostics.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class SourceRange:
    """A place in a source file. Lines and columns are 1-based."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Related:
    """Another place involved in a diagnostic (the other definition, the other restore)."""

    message: str
    range: SourceRange


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    summary: str
    detail: str = ""
    range: SourceRange | None = None
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "severity": self.severity.value,
            "code": self.code,
            "summary": self.summary,
            "detail": self.detail,
        }
        if self.range is not None:
            out["range"] = _range_dict(self.range)
        out["related"] = [
            {"message": r.message, "range": _range_dict(r.range)} for r in self.related
        ]
        return out


def _range_dict(r: SourceRange) -> dict[str, object]:
    return {
        "file": r.file,
        "line": r.line,
        "col": r.col,
        "end_line": r.end_line,
        "end_col": r.end_col,
    }


def error(
    code: str,
    summary: str,
    detail: str = "",
    range: SourceRange | None = None,
    related: Iterable[Related] = (),
) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, summary, detail, range, tuple(related))


def warning(
    code: str,
    summary: str,
    detail: str = "",
    range: SourceRange | None = None,
    related: Iterable[Related] = (),
) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, summary, detail, range, tuple(related))


@dataclass
class Diagnostics:
    """An ordered collection of diagnostics; stages append, callers inspect."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diag: Diagnostic) -> None:
        self.items.append(diag)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        """Stable order for output: by file position, unplaced ones last."""

        def key(d: Diagnostic) -> tuple[int, str, int, int, str]:
            if d.range is None:
                return (1, "", 0, 0, d.code)
            return (0, d.range.file, d.range.line, d.range.col, d.code)

        return sorted(self.items, key=key)
