"""``restore-planner graph``: print the restore DAG as Graphviz dot or Mermaid.

Offline: loads and expands the plan files, builds the graph (depends_on, waves,
conflicts, cycles) and prints it. ``select`` blocks appear as one node each,
since their instances are only known at plan time.
"""

from __future__ import annotations

import argparse
import sys

from planner.errors import DiagnosticsError
from planner.graph.build import build_from_specs
from planner.graph.export import to_dot, to_mermaid


def run(args: argparse.Namespace) -> int:
    from planner.config.load import load_plan

    config, diags = load_plan(args.path, list(args.var_file), list(args.var))
    if config is None or any(d.is_error for d in diags):
        raise DiagnosticsError(diags)
    graph, graph_diags = build_from_specs(config.restores)
    diags = [*diags, *graph_diags]
    if any(d.is_error for d in diags):
        raise DiagnosticsError(diags)
    render = to_mermaid if args.format == "mermaid" else to_dot
    sys.stdout.write(render(graph))
    return 0
