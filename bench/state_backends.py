"""Client CPU and state-write time of apply with each state backend (issue 13).

1,000 restores (the apply_makespan drill: 4 levels, quota 20, --parallelism 20)
on the simulator's virtual clock, in process, through the CLI (``plan --out``
then ``apply PLANFILE``), once with the local file backend and once with
PostgreSQL (a throwaway cluster from .ci/pg.sh, or PG_CONN_STR if set). Prints,
per 1,000 restores: the client's CPU seconds (process CPU minus the simulator's)
and the wall time spent writing state, journal and run log (store writes and
appends, journal syncs, PostgreSQL flushes), then the PostgreSQL/file CPU ratio.
Target: <= 1.3. Least CPU of ``--repeat`` runs (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.apply_makespan import QUOTA, _sim_cpu  # noqa: E402
from planner.apply.journal import Journal  # noqa: E402
from planner.cli.main import main  # noqa: E402
from planner.state import postgres  # noqa: E402
from planner.state.store import StateStore  # noqa: E402
from tests.apply.drill import in_process, make_drill, simulator, write_drill  # noqa: E402


@contextlib.contextmanager
def _timed_writes() -> Iterator[list[float]]:
    """Wall seconds inside every call that makes state, journal or run log durable."""
    spent = [0.0]
    patched: list[tuple[Any, str, Callable[..., Any]]] = []

    def wrap(owner: Any, name: str) -> None:
        fn = getattr(owner, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t

        patched.append((owner, name, fn))
        setattr(owner, name, run)

    for owner, names in (
        (StateStore, ("write", "append")),
        (Journal, ("sync", "compact")),
        (postgres.PgStateStore, ("write", "append")),
        (postgres.PgJournal, ("compact",)),
        (postgres.PostgresBackend, ("flush",)),
    ):
        for name in names:
            wrap(owner, name)
    try:
        yield spent
    finally:
        for owner, name, fn in patched:
            setattr(owner, name, fn)


def run_once(n: int, seed: int, workdir: Path, backend: list[str]) -> tuple[float, float]:
    drill = make_drill(n, seed=seed, quota=QUOTA)
    _inv, plan_yaml = write_drill(drill, workdir)
    sim, clock = simulator(drill)
    saved = workdir / "drill.plan"
    with in_process(sim, clock):
        rc = main(["plan", str(plan_yaml), "--no-color", "--out", str(saved), "--parallelism", "20", *backend])
        if rc not in (0, 2):
            raise SystemExit(f"plan failed with exit code {rc}")
        with _sim_cpu(sim) as sim_spent, _timed_writes() as writes:
            cpu = time.process_time()
            rc = main(["apply", str(saved), "--auto-approve", "--parallelism", "20", "--format", "json"])
            cpu = time.process_time() - cpu
    if rc != 0:
        raise SystemExit(f"apply failed with exit code {rc}")
    return cpu - sim_spent[0], writes[0]


@contextlib.contextmanager
def _cluster() -> Iterator[str]:
    if os.environ.get("PG_CONN_STR"):
        yield os.environ["PG_CONN_STR"]
        return
    base = Path(tempfile.mkdtemp(prefix="rp-bench-pg-"))
    os.chmod(base, 0o755)
    script = str(ROOT / ".ci" / "pg.sh")
    proc = subprocess.run(["bash", script, "start", str(base / "c")], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"cannot start PostgreSQL ({proc.stderr.strip()}); run .ci/pg.sh install")
    try:
        yield proc.stdout.strip()
    finally:
        subprocess.run(["bash", script, "stop", str(base / "c")], check=False)


def main_bench(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--restores", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.restores
    results: dict[str, tuple[float, float]] = {}
    with _cluster() as conn:
        os.environ["PG_CONN_STR"] = conn  # this process only; never printed
        for name in ("file", "postgres"):
            runs = []
            for _ in range(max(1, args.repeat)):
                extra = [] if name == "file" else ["--backend", "postgres", "--workspace", "b-" + uuid.uuid4().hex[:8]]
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    contextlib.redirect_stdout(io.StringIO()),
                    contextlib.redirect_stderr(io.StringIO()),
                ):
                    runs.append(run_once(n, args.seed, Path(tmp), extra))
            results[name] = min(runs)
    print(f"state backends: apply of {n} restores, quota {QUOTA}, --parallelism 20 (virtual clock)")
    print(f"{'backend':<10} {'client CPU s/1000':>18} {'state-write s/1000':>19}")
    for name, (cpu, writes) in results.items():
        print(f"{name:<10} {cpu / n * 1000:>18.2f} {writes / n * 1000:>19.2f}")
    ratio = results["postgres"][0] / results["file"][0]
    print(f"PostgreSQL/file client CPU: {ratio:.2f}x (target <= 1.3x): {'met' if ratio <= 1.3 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_bench())
