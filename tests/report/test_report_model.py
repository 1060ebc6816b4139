from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from planner.report.model import RunReport, build_report
from planner.report.text import noticing_line


def _at(hms: str) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2026, 3, 1, h, m, s, tzinfo=UTC)


def _by(report: RunReport, address: str) -> Any:
    return next(r for r in report.restores if r.address == address)


def test_outcomes_and_counts(report: RunReport) -> None:
    assert report.run_id == "20260301T020000Z-3f9a"
    assert report.counts == {
        "succeeded": 8,
        "failed": 1,
        "skipped": 2,
        "unknown": 1,
        "unchanged": 3,
    }
    assert report.finished and report.interrupted and report.exit_code == 130
    failed = _by(report, 'app["app-02"]')
    assert (failed.outcome, failed.error_code, failed.error_message) == (
        "failed",
        "BackupService.2011",
        "disk status does not allow restore",
    )
    assert failed.ratio is None  # a failed restore says nothing about the estimate
    skipped = _by(report, 'web["web-03"]')
    assert skipped.outcome == "skipped" and skipped.skipped_because == ['app["app-02"]']
    assert skipped.start is None and skipped.wave == 3 and skipped.skipped_at == _at("02:13:08")


def test_times_come_from_the_cloud_task_when_known(report: RunReport) -> None:
    db = _by(report, 'db["db-01"]')
    assert (db.start, db.end, db.duration_s, db.timed_by) == (
        _at("02:00:02"),
        _at("02:11:02"),
        660.0,
        "cloud",
    )
    assert db.estimate_s == 660.0 and db.ratio == 1.0
    app3 = _by(report, 'app["app-03"]')
    assert app3.duration_s == 243.0 and app3.ratio == 243.0 / 240.0
    # outcome unknown: the start is when the planner posted it; no end
    unknown = _by(report, "report")
    assert (unknown.outcome, unknown.start, unknown.end, unknown.timed_by) == (
        "unknown",
        _at("02:19:40"),
        None,
        "planner",
    )


def test_per_wave_recovery_times(report: RunReport) -> None:
    got = [
        (w.wave, w.count, w.first_start, w.last_end, w.wall_s, w.ready_after_s)
        for w in report.waves
    ]
    assert got == [
        (1, 4, _at("02:00:02"), _at("02:11:02"), 660.0, 662.0),
        (2, 4, _at("02:11:06"), _at("02:19:36"), 510.0, 1176.0),
        (3, 4, _at("02:19:40"), _at("02:22:15"), 155.0, 1335.0),
    ]
    assert report.waves[1].outcomes == {"succeeded": 3, "failed": 1, "skipped": 0, "unknown": 0}
    assert report.waves[2].outcomes == {"succeeded": 1, "failed": 0, "skipped": 2, "unknown": 1}


def test_makespan_against_the_estimate(report: RunReport) -> None:
    assert report.makespan_s == 1333.0
    assert report.estimated_makespan_s == 1320.0
    assert report.makespan_ratio == 1333.0 / 1320.0


def test_critical_path_taken(report: RunReport) -> None:
    path = [(s.address, s.duration_s, s.wait_s) for s in report.critical_path]
    assert path == [
        ('db["db-01"]', 660.0, 0.0),
        ('app["app-01"]', 510.0, 4.0),
        ('web["eu:west#1"]', 154.0, 5.0),
    ]


def _ev(kind: str, ts: str, **fields: Any) -> dict[str, Any]:
    return {"ts": f"2026-03-01T{ts}Z", "kind": kind, **fields}


def _done(
    addr: str, start: str, end: str, wave: int | None = None, deps: list[str] | None = None
) -> list[dict[str, Any]]:
    return [
        _ev(
            "restore_started",
            start,
            address=addr,
            wave=wave,
            batch=1,
            estimate_s=10.0,
            depends_on=deps or [],
        ),
        _ev(
            "restore_succeeded",
            end,
            address=addr,
            started_at=f"2026-03-01T{start}Z",
            ended_at=f"2026-03-01T{end}Z",
            size_gb=1,
        ),
    ]


def test_critical_path_follows_the_dependency_that_finished_last_before_the_start() -> None:
    # c depends on a and b; b finished later (but before c started); x finishes after c started
    events = (
        _done("a", "00:00:00", "00:01:00")
        + _done("b", "00:00:00", "00:02:00")
        + _done("x", "00:00:00", "00:04:00")
        + _done("c", "00:02:10", "00:05:00", deps=["a", "b", "x"])
    )
    path = build_report(events).critical_path
    assert [s.address for s in path] == ["b", "c"]
    assert path[1].wait_s == 10.0


def test_wave_order_counts_as_a_dependency_on_the_critical_path() -> None:
    # no depends_on at all: wave 2 waited for the whole of wave 1
    events = _done("a", "00:00:00", "00:01:00", wave=1) + _done("b", "00:00:00", "00:03:00", wave=1)
    events += _done("c", "00:03:05", "00:04:00", wave=2)
    assert [s.address for s in build_report(events).critical_path] == ["b", "c"]


def test_a_killed_apply_leaves_a_report_without_run_finished() -> None:
    events = [
        _ev(
            "run_started",
            "00:00:00",
            run_id="r1",
            parallelism=2,
            summary={},
            plan_estimate_s=60.0,
            critical_path=[],
        )
    ]
    events += _done("a", "00:00:01", "00:01:00")
    events += [
        _ev(
            "restore_started",
            "00:01:01",
            address="b",
            wave=None,
            batch=2,
            estimate_s=10.0,
            depends_on=["a"],
        )
    ]
    events += [_ev("restore_skipped", "00:01:02", address="c", because=["b"])]
    r = build_report(events)
    assert not r.finished and r.interrupted and r.exit_code is None
    assert [(x.address, x.outcome) for x in r.restores] == [
        ("a", "succeeded"),
        ("b", "unknown"),
        ("c", "skipped"),
    ]
    assert r.finished_at == datetime(2026, 3, 1, 0, 1, 2, tzinfo=UTC)
    # a skip event without placement lands in the "no wave" group, not a made-up wave
    assert _by(r, "c").wave is None


def test_an_empty_log_is_an_empty_report() -> None:
    r = build_report([])
    assert (r.restores, r.waves, r.critical_path, r.makespan_s) == ([], [], [], None)


def _end(kind: str, address: str, ended: str, ts: str, **more: Any) -> dict[str, Any]:
    return {"ts": f"2026-03-01T{ts}.000Z", "kind": kind, "address": address,
            "started_at": "2026-03-01T02:00:00.000Z", "ended_at": f"2026-03-01T{ended}.000Z", **more}


def test_how_soon_ends_were_noticed() -> None:
    """The listing that showed an end (seen_at) less the task's end, on the cloud's clock;
    the event's time where a log has no seen_at, and for a task the cloud failed."""
    lines: list[object] = [
        {"ts": "2026-03-01T02:00:00.000Z", "kind": "run_started", "run_id": "r1"},
        # seen 10 s after its end; logged a minute later, after the power-on check
        _end("restore_succeeded", "a", "02:10:00", "02:11:10", seen_at="2026-03-01T02:10:10.000Z"),
        _end("restore_succeeded", "b", "02:20:00", "02:20:30"),  # an older log: no seen_at
        _end("restore_failed", "c", "02:05:00", "02:05:04", error_code="BackupService.2011"),
        # ours: the task ended well, the server did not come back; no end was late
        _end("restore_failed", "d", "02:01:00", "02:31:00", error_code="RP503"),
        # half a second before the end: the clocks' skew, read as at once
        _end("restore_succeeded", "e", "02:40:00", "02:40:01", seen_at="2026-03-01T02:39:59.500Z"),
        # a minute before: not one clock, no figure
        _end("restore_succeeded", "f", "02:50:00", "02:50:01", seen_at="2026-03-01T02:49:00.000Z"),
        # started by an apply that was killed; this one found it ended an hour before
        {"ts": "2026-03-01T03:00:00.000Z", "kind": "restore_started", "address": "g",
         "backup_id": "b-g", "adopted": True},
        _end("restore_succeeded", "g", "02:00:30", "03:00:01", seen_at="2026-03-01T03:00:00.000Z"),
        # the cloud says 02:55:04 (whole seconds: it ended within that second), seen at
        # 02:55:04.600: counted from the second's middle, 0.1 s, not 0.6 s
        _end("restore_succeeded", "h", "02:55:04", "02:55:05", seen_at="2026-03-01T02:55:04.600Z"),
    ]
    report = build_report(lines)
    noticed = {r.address: r.noticed_after_s for r in report.restores}
    assert noticed == {
        "a": 10.0, "b": 30.0, "c": 4.0, "d": None, "e": 0.0, "f": None, "g": None,
        "h": pytest.approx(0.1),
    }  # fmt: skip
    n = report.noticing
    assert n is not None and n.count == 5
    assert (n.p50_s, n.p95_s, n.max_s) == (4.0, 30.0, 30.0)
    # of each restore's own duration: b took 20 minutes, so 30 s is 2.5 %
    assert n.p95_share == 30.0 / 1200.0
    assert build_report(lines[:1]).noticing is None
    # f was seen a minute before its end: not counted, and the report says so
    assert [r.address for r in report.restores if r.clocks_disagree] == ["f"]
    assert noticing_line(report).endswith(
        "5 ends; 1 not counted: seen before the cloud's end time "
        "(the run log's clock and the cloud's disagree))"
    )
    assert noticing_line(build_report(lines[:1])) == "-"


def test_a_withdrawn_restore_was_not_sent_not_of_unknown_outcome() -> None:
    # started, then withdrawn (Ctrl-C while it waited to be sent again): the cloud never
    # accepted it, so nothing ran and the next plan proposes it again
    events = _done("a", "00:00:01", "00:01:00", wave=1)
    events += [
        _ev("restore_started", "00:00:01", address="b", wave=1, batch=1, estimate_s=10.0),
        _ev("restore_waiting", "00:00:02", address="b", reason="BackupService.2002"),
        _ev("restore_withdrawn", "00:00:30", address="b", reason="interrupted"),
    ]
    r = build_report(events)
    b = _by(r, "b")
    assert (b.outcome, b.start, b.end, b.skipped_because) == ("skipped", None, None, [])
    assert b.skipped_reason == (
        "withdrawn (interrupted): the cloud never accepted it; the next plan proposes it again"
    )
    assert b.skipped_at == _at("00:00:30") and b.wave == 1
    assert r.counts["unknown"] == 0 and r.counts["skipped"] == 1
    assert r.waves[0].outcomes == {"succeeded": 1, "failed": 0, "skipped": 1, "unknown": 0}
