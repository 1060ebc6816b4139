"""The one root of the errors a command reports, raised only where collecting is impossible.

A ``PlannerError`` carries a ``message`` (what went wrong) and a ``hint`` (what
to do about it, "" when there is nothing useful to say). The CLI prints
``error: <summary()>`` and ``hint: <hint>`` without a traceback and exits 1.
Anything else that escapes is a bug: the CLI writes its traceback to a log file
and prints where it is.

Exception tree::

    PlannerError                 message, hint, summary(); exit 1
      UserError                  bad input or environment
        DiagnosticsError         carries a list of Diagnostic, rendered like a compiler
        StateLockedError         another process holds the state lock
        StalePlanError           a saved plan no longer matches the world or state
      planner.cloud.errors.CloudError   talking to the cloud went wrong (see there)

Code that can recover from a cloud error catches ``CloudError`` (apply, refresh);
``except UserError`` never catches one.
"""

from __future__ import annotations

from planner.diagnostics import Diagnostic


class PlannerError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def summary(self) -> str:
        """The text after ``error: ``."""
        return self.message


class UserError(PlannerError):
    pass


class DiagnosticsError(UserError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s)")
        self.diagnostics = diagnostics


class StateLockedError(UserError):
    pass


class StalePlanError(UserError):
    pass
