"""Progress of an apply, shown three ways from the same run-log events.

``JsonSink`` one event per line (``--format json``); ``PlainSink`` one line per
state change (not a TTY: CI logs); ``RichSink`` live bars on a terminal: the
whole run, per-wave counts, and each restore in flight with its percentage.
Each line of ``--format json`` is one event as the run log holds it
(``planner.apply.events``, ``specs/run-log.schema.json``).
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from planner.apply import events as ev
from planner.timefmt import rfc3339_ms

_OUTCOMES = (ev.RestoreSucceeded, ev.RestoreFailed, ev.RestoreSkipped)


class JsonSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: ev.Event) -> None:
        self.line(ev.encode(event))

    def line(self, text: str) -> None:
        """An event already serialized (the run log's line: one encoding per event)."""
        self.stream.write(text + "\n")
        self.stream.flush()


class PlainSink:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = total
        self.finished = 0

    def __call__(self, e: ev.Event) -> None:
        line = None
        if isinstance(e, ev.RestoreStarted):
            t = e.target
            verb = "adopting earlier task of" if e.adopted else "restoring"
            line = f"{e.address}: {verb} {t.kind} {t.name or t.id} from backup {e.backup_id}"
        elif isinstance(e, ev.RestoreWaiting):
            line = f"{e.address}: waiting {e.retry_in_s:.0f}s, the cloud said {e.reason}"
        elif isinstance(e, ev.RestoreAccepted):
            line = f"{e.address}: accepted, task {e.task_id}"
        elif isinstance(e, _OUTCOMES):
            self.finished += 1
            done = f"[{self.finished}/{self.total}]"
            if isinstance(e, ev.RestoreSucceeded):
                line = f"{e.address}: succeeded {done}"
            elif isinstance(e, ev.RestoreFailed):
                line = f"{e.address}: FAILED {e.error_code}: {e.error_message} {done}"
            elif e.because:
                line = f"{e.address}: skipped, dependency {', '.join(e.because)} failed {done}"
            else:
                line = f"{e.address}: {e.reason or 'skipped'} {done}"
        if line:
            ts = rfc3339_ms(e.ts)[11:19] if e.ts else "--:--:--"
            self.stream.write(f"{ts} {line}\n")
            self.stream.flush()


class RichSink:
    def __init__(self, total: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=False)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.overall = self.progress.add_task("all restores", total=max(total, 1))
        self.tasks: dict[str, TaskID] = {}
        self.waves: Counter[str] = Counter()
        self.wave_of: dict[str, str] = {}
        self.started = False

    def live(self, address: str, progress: int) -> None:
        """A restore's percentage from a poll (more often than the run log records it)."""
        task = self.tasks.get(address)
        if task is not None:
            self.progress.update(task, completed=progress)

    def __call__(self, e: ev.Event) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        if isinstance(e, ev.RestoreStarted):
            self.wave_of[e.address] = f"wave {e.wave}" if e.wave else f"batch {e.batch or '-'}"
            self.tasks[e.address] = self.progress.add_task(f"  {e.address}", total=100)
        elif isinstance(e, ev.RestoreProgress):
            self.live(e.address, e.progress)
        elif isinstance(e, _OUTCOMES):
            task = self.tasks.pop(e.address, None)
            if task is not None:
                self.progress.remove_task(task)
            outcome = e.kind.removeprefix("restore_")
            self.waves[f"{self.wave_of.get(e.address, 'skipped')} {outcome}"] += 1
            self.progress.advance(self.overall)
            if isinstance(e, ev.RestoreFailed):
                self.console.print(
                    f"[red]{e.address}: failed {e.error_code}: {e.error_message}[/red]"
                )
            summary = ", ".join(f"{k}: {v}" for k, v in sorted(self.waves.items()))
            self.progress.update(self.overall, description=f"all restores ({summary})")
        elif isinstance(e, ev.RunFinished):
            self.progress.stop()
