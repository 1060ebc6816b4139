"""Terminal conventions shared by every command: colour, streams, JSON lines."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


def color_enabled(no_color_flag: bool = False, stream: TextIO | None = None) -> bool:
    """Colour on a TTY; never when piped, with --no-color or with NO_COLOR set."""
    stream = stream or sys.stdout
    if no_color_flag or os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("FORCE_COLOR", "") != "":
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def eprint(*parts: str) -> None:
    print(*parts, file=sys.stderr)
