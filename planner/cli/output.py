"""Terminal conventions shared by every command: colour, streams, JSON lines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO


def color_enabled(
    no_color_flag: bool = False, stream: TextIO | None = None, env: Mapping[str, str] | None = None
) -> bool:
    """Colour on a TTY; never when piped, with --no-color or with NO_COLOR set
    (``env``: the command's environment, ``Context.env``; the process's by default)."""
    stream = stream or sys.stdout
    env = os.environ if env is None else env
    if no_color_flag or env.get("NO_COLOR", "") != "":
        return False
    if env.get("FORCE_COLOR", "") != "":
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


WRITE_CHUNK = 1 << 16


def write_out(text: str, stream: TextIO | None = None) -> None:
    """Write a whole document to stdout in slices. One write of more than a pipe holds
    loses a closed pipe's error in CPython (a partial write, then nothing: exit 0 with
    the output cut); in slices the error shows and the command exits 141."""
    stream = stream or sys.stdout
    for at in range(0, len(text), WRITE_CHUNK):
        stream.write(text[at : at + WRITE_CHUNK])


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    write_out(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n", stream)
