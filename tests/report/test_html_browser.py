"""The HTML report in a real browser (headless Chromium): the SVG is in the DOM and it paints.

Skipped when no chromium is on PATH (``make test`` installs Debian's chromium).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from planner.report import render_html
from planner.report.model import RunReport

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium (or chromium-browser) is not on PATH"
)
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, *_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def page(report: RunReport, tmp_path: Path) -> Path:
    path = tmp_path / "drill.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def test_dom_has_the_svg_with_a_bar_per_restore(page: Path, tmp_path: Path) -> None:
    proc = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert re.search(r'<svg[^>]*class="gantt"', dom)
    assert len(re.findall(r'<rect class="bar (succeeded|failed|skipped|unknown)', dom)) == 12
    assert "cache-&lt;1&gt;&amp;" in dom


def test_screenshot_paints(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
