"""RunReport -> one self-contained HTML page: the summary, an inline SVG Gantt, every restore.

Owns the page. Nothing is fetched: no scripts, fonts, stylesheets or images,
so the file can be attached to a ticket or opened offline. Jinja2 autoescapes
every value; the SVG is built with html.escape (see svg.py) and marked safe.
The template is a constant here, not a package file, so it ships without
package-data.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from planner.render.fmt import clean
from planner.report.gantt import MAX_ROWS
from planner.report.model import RunReport
from planner.report.svg import render_svg
from planner.report.text import (
    OUTCOME_WORDS,
    clock,
    counts_line,
    dur,
    noticing_line,
    ratio,
    result,
    result_detail,
    spans_days,
    started_line,
    wave_name,
)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 8px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right}code{font:12px ui-monospace,Menlo,Consolas,monospace}
.result{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}
.result.succeeded{background:#2e7d32}.result.failed,.result.interrupted,.result.incomplete{background:#c62828}
.note{color:#57606a}.legend span{margin-right:16px}.sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
svg.gantt{font:11px ui-monospace,Menlo,Consolas,monospace;border:1px solid #d0d7de}
.wave-0{fill:#ffffff}.wave-1{fill:#f1f4f8}.wave-label{fill:#57606a;font-weight:600}
.tick{stroke:#d8dee4;stroke-width:1}.tick-label{fill:#57606a}.row-label{fill:#1b1f24}
.bar.succeeded,.sw.succeeded{fill:#2e7d32;background:#2e7d32}.bar.failed,.sw.failed{fill:#c62828;background:#c62828}
.bar.skipped,.sw.skipped{fill:#9e9e9e;background:#9e9e9e}.bar.unknown,.sw.unknown{fill:#f9a825;background:#f9a825}
.bar.critical{stroke:#111;stroke-width:1.5}.sw.critical{background:#fff;border:2px solid #111;width:9px;height:9px}
tr.failed td{background:#fdecea}tr.unknown td{background:#fff8e1}tr.skipped td{color:#57606a}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drill report: run {{ r.run_id }}</title>
<style>{{ css }}</style></head>
<body>
<h1>Drill report: run <code>{{ r.run_id }}</code> <span class="result {{ word }}">{{ word }}</span></h1>
<table class="summary">
<tr><th>Result</th><td>{{ detail }}</td></tr>
<tr><th>Restores</th><td>{{ counts }}</td></tr>
<tr><th>Makespan</th><td>{{ dur(r.makespan_s) }} (estimate {{ dur(r.estimated_makespan_s) }}, actual / estimate {{ ratio(r.makespan_ratio) }})</td></tr>
<tr><th>Ends noticed</th><td>{{ noticing }}</td></tr>
<tr><th>Started</th><td>{{ started_line(r) }}</td></tr>
<tr><th>Parallelism</th><td>{{ r.parallelism if r.parallelism is not none else "-" }}</td></tr>
</table>
<h2>Recovery time per wave</h2>
<table class="waves"><tr><th>Wave</th><th>Restores</th><th>Succeeded</th><th>Failed</th><th>Skipped</th><th>Unknown</th><th>First start</th><th>Last end</th><th>Recovery time</th><th>Ready after</th></tr>
{% for w in r.waves %}<tr><td>{{ wave_name(w.wave) }}</td><td class="n">{{ w.count }}</td>{% for o in outcomes %}<td class="n">{{ w.outcomes[o] }}</td>{% endfor %}<td>{{ clock(w.first_start, full) }}</td><td>{{ clock(w.last_end, full) }}</td><td class="n">{{ dur(w.wall_s) }}</td><td class="n">{{ dur(w.ready_after_s) }}</td></tr>
{% endfor %}</table>
<p class="note">Recovery time: first start to last end in the wave. Ready after: from the start of the run. Times are UTC.</p>
{% if failed %}<h2>Failed ({{ failed|length }})</h2>
<table><tr><th>Address</th><th>Wave</th><th>Error code</th><th>Message</th><th>Task</th></tr>
{% for x in failed %}<tr class="failed"><td><code>{{ x.address }}</code></td><td>{{ wave_name(x.wave) }}</td><td><code>{{ x.error_code }}</code></td><td>{{ x.error_message }}</td><td><code>{{ x.task_id or "-" }}</code></td></tr>
{% endfor %}</table>{% endif %}
{% if skipped %}<h2>Skipped ({{ skipped|length }})</h2>
<table><tr><th>Address</th><th>Wave</th><th>Because</th></tr>
{% for x in skipped %}<tr class="skipped"><td><code>{{ x.address }}</code></td><td>{{ wave_name(x.wave) }}</td><td>{% if x.skipped_because %}{% for a in x.skipped_because %}<code>{{ a }}</code>{% if not loop.last %}, {% endif %}{% endfor %} failed{% else %}{{ x.skipped_reason or "a dependency failed" }}{% endif %}</td></tr>
{% endfor %}</table>{% endif %}
{% if unknown %}<h2>Outcome unknown ({{ unknown|length }})</h2>
<p class="note">Started, but the run ended before their outcome was recorded; the next plan reconciles them.</p>
<table><tr><th>Address</th><th>Wave</th><th>Started</th><th>Task</th></tr>
{% for x in unknown %}<tr class="unknown"><td><code>{{ x.address }}</code></td><td>{{ wave_name(x.wave) }}</td><td>{{ clock(x.start, full) }}</td><td><code>{{ x.task_id or "-" }}</code></td></tr>
{% endfor %}</table>{% endif %}
<h2>Critical path taken</h2>
{% if r.critical_path %}<ol>{% for s in r.critical_path %}<li><code>{{ s.address }}</code> {{ clock(s.start, full) }} to {{ clock(s.end, full) }} ({{ dur(s.duration_s) }}{% if s.wait_s >= 1 %}, after waiting {{ dur(s.wait_s) }}{% endif %})</li>{% endfor %}</ol>
{% if r.estimated_critical_path %}<p>Estimated critical path: {% for a in r.estimated_critical_path %}<code>{{ a }}</code>{% if not loop.last %} → {% endif %}{% endfor %}{% if same_path %} (the same){% else %} (different){% endif %}.</p>{% endif %}
{% else %}<p>No restore finished.</p>{% endif %}
<h2>Timeline</h2>
{% if svg %}<p class="legend">{% for o in outcomes %}<span><i class="sw {{ o }}"></i>{{ words[o] }}</span>{% endfor %}<span><i class="sw critical"></i>critical path taken</span></p>
{% if dropped %}<p class="note">The chart shows {{ drawn }} of {{ drawn + dropped }} restores: the critical path, failures, skipped and the longest; the table below lists every restore.</p>{% endif %}
{{ svg }}{% else %}<p>No restore started.</p>{% endif %}
<h2>Every restore</h2>
<table class="restores"><tr><th>Address</th><th>Wave</th><th>Batch</th><th>Target</th><th>Start</th><th>End</th><th>Duration</th><th>Estimate</th><th>Actual / estimate</th><th>Outcome</th></tr>
{% for x in r.restores %}<tr class="{{ x.outcome }}"><td><code>{{ x.address }}</code></td><td>{{ wave_name(x.wave) }}</td><td class="n">{{ x.batch if x.batch is not none else "-" }}</td><td>{{ (x.target.name or x.target.id) if x.target else "-" }}</td><td>{{ clock(x.start, full) }}</td><td>{{ clock(x.end, full) }}</td><td class="n">{{ dur(x.duration_s) }}</td><td class="n">{{ dur(x.estimate_s) }}</td><td class="n">{{ ratio(x.ratio) }}</td><td>{{ words[x.outcome] }}</td></tr>
{% endfor %}</table>
</body></html>
"""

_ENV = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
)
# control characters from the cloud or YAML are shown, never passed through
_ENV.finalize = lambda v: clean(v) if isinstance(v, str) and not isinstance(v, Markup) else v
_TEMPLATE = _ENV.from_string(_PAGE)


def render_html(report: RunReport, cap: int = MAX_ROWS) -> str:
    svg, drawn, dropped = render_svg(report, cap)
    return _TEMPLATE.render(
        r=report,
        css=Markup(_CSS),
        svg=Markup(svg),
        drawn=drawn,
        dropped=dropped,
        word=result(report),
        detail=result_detail(report),
        counts=counts_line(report),
        noticing=noticing_line(report),
        full=spans_days(report),
        outcomes=list(OUTCOME_WORDS),
        words=OUTCOME_WORDS,
        failed=[x for x in report.restores if x.outcome == "failed"],
        skipped=[x for x in report.restores if x.outcome == "skipped"],
        unknown=[x for x in report.restores if x.outcome == "unknown"],
        same_path=[s.address for s in report.critical_path] == report.estimated_critical_path,
        dur=dur,
        ratio=ratio,
        clock=clock,
        started_line=started_line,
        wave_name=wave_name,
    )
