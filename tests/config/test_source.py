from __future__ import annotations

import pytest

from planner.config.source import parse_text, resolve_plain


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"), ("NO", "NO"), ("yes", "yes"), ("true", True), ("FALSE", False),
        ("~", None), ("null", None), ("", None), ("0x1f", 31), ("0o17", 15), ("-12", -12),
        ("1.5", 1.5), ("1e3", 1000.0), ("30m", "30m"), ("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"),
        ("0xZZ", "0xZZ"), ("nope", "nope"),
    ],
)  # fmt: skip
def test_yaml_12_core_scalars(text: str, value: object) -> None:
    assert resolve_plain(text) == value


def test_quoted_scalars_stay_strings_and_positions_are_kept() -> None:
    doc, diags = parse_text('a:\n  b: "true"\n  c: [1, x]\n', "f.yaml")
    assert diags == [] and doc is not None
    assert doc.value == {"a": {"b": "true", "c": [1, "x"]}}
    assert str(doc.range(("a", "b"))) == "f.yaml:2:6"
    assert str(doc.key_range(("a", "b"))) == "f.yaml:2:3"
    assert str(doc.range(("a", "c", 1))) == "f.yaml:3:10"
    # unknown paths fall back to the nearest ancestor
    assert str(doc.range(("a", "c", 7))) == "f.yaml:3:6"


def test_duplicate_key_names_both_lines() -> None:
    _, diags = parse_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    (d,) = diags
    assert (d.code, str(d.range), d.detail) == ("RP102", "f.yaml:3:1", "'a' is already defined on line 1; remove one of them")
    assert [str(r.range) for r in d.related] == ["f.yaml:1:1"]


def test_empty_file_is_none() -> None:
    doc, diags = parse_text("# nothing\n", "f.yaml")
    assert diags == [] and doc is not None and doc.value is None


def test_glob_star_in_quotes_is_not_an_alias() -> None:
    doc, diags = parse_text('name: "web-*"\nnote: "R&D!"\n', "f.yaml")
    assert diags == [] and doc is not None and doc.value == {"name": "web-*", "note": "R&D!"}
