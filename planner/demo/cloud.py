"""Connect the CLI, in this process, to an in-process simulator.

``connection(sim, clock)`` is what ``main(argv, env=, transport=, clock=)`` needs
to talk to ``sim``: an environment naming it (HW_* set for the simulator, the
user's own HW_* credentials left out) and its in-process transport. The process
environment is never changed, so a demo run inside a test (or a user's shell
with real credentials exported) leaves no trace and never talks to a real cloud.

``connected`` does the same for a block of ``main([...])`` calls (tests, bench):
see ``planner.cli.context.connecting``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from planner.cli.context import Connection, connecting
from planner.clock import Clock
from planner.sim import Simulator

# Any of these in the user's environment would change which credentials the
# client picks, so none is passed on to a command talking to the simulator.
_HW_VARS = (
    "HW_ENDPOINT", "HW_REGION_NAME", "HW_PROJECT_ID", "HW_AUTH_TOKEN", "HW_ACCESS_KEY",
    "HW_SECRET_KEY", "HW_SECURITY_TOKEN", "HW_USER_NAME", "HW_USER_PASSWORD", "HW_DOMAIN_NAME",
    "HW_AUTH_URL", "HW_CLOUD", "OS_REGION_NAME", "OS_PROJECT_ID", "OS_ACCESS_KEY", "OS_SECRET_KEY",
    "OS_USERNAME", "OS_PASSWORD", "OS_AUTH_URL",
)  # fmt: skip
# Never dialled: the transport answers in process. Port 1 makes a leak fail fast.
UNUSED_ENDPOINT = "http://127.0.0.1:1"


def connection(
    sim: Simulator,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    base: Mapping[str, str] | None = None,
) -> Connection:
    """``sim`` reached in process: ``base`` (the process environment) without its HW_*
    variables, plus the simulator's; ``transport`` wraps ``sim.transport()`` if given."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _HW_VARS}
    env.update(
        HW_ENDPOINT=UNUSED_ENDPOINT,
        HW_REGION_NAME=sim.region,
        HW_PROJECT_ID=sim.project_id,
        HW_AUTH_TOKEN=sim.credentials.token,
    )
    return Connection(env, transport or sim.transport(), clock)


@contextmanager
def connected(
    sim: Simulator, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
) -> Iterator[Connection]:
    """``main([...])`` inside the block talks to ``sim``; the connection is yielded so a
    test can swap its transport or edit its environment between commands."""
    with connecting(connection(sim, clock, transport)) as conn:
        yield conn
