"""Hypothesis profiles.

`make test` (CI) uses "ci": derandomized, so a run on a clean clone is reproducible and
cannot fail on an example no one has seen before. `make fuzz` uses "explore": fresh random
examples and many more of them; whatever it finds becomes a fixture or a regression test.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, max_examples=150, deadline=None)
settings.register_profile("explore", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "3000")), deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A throwaway PostgreSQL cluster for the state backend tests (started on first use).
from tests.pg.cluster import pg_conn_str, pg_env, pg_workspace  # noqa: E402, F401
