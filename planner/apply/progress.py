"""Progress of an apply, shown three ways from the same run-log events.

``JsonSink`` one event per line (``--format json``); ``PlainSink`` one line per
state change (not a TTY: CI logs); ``RichSink`` live bars on a terminal: the
whole run, per-wave counts, and each restore in flight with its percentage.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class JsonSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: dict[str, Any]) -> None:
        self.line(json.dumps(event, ensure_ascii=False, default=str))

    def line(self, text: str) -> None:
        """An event already serialized (the run log's line: one encoding per event)."""
        self.stream.write(text + "\n")
        self.stream.flush()


class PlainSink:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = total
        self.finished = 0

    def __call__(self, e: dict[str, Any]) -> None:
        kind = e["kind"]
        ts = e["ts"][11:19]
        addr = e.get("address", "")
        line = None
        if kind == "restore_started":
            t = e["target"]
            verb = "adopting earlier task of" if e.get("adopted") else "restoring"
            line = f"{addr}: {verb} {t['kind']} {t['name'] or t['id']} from backup {e['backup_id']}"
        elif kind == "restore_waiting":
            line = f"{addr}: waiting {e['retry_in_s']:.0f}s, the cloud said {e['reason']}"
        elif kind == "restore_accepted":
            line = f"{addr}: accepted, task {e['task_id']}"
        elif kind in ("restore_succeeded", "restore_failed", "restore_skipped"):
            self.finished += 1
            done = f"[{self.finished}/{self.total}]"
            if kind == "restore_succeeded":
                line = f"{addr}: succeeded {done}"
            elif kind == "restore_failed":
                line = f"{addr}: FAILED {e['error_code']}: {e['error_message']} {done}"
            else:
                line = f"{addr}: skipped, dependency {', '.join(e['because'])} failed {done}"
        if line:
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

    def __call__(self, e: dict[str, Any]) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        kind = e["kind"]
        addr = e.get("address", "")
        if kind == "restore_started":
            self.wave_of[addr] = f"wave {e['wave']}" if e.get("wave") else f"batch {e.get('batch') or '-'}"
            self.tasks[addr] = self.progress.add_task(f"  {addr}", total=100)
        elif kind == "restore_progress":
            self.live(addr, e["progress"])
        elif kind in ("restore_succeeded", "restore_failed", "restore_skipped"):
            task = self.tasks.pop(addr, None)
            if task is not None:
                self.progress.remove_task(task)
            outcome = kind.removeprefix("restore_")
            self.waves[f"{self.wave_of.get(addr, 'skipped')} {outcome}"] += 1
            self.progress.advance(self.overall)
            if kind == "restore_failed":
                self.console.print(f"[red]{addr}: failed {e['error_code']}: {e['error_message']}[/red]")
            summary = ", ".join(f"{k}: {v}" for k, v in sorted(self.waves.items()))
            self.progress.update(self.overall, description=f"all restores ({summary})")
        elif kind == "run_finished":
            self.progress.stop()
