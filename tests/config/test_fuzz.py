"""Arbitrary and mutated input through the whole validate path: exit 0 or 1, never a crash."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli.main import main

GOOD = (Path(__file__).resolve().parent.parent / "fixtures" / "good" / "plan.yaml").read_text()
_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def _run(data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    fd, path = tempfile.mkstemp(suffix=".yaml")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        rc = main(["validate", path, "--no-color"])
        err = capsys.readouterr().err
        assert rc in (0, 1)
        assert "This is a bug" not in err, err
    finally:
        os.unlink(path)


@_SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes(capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    _run(data, capsys)


@_SETTINGS
@given(st.lists(st.sampled_from([*"abc:-[]{}\"'\n\t &*!|>#%@`,?019", "{{", "}}", "{%", "version: 1\n", "restores:\n"]), max_size=120))
def test_yamlish_text(capsys: pytest.CaptureFixture[str], tokens: list[str]) -> None:
    _run("".join(tokens).encode(), capsys)


@_SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(GOOD)), st.integers(0, 8), st.sampled_from(["", " ", "\n", ":", "-", "{{", "x", "[", "'", "  ", "0"])),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_valid_plan(capsys: pytest.CaptureFixture[str], edits: list[tuple[int, int, str]]) -> None:
    text = GOOD
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut :]
    _run(text.encode(), capsys)
