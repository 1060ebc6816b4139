"""The bundled demo: its drill plan, its simulated cloud and its working directory.

``planner.cli.demo`` runs the steps; this package owns the content (the plan
text, the inventory the plan was written for) and the directory it is written
to. It does not print.
"""

from planner.demo.content import DEMO_START, DRILL_PLAN, POINT_IN_TIME, demo_inventory
from planner.demo.workspace import DemoDirError, Workspace, prepare, write

__all__ = [
    "DEMO_START",
    "DRILL_PLAN",
    "POINT_IN_TIME",
    "DemoDirError",
    "Workspace",
    "demo_inventory",
    "prepare",
    "write",
]
