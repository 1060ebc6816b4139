"""``restore-planner graph``: print the restore DAG as Graphviz dot or Mermaid.

Offline: the pipeline's offline stage (``planner.plan.pipeline.offline``, the
same checks as ``validate``) loads and expands the plan files and builds the
graph (depends_on, waves, conflicts, cycles); it is printed when there is no
problem. ``select`` blocks appear as one node each, since their instances are
only known at plan time.
"""

from __future__ import annotations

from planner.cli.context import Context
from planner.cli.options import GraphOptions
from planner.cli.output import write_out
from planner.graph.export import to_dot, to_mermaid
from planner.plan.pipeline import offline


def run(opts: GraphOptions, ctx: Context) -> int:
    _config, graph = offline(opts.path, opts.vars.var_file, opts.vars.var).require()
    render = to_mermaid if opts.format == "mermaid" else to_dot
    write_out(render(graph))
    return 0
