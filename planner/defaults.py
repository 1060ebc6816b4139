"""Defaults a user can override on the command line, defined once.

The CLI's options, the plan's estimate and the executor all read them from here.
"""

from __future__ import annotations

DEFAULT_PARALLELISM = 10  # restores in flight
DEFAULT_POLL_INTERVAL_S = 5.0  # never poll task status more often than this (cloud seconds)
