"""The Markdown report fits a pull-request comment (GitHub: 65,536 characters) however
many restores and waves the run had; a note says what was left out. A run of 1,000
restores in 200 waves made 216,903 characters before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.report.markdown import MAX_CHARS

RUN = "20261128T120000Z-0001"
T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _run_log(directory: Path, restores: int, waves: int) -> None:
    runs = directory / ".restore-planner" / "runs"
    runs.mkdir(parents=True)
    lines = [{"ts": _ts(T0), "kind": "run_started", "run_id": RUN, "parallelism": 20, "summary": {"restore": restores},
              "plan_estimate_s": 3600.0, "critical_path": [f'w["r{i:05d}"]' for i in range(restores)]}]  # fmt: skip
    for i in range(restores):
        wave = i * waves // restores + 1
        start = T0 + timedelta(minutes=10 * (wave - 1))
        end = start + timedelta(minutes=5, seconds=i % 60)
        addr = f'w["r{i:05d}"]'
        lines.append({"ts": _ts(start), "kind": "restore_started", "address": addr, "backup_id": f"b{i}",
                      "target": {"kind": "server", "id": f"s{i}", "name": f"server-{i:05d}"}, "batch": wave,
                      "wave": wave, "estimate_s": 300.0, "depends_on": [], "size_gb": 40, "adopted": False})  # fmt: skip
        lines.append({"ts": _ts(end), "kind": "restore_succeeded", "address": addr, "task_id": f"t{i}",
                      "started_at": _ts(start), "ended_at": _ts(end), "seen_at": _ts(end), "size_gb": 40})  # fmt: skip
    (runs / f"{RUN}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


@pytest.mark.parametrize(("restores", "waves"), [(1000, 200), (2000, 2000), (300, 3)])
def test_the_markdown_report_fits_a_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restores: int, waves: int
) -> None:
    _run_log(tmp_path, restores, waves)
    assert main(["report", str(tmp_path), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert len(text) <= MAX_CHARS < 65_536
    assert text.count("```") % 2 == 0  # every fence closed
    if waves > 50:
        assert f"... and {waves - 50:,} more waves (see the HTML or JSON report)" in text
        assert "more waves' tables, left out to fit a pull-request comment" in text
        assert "more steps (see the HTML or JSON report)" in text
    else:
        assert "left out" not in text  # a small run is whole
