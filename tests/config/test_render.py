from __future__ import annotations

import json
from pathlib import Path

from planner.config.source import load_source
from planner.diagnostics import Related, SourceRange, error, warning
from planner.render.diagnostics import render_json, render_text


def test_text_is_compiler_style_sorted_with_caret_hint_and_note(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("version: 1\nrestores:\n  db:\n    backup: nope\n")
    name = str(f)
    load_source(name)  # snippets come from the text loaded, never from the disk
    diags = [
        warning("RP199", "later", range=SourceRange(name, 4, 5)),
        error("RP116", "bad time", "write 2026-11-20T00:00:00Z", SourceRange(name, 4, 13, 4, 17),
              [Related("block starts here", SourceRange(name, 3, 3))]),
        error("RP108", "no place"),
    ]
    assert render_text(diags) == (
        f"{name}:4:5: warning[RP199]: later\n"
        "      backup: nope\n"
        "      ^\n"
        "  hint: see RP199 in specs/diagnostics.md\n"
        f"{name}:4:13: error[RP116]: bad time\n"
        "      backup: nope\n"
        "              ^~~~\n"
        "  hint: write 2026-11-20T00:00:00Z\n"
        f"  note: block starts here at {name}:3:3\n"
        "error[RP108]: no place\n"
        "  hint: check the path: a plan file or a directory of *.yaml files\n"
        "2 errors, 1 warning\n"
    )


def test_colour_only_when_asked(tmp_path: Path) -> None:
    d = [error("RP100", "x", range=SourceRange(str(tmp_path / "missing.yaml"), 1, 1))]
    assert "\x1b[" not in render_text(d)
    coloured = render_text(d, color=True)
    assert "\x1b[1m\x1b[31merror[RP100]\x1b[0m" in coloured


def test_credential_lines_are_masked(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("cloud:\n  secret_key: hunter2-very-secret\n")
    load_source(str(f))
    out = render_text([error("RP117", "credentials", range=SourceRange(str(f), 2, 3))])
    assert "hunter2" not in out and "  secret_key: ***" in out


def test_json() -> None:
    d = [error("RP100", "x", range=SourceRange("a.yaml", 1, 2)), warning("RP199", "w")]
    doc = json.loads(render_json(d))
    assert (doc["errors"], doc["warnings"]) == (1, 1)
    assert doc["diagnostics"][0]["range"] == {"file": "a.yaml", "line": 1, "col": 2, "end_line": None, "end_col": None}
