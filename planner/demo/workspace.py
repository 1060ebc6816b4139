"""The demo's directory: refuse to clobber a stranger's, reset our own, write the files.

A marker file says "the demo made this"; without it a non-empty directory is
never touched. With it, the demo removes only the entries it writes, so state
from an earlier run cannot turn the new drill into "nothing to do".
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from planner.errors import UserError

MARKER = ".restore-planner-demo"
PLANS_DIR = "plans"
PLAN_FILE = "plans/drill.yaml"
INVENTORY_FILE = "inventory.yaml"
SCHEMA_FILE = "plan.schema.json"
SAVED_PLAN = "drill.plan"
STATE_DIR = ".restore-planner"
STATE_FILE = ".restore-planner/state.json"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
_OURS = (PLANS_DIR, INVENTORY_FILE, SCHEMA_FILE, SAVED_PLAN, STATE_DIR, REPORT_HTML, REPORT_MD)


class DemoDirError(UserError):
    pass


@dataclass(frozen=True)
class Workspace:
    root: Path
    reused: bool  # an earlier demo's directory, reset

    def path(self, name: str) -> Path:
        return self.root / name


def prepare(root: Path) -> Workspace:
    """Create ``root`` (or reset an earlier demo's) and return it; raise if it is not ours."""
    if root.exists() and not root.is_dir():
        raise DemoDirError(
            f"{root} exists and is not a directory", "pass --dir with a new directory name"
        )
    reused = (root / MARKER).is_file()
    if root.is_dir() and not reused and any(root.iterdir()):
        raise DemoDirError(
            f"{root} is not empty and was not made by the demo; refusing to write into it",
            "pass --dir with a new or empty directory, e.g. --dir demo-out",
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
        for name in _OURS if reused else ():
            _remove(root / name)
        (root / MARKER).write_text(
            "Made by `restore-planner demo`; the demo may reset this directory.\n", encoding="utf-8"
        )
        (root / PLANS_DIR).mkdir()
    except OSError as exc:
        raise DemoDirError(f"cannot prepare {root}: {exc.strerror or exc}") from None
    return Workspace(root, reused)


def write(ws: Workspace, name: str, text: str) -> Path:
    path = ws.path(name)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DemoDirError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
