"""Synthetic drills for the apply tests and bench: an inventory plus a plan YAML.

One restore block per server (``s-<name>``), each pinned to the newest available
backup of its own server, in ``levels`` levels where each restore depends on 0-3
restores of the previous level (seeded). Every server is ACTIVE, so the plan
has no refused targets; sizes are one system disk of 20-500 GB unless told.
Also the in-process harness: the CLI against a Simulator on a VirtualClock.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import planner.apply.executor as ex
from planner.addresses import Address
from planner.apply.events import Event
from planner.cli.context import Connection
from planner.clock import VirtualClock
from planner.demo.cloud import connected
from planner.plan import planfile
from planner.sim import Simulator, dump_inventory, generate_inventory, parse_inventory
from planner.sim.clock import SimClock

START = datetime(2026, 11, 25, 6, tzinfo=UTC)  # after every generated backup for seed < 5


@dataclass
class Drill:
    inventory: dict[str, Any]
    plan_yaml: str
    levels: list[list[str]]  # block names per level
    deps: dict[str, list[str]] = field(default_factory=dict)
    size_gb: dict[str, int] = field(default_factory=dict)  # per block
    target: dict[str, str] = field(default_factory=dict)  # block -> server id


def make_drill(
    servers: int,
    seed: int = 0,
    levels: int = 4,
    max_deps: int = 3,
    quota: int | None = None,
    waves: bool = False,
    time_scale: float = 1.0,
    rules: dict[str, Any] | None = None,
    restore_mode: str | None = None,
    before: str | None = None,
) -> Drill:
    """``waves=True`` writes ``wave: level`` instead of ``depends_on``: level-by-level batches.

    ``time_scale`` divides the plan's estimates, for a client on the wall clock
    against a simulator served with ``--time-scale`` (its first poll comes at half
    the estimate). ``rules`` go into the inventory's rules (the simulator's pace:
    see ``estimator_pace``); ``restore_mode`` is set on every backup (``snapshot``:
    restores of seconds). ``before``: targets by name and backups by selector
    (``{before: ...}``, the newest available backup then) instead of pinned ids.
    """
    rng = random.Random(f"drill:{seed}")
    inv = generate_inventory(servers, 0, seed=seed % 5)
    if quota is not None or rules:
        inv["rules"] = {**({"quota": quota} if quota is not None else {}), **(rules or {})}
    if restore_mode is not None:
        for b in inv["backups"]:
            b["restore_mode"] = restore_mode
    sizes = {v["id"]: v for v in inv["volumes"]}
    for server in inv["servers"]:
        server["status"] = "ACTIVE"
        boot = sizes[server["volumes"][0]["id"]]
        boot["size_gb"] = rng.randint(20, 500)
    by_id = {s["id"]: s for s in inv["servers"]}
    newest: dict[str, dict[str, Any]] = {}
    for b in inv["backups"]:
        if b["status"] == "protecting":
            b["status"] = "available"  # the cloud refuses a restore during a backup (2002)
        if b["resource_id"] in by_id:
            vol = sizes[by_id[b["resource_id"]]["volumes"][0]["id"]]
            b["size_gb"] = vol["size_gb"]
            for child in b["children"]:
                child["size_gb"] = vol["size_gb"]
            if b["status"] == "available" and (
                b["resource_id"] not in newest or b["created_at"] > newest[b["resource_id"]]["created_at"]
            ):
                newest[b["resource_id"]] = b
    drill = Drill(inv, "", [[] for _ in range(levels)])
    names = [s for s in inv["servers"] if s["id"] in newest]
    per = max(1, len(names) // levels)
    lines = ["version: 1"]
    if time_scale != 1.0:
        lines.append(
            f"defaults: {{restore_overhead: {round(60.0 / time_scale)}s, "
            f"throughput_gb_per_min: {4.0 * time_scale:g}}}"
        )
    lines.append("restores:")
    for i, server in enumerate(names):
        level = min(i // per, levels - 1)
        block = f"s-{server['name']}"
        prev = drill.levels[level - 1] if level else []
        deps = sorted(rng.sample(prev, k=min(len(prev), rng.randint(0, max_deps))))
        drill.levels[level].append(block)
        drill.deps[block] = deps
        drill.size_gb[block] = newest[server["id"]]["size_gb"]
        drill.target[block] = server["id"]
        if before is not None:
            # selectors, as a point-in-time recovery writes them: a re-plan resolves them again
            lines += [f"  {block}:", f"    server: {{name: {server['name']}}}",
                      f"    backup: {{before: \"{before}\"}}"]
        else:
            lines += [f"  {block}:", f"    server: {server['id']}", f"    backup: {newest[server['id']]['id']}"]
        if waves:
            lines.append(f"    wave: {level + 1}")
        elif deps:
            lines.append(f"    depends_on: [{', '.join(deps)}]")
    drill.plan_yaml = "\n".join(lines) + "\n"
    return drill


def write_drill(drill: Drill, directory: Path) -> tuple[Path, Path]:
    """Writes inventory.json and drill.yaml; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    inv = directory / "inventory.json"
    inv.write_text(dump_inventory(drill.inventory, fmt="json"))
    plan = directory / "drill.yaml"
    plan.write_text(drill.plan_yaml)
    return inv, plan


def estimator_pace(factor: float) -> dict[str, Any]:
    """Inventory rules for a simulator whose every restore takes ``factor`` times the
    client's default estimate (60 s + size / 4 GB/min): no per-disk overhead, no spread."""
    return {"restore_overhead_s": 60.0 * factor, "per_disk_overhead_s": 0.0,
            "throughput_gb_per_min": 4.0 / factor, "pace_spread": [1.0, 1.0]}


def simulator(
    drill: Drill, faults: str = "", seed: int = 0, *, clock_skew_s: float = 0.0, clock_rate: float = 1.0
) -> tuple[Simulator, VirtualClock]:
    """The simulator and the client's clock. With a skew or a rate the simulator runs on
    its own clock (a ``SimClock`` over the client's, ``sim.clock``), which the client
    learns only from the times the simulator returns."""
    clock = VirtualClock(start=START.timestamp())
    cloud = SimClock(clock, offset=clock_skew_s, rate=clock_rate) if clock_skew_s or clock_rate != 1.0 else clock
    return Simulator(parse_inventory(drill.inventory), clock=cloud, faults=faults, seed=seed), clock


@contextmanager
def in_process(
    sim: Simulator, clock: VirtualClock, transport: httpx.AsyncBaseTransport | None = None
) -> Iterator[Connection]:
    """``main([...])`` talks to ``sim`` for the duration (environment and transport; the
    process environment is not changed). The connection is yielded: a test may swap its
    ``transport`` (one that drops answers) or edit its ``env`` between two commands."""
    with connected(sim, clock, transport) as conn:
        yield conn


def addr(block: str) -> str:
    return str(Address.parse(block))


@contextmanager
def abandoned_once_accepted(
    count: int, at_cut: Callable[[], None] | None = None, *, first_ctrl_c: bool = False
) -> Iterator[None]:
    """While it lasts, an apply lets go (a second Ctrl-C: what is in flight stays
    "started") once the cloud accepted ``count`` restores, calling ``at_cut`` first.
    ``first_ctrl_c``: only the first Ctrl-C instead (start nothing new, track the rest)."""
    original = ex.Executor._emit
    seen: list[str] = []

    def emit(self: ex.Executor, event: Event) -> None:
        original(self, event)
        if event.kind == "restore_accepted":
            seen.append(event.kind)
            if len(seen) == count:
                if at_cut is not None:
                    at_cut()
                if first_ctrl_c:
                    self.stop_starting()
                else:
                    self.abandon()

    ex.Executor._emit = emit  # type: ignore[method-assign]
    try:
        yield
    finally:
        ex.Executor._emit = original  # type: ignore[method-assign]


class DrillKit:
    """A drill written under ``directory`` (plan files, the saved plan's path, the state)
    with its simulator: what tests of saved plans and state share."""

    def __init__(self, drill: Drill, directory: Path) -> None:
        self.drill = drill
        _inv, self.plan = write_drill(drill, directory)
        self.saved = directory / "drill.plan"
        self.state = directory / ".restore-planner" / "state.json"
        self.sim, self.clock = simulator(drill)

    @contextmanager
    def cloud(self) -> Iterator[Simulator]:
        with in_process(self.sim, self.clock):
            yield self.sim

    def restores(self) -> list[Any]:
        return list(self.sim.ledger()["restores"])

    def data(self) -> dict[str, Any]:
        out = json.loads(self.saved.read_text())
        assert isinstance(out, dict)
        return out

    def write(self, data: dict[str, Any], *, reseal: bool = False) -> None:
        """Write an edited plan; ``reseal``: as an attacker who recomputes the digest would."""
        if reseal:
            data["digest"] = planfile.digest_of(planfile.plan_from_dict(data))
        self.saved.write_text(json.dumps(data, indent=2))
