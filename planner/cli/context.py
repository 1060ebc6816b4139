"""What a command runs in: the environment, and how it reaches the cloud and tells time.

``main(argv, env=, transport=, clock=)`` builds one ``Context`` and hands it to
the command; nothing below the CLI reads ``os.environ`` for cloud settings or
looks for a transport anywhere else. Real use passes nothing: the process
environment, real HTTP, the wall clock.

In-process callers (the demo, tests, bench) pass a transport and a clock to
``main``, or wrap several ``main([...])`` calls in ``connecting(Connection(...))``
(``planner.demo.cloud.connected`` builds one for a simulator): a ``main`` called
without them inside that block uses the connection. It is a context variable, set
and reset by that block only, so nothing leaks to the next caller or thread.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from planner.cli.options import StateChoice
from planner.clock import Clock
from planner.cloud.client import CloudClient
from planner.cloud.settings import CloudSettings
from planner.state import backend as state_backend
from planner.state.backend import Backend
from planner.state.store import default_state_path


@dataclass
class Connection:
    """A cloud to talk to in process: its environment (HW_* and the rest), transport, clock.

    Mutable on purpose: a test swaps the transport for a wrapper (dropping answers)
    or edits ``env`` (another project) between two commands of one block."""

    env: dict[str, str] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = None
    clock: Clock | None = None


_CONNECTION: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
    "restore_planner_connection", default=None
)


@contextmanager
def connecting(connection: Connection) -> Iterator[Connection]:
    """``main`` called without env/transport/clock inside this block uses ``connection``."""
    token = _CONNECTION.set(connection)
    try:
        yield connection
    finally:
        _CONNECTION.reset(token)


@dataclass(frozen=True)
class Context:
    env: Mapping[str, str]
    transport: httpx.AsyncBaseTransport | None = None
    clock: Clock | None = None

    @classmethod
    def build(
        cls,
        env: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> Context:
        """What was passed; else the surrounding ``connecting`` block's; else the process's."""
        conn = _CONNECTION.get()
        if conn is not None:
            env = conn.env if env is None else env
            transport = conn.transport if transport is None else transport
            clock = conn.clock if clock is None else clock
        return cls(dict(os.environ) if env is None else env, transport, clock)

    def client(
        self, region: str | None = None, project_id: str | None = None, max_rps: float = 50.0
    ) -> CloudClient:
        """From HW_* variables; region and project default to the plan's (``cloud:``)."""
        settings = CloudSettings.from_env(self.env, region, project_id)
        return CloudClient(settings, transport=self.transport, clock=self.clock, max_rps=max_rps)

    def open_state(
        self, path: Path, choice: StateChoice, plan_path: str | None, saved_ref: str | None = None
    ) -> Backend:
        """The backend --backend/--workspace/--state, a saved plan and the plan choose."""
        picked = state_backend.choose(
            flag=choice.backend,
            workspace=choice.workspace,
            state_flag=choice.state,
            saved_ref=saved_ref,
            plan_path=plan_path,
        )
        return state_backend.open_backend(picked, path, self.env)


def state_path(state: str | None, path: str) -> Path:
    """``--state``, or the default beside the plan files (a saved plan: planfile.state_location)."""
    return Path(state) if state else default_state_path(path)
