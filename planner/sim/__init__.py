"""A faithful simulator of the Huawei Cloud API subset the planner uses.

Public API: ``Simulator`` (in process; ``.transport()`` for httpx, ``.app`` for
Starlette), ``serve_in_thread`` (a real server for tests), ``load_inventory``,
``generate_inventory``. Contract: DESIGN section 9, specs/cbr-openapi.yaml.
"""

from planner.sim.core import Simulator
from planner.sim.generate import dump_inventory, generate_inventory
from planner.sim.inventory import Inventory, load_inventory, parse_inventory
from planner.sim.serve import serve_in_thread

__all__ = [
    "Inventory",
    "Simulator",
    "dump_inventory",
    "generate_inventory",
    "load_inventory",
    "parse_inventory",
    "serve_in_thread",
]
