"""Human-friendly formatting shared by the plan renderers: durations, sizes, ids, times.

Owns only pure string helpers; nothing here knows about plans. Every string
that came from the cloud or the YAML passes through ``clean`` before a renderer
prints it, so a server named with escape codes cannot colour or move a terminal.
"""

from __future__ import annotations

import os
import re

from planner.timefmt import rfc3339 as rfc3339  # the renderers' name for it

# C0/C1 controls, and the invisible characters that reorder or hide text: bidi
# embeddings/overrides/isolates (U+202A-202E, U+2066-2069: "evil\u202eexe.txt" reads
# as "eviltxt.exe"), marks (U+200E/F, U+061C), zero-width characters (U+200B-200D,
# U+2060, U+FEFF), line/paragraph separators (U+2028/9), soft hyphen (U+00AD)
_CONTROL_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 and code != 0xAD else f"\\u{code:04x}"


def clean(text: str) -> str:
    """Replace control and invisible reordering characters by a visible escape
    (``\\x1b``, ``\\u202e``): every name from the cloud or the YAML passes here."""
    return _CONTROL_RE.sub(_escape, text)


def duration(seconds: float) -> str:
    """``45s``, ``12m 30s``, ``12m``, ``1h 20m``, ``2h``: seconds dropped past an hour."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def size_gb(gb: int | float | None) -> str:
    """``1,240 GB``; ``?`` when unknown."""
    if gb is None:
        return "? GB"
    return f"{round(gb):,} GB"


def count(n: int) -> str:
    """``1,234``."""
    return f"{n:,}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 target``, ``4 targets``."""
    return f"{count(n)} {word if n == 1 else (many or word + 's')}"


def short_id(ident: str, keep: int = 8) -> str:
    """``94eba8b2...`` for long ids; short ones unchanged."""
    ident = clean(ident)
    if len(ident) <= keep + 3:
        return ident
    return ident[:keep] + "..."


def short_digest(digest: str, keep: int = 12) -> str:
    """``3f9a1c2e4b5d`` from ``sha256:3f9a1c2e4b5d...``."""
    _, _, hexpart = digest.rpartition(":")
    return clean(hexpart[:keep])


def state_where(path: str, location: str) -> str:
    """The state a saved plan binds, as a reader should see it: the path it was named by,
    unless the place apply reads and writes (``location``, absolute) is somewhere else than
    that path names from here; then that place (a resealed plan may point anywhere)."""
    if not location or location == path:
        return path
    if path and os.path.abspath(path) == location:
        return path
    return location
