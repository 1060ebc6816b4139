"""A throwaway PostgreSQL cluster for the tests (started by .ci/pg.sh, once per session).

``pg_conn_str`` starts it on first use and stops it at the end of the session;
it skips, saying why, where the server is not installed. ``pg_env`` exports
PG_CONN_STR for one test only. Each test takes its own workspace (``pg_workspace``),
so tests share the cluster without sharing state.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "pg.sh"


@pytest.fixture(scope="session")
def pg_conn_str() -> Iterator[str]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]'): PostgreSQL tests skipped")
    base = Path(tempfile.mkdtemp(prefix="rp-pg-"))
    os.chmod(base, 0o755)
    data = base / "cluster"
    proc = subprocess.run(
        ["bash", str(SCRIPT), "start", str(data)], capture_output=True, text=True, check=False
    )
    if proc.returncode == 2:
        pytest.skip(f"PostgreSQL is not installed ({proc.stderr.strip()}): PostgreSQL tests skipped")
    if proc.returncode != 0:
        subprocess.run(["bash", str(SCRIPT), "stop", str(data)], check=False)
        raise RuntimeError(f"could not start PostgreSQL: {proc.stderr.strip()}")
    try:
        yield proc.stdout.strip()
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(data)], check=False)
        subprocess.run(["rm", "-rf", str(base)], check=False)


@pytest.fixture
def pg_workspace() -> str:
    return "t-" + uuid.uuid4().hex[:12]


@pytest.fixture
def pg_env(pg_conn_str: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PG_CONN_STR", pg_conn_str)
    return pg_conn_str
