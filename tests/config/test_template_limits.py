"""Templates that would exhaust the machine are refused under real limits (issue 10, item 6).

Each plan runs through the CLI (`validate`) in a child process limited to 2 GiB of
address space and 60 s of CPU: before the fix the first one reached 21.9 GB RSS and
the others spun without end (the child was killed by the limits, not a diagnostic).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="resource limits as on Linux")

AS_LIMIT = 2 * 1024**3
CPU_LIMIT_S = 60


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))


def validate(tmp_path: Path, template: str) -> subprocess.CompletedProcess[str]:
    quoted = template.replace("'", "''")
    (tmp_path / "plan.yaml").write_text(
        f"version: 1\nrestores:\n  db:\n    server: s1\n    backup: '{quoted}'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HW_", "OS_"))}
    return subprocess.run(
        [sys.executable, "-m", "planner", "validate", "plan.yaml", "--no-color"],
        cwd=tmp_path, env=env, preexec_fn=_limits, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("template", "code", "summary"),
    [
        (
            "{{ range(100000) | map('string') | map('center', 1000000) | list | length }}",
            "RP123",
            "template result is too large (the limit is 1048576 characters)",
        ),
        (
            "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
            "RP125",
            "template evaluation is too costly: ",
        ),
        (
            "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(0) }}",
            "RP125",
            "template evaluation is too costly: calls nested more than 40 deep (a recursive macro?)",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "RP123",
            "template result is too large (the limit is 1048576 characters)",
        ),
        (
            "{% set r = range(100000)|list %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
            "RP125",
            "template evaluation is too costly: ",
        ),
        (
            "{{ [[('x' * 1000000)] * 1000] * 1000 }}",
            "RP123",
            "template result is too large (the limit is 1048576 characters)",
        ),
    ],
)
def test_costly_template_is_a_diagnostic_at_its_string(tmp_path: Path, template: str, code: str, summary: str) -> None:
    done = validate(tmp_path, template)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert f"plan.yaml:5:13: error[{code}]: {summary}" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "This is a bug" not in done.stderr
