"""The one user-facing error type, raised only where collecting is impossible.

UserError carries a message (and optional hint) that the CLI prints without a
traceback and maps to exit code 1. Anything else that escapes is a bug: the CLI
writes its traceback to a log file and prints where it is.

Exception tree::

    UserError                  bad input or environment, exit 1
      DiagnosticsError         carries a list of Diagnostic, rendered like a compiler
      StateLockedError         another process holds the state lock
      StalePlanError           a saved plan no longer matches the world or state
    planner.cloud.errors.CloudError   (see there) is also mapped to exit 1
"""

from __future__ import annotations

from planner.diagnostics import Diagnostic


class UserError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class DiagnosticsError(UserError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s)")
        self.diagnostics = diagnostics


class StateLockedError(UserError):
    pass


class StalePlanError(UserError):
    pass
