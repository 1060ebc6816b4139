"""Offline value rules over expanded restores: what the API would refuse, found by
``validate`` without the cloud, each at the position of the value.

Owns rules that need neither the cloud nor the graph; the schema owns types and
presence (an empty ``destination_path`` is the schema's), the graph owns references.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from planner.config.spec import RestoreSpec
from planner.diagnostics import Diagnostic, error

# RestoreBackup details.destination_path: 1 to 255 characters of letters, digits, ``:``,
# ``\`` and ``/`` [HW RestoreBackup; cbr-facts section 15]. Letters and digits as the API
# means them: ASCII (a restore path of the cloud agent, not a display name).
DESTINATION_PATH_MAX = 255
_PATH_CHARS = re.compile(r"[A-Za-z0-9:\\/]+")


def destination_path(spec: RestoreSpec) -> Iterable[Diagnostic]:
    path = spec.destination_path
    if not path:  # absent, or empty: the schema reports an empty one
        return
    where = spec.range_of("destination_path")
    if len(path) > DESTINATION_PATH_MAX:
        yield error(
            "RP150",
            f"destination_path is {len(path)} characters long; the cloud accepts at most {DESTINATION_PATH_MAX}",
            "shorten the path (cloud: BackupService.9900)",
            where,
        )
    bad = sorted(set(_PATH_CHARS.sub("", path)))
    if bad:
        shown = " ".join(repr(c) for c in bad[:8]) + (" ..." if len(bad) > 8 else "")
        yield error(
            "RP150",
            f"destination_path holds characters the cloud refuses: {shown}",
            "use only letters, digits, ':', '\\' and '/' (cloud: BackupService.9900)",
            where,
        )


RULES = (destination_path,)


def check(specs: Sequence[RestoreSpec]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple[str, str, object]] = set()
    for spec in specs:
        for rule in RULES:
            for d in rule(spec):
                # for_each instances share one source position: report it once
                key = (d.code, d.summary, d.range)
                if key not in seen:
                    seen.add(key)
                    out.append(d)
    return out
