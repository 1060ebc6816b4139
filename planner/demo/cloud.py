"""Connect the CLI, in this process, to an in-process simulator.

The CLI reads its cloud settings from HW_* variables and, for the demo and
tests, its transport and clock from ``planner.cli.common``. ``connected`` sets
both for the duration of a block and puts back what was there, so a demo run
inside a test (or a user's shell with real credentials exported) leaves no trace
and never talks to a real cloud.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from planner.cli import common
from planner.clock import Clock
from planner.sim import Simulator

# Any of these in the user's environment would change which credentials the
# client picks, so all are cleared while the demo runs.
_HW_VARS = (
    "HW_ENDPOINT", "HW_REGION_NAME", "HW_PROJECT_ID", "HW_AUTH_TOKEN", "HW_ACCESS_KEY",
    "HW_SECRET_KEY", "HW_SECURITY_TOKEN", "HW_USER_NAME", "HW_USER_PASSWORD", "HW_DOMAIN_NAME",
    "HW_AUTH_URL", "HW_CLOUD", "OS_REGION_NAME", "OS_PROJECT_ID", "OS_ACCESS_KEY", "OS_SECRET_KEY",
    "OS_USERNAME", "OS_PASSWORD", "OS_AUTH_URL",
)  # fmt: skip
# Never dialled: the transport answers in process. Port 1 makes a leak fail fast.
UNUSED_ENDPOINT = "http://127.0.0.1:1"


@contextmanager
def connected(sim: Simulator, clock: Clock) -> Iterator[Simulator]:
    saved_env = {k: os.environ.get(k) for k in _HW_VARS}
    saved = (common.TRANSPORT, common.CLOCK)
    for k in _HW_VARS:
        os.environ.pop(k, None)
    os.environ.update(
        HW_ENDPOINT=UNUSED_ENDPOINT,
        HW_REGION_NAME=sim.region,
        HW_PROJECT_ID=sim.project_id,
        HW_AUTH_TOKEN=sim.credentials.token,
    )
    common.TRANSPORT, common.CLOCK = sim.transport(), clock
    try:
        yield sim
    finally:
        common.TRANSPORT, common.CLOCK = saved
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
