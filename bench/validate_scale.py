"""Offline scale target (DESIGN.md section 10): validate vs a bare CSafeLoader load.

Generates 10,000-server/30,000-disk and 20,000-server plans in a temp dir and
prints the two ratios, best of 3 each.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from random import Random

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from planner.config.load import load_plan


def generate(servers: int, disks_per_server: int = 3, seed: int = 0) -> str:
    rng = Random(seed)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    lines = [
        "# yaml-language-server: $schema=../plan.schema.json",
        "version: 1",
        "cloud: {region: ap-southeast-1, project_id: f841e01fd2b14e7fa41b6ae7aa6b0594}",
        "vars:",
        '  point_in_time: "2026-11-20T00:00:00Z"',
        "guards: {max_restores: 100000, max_backup_skew: 30m, max_backup_age: 24h}",
        "restores:",
    ]
    tiers = ["db", "app", "web"]
    for i in range(servers):
        tier = tiers[i % 3]
        lines.append(f"  {tier}-{i:05d}:")
        lines.append(f"    server: {uid()}")
        lines.append(f"    backup: {uid()}")
        lines.append(f"    power_on: {'false' if tier == 'db' else 'true'}")
        lines.append("    disks:")
        for _ in range(disks_per_server):
            lines.append(f"      - {{backup: {uid()}, volume: {uid()}}}")
        if tier != "db" and i >= 3:
            lines.append(f"    depends_on: [{tiers[(i - 1) % 3]}-{i - 1:05d}]")
        lines.append(f"    wave: {i % 3 + 1}")
    return "\n".join(lines) + "\n"


def best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _validate(path: str, with_graph: bool) -> None:
    config, diags = load_plan(path, [], [])
    assert config is not None, diags
    if with_graph:
        from planner.graph.build import build_from_specs

        build_from_specs(list(config.restores))


def main() -> int:
    try:
        import planner.graph.build  # noqa: F401

        with_graph = True
    except ModuleNotFoundError:
        with_graph = False
    with tempfile.TemporaryDirectory() as tmp:
        p10, p20 = Path(tmp, "plan10k.yaml"), Path(tmp, "plan20k.yaml")
        p10.write_text(generate(10_000))
        p20.write_text(generate(20_000, seed=1))
        text10 = p10.read_text()
        bare = best_of(3, lambda: yaml.load(text10, Loader=yaml.CSafeLoader))
        v10 = best_of(3, lambda: _validate(str(p10), with_graph))
        v20 = best_of(3, lambda: _validate(str(p20), with_graph))
    what = "load_plan + graph" if with_graph else "load_plan only (planner.graph.build not available)"
    print(f"plan 10k: {len(text10) / 1e6:.1f} MB; bare load {bare:.3f}s; {what} {v10:.3f}s; 20k {v20:.3f}s")
    print(f"validate/yaml_load (10k): {v10 / bare:.2f}x (target <= 3.0)")
    print(f"validate 20k/10k: {v20 / v10:.2f}x (target <= 2.2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
