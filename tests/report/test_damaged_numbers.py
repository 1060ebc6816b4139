"""A run log is a report a crash or a hand may have damaged: a number no apply writes
(1e999, which reads as infinity, NaN, a 400-digit integer) reads as the field's default,
never a crash of `report` in any format."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main

RUN = "20261128T120000Z-0001"


@pytest.mark.parametrize("bad", ["1e999", "-1e999", "NaN", "9" * 400])
def test_a_number_no_apply_writes_reads_as_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    runs = tmp_path / ".restore-planner" / "runs"
    runs.mkdir(parents=True)
    (runs / f"{RUN}.jsonl").write_text(
        f'{{"ts":"2026-11-28T12:00:00.000Z","kind":"run_started","run_id":"{RUN}","parallelism":{bad},'
        f'"summary":{{"restore":{bad}}},"plan_estimate_s":{bad},"critical_path":[]}}\n'
        '{"ts":"2026-11-28T12:00:00.000Z","kind":"restore_started","address":"db","backup_id":"b",'
        f'"target":{{"kind":"server","id":"s","name":"n"}},"batch":{bad},"wave":null,"estimate_s":{bad},'
        f'"depends_on":[],"size_gb":{bad},"adopted":false}}\n'
        f'{{"ts":"2026-11-28T12:05:00.000Z","kind":"restore_progress","address":"db","progress":{bad}}}\n'
        '{"ts":"2026-11-28T12:10:00.000Z","kind":"restore_succeeded","address":"db","task_id":"t",'
        '"started_at":"2026-11-28T12:00:00Z","ended_at":"2026-11-28T12:10:00Z",'
        f'"seen_at":"2026-11-28T12:10:00Z","size_gb":{bad}}}\n'
    )
    for fmt in ("markdown", "html", "junit", "json"):
        rc = main(["report", str(tmp_path), "--format", fmt])
        captured = capsys.readouterr()
        assert rc == 0, captured.err
        assert "bug" not in captured.err
