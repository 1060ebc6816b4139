"""Plan files from a pull request that try to read, crash or mislead `validate`.

Each asserts on what the CLI prints. Before the fixes: a link in a plan directory to
/proc/self/environ printed the environment (credentials) as a snippet; a huge hex
integer was a crash log; a control character was reported at 1:1 with libyaml's
`in "<unicode string>", position N`; an unclosed `[` was placed at the end of the
file with no snippet; RP108 for a missing --var-file had no hint.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.config.source import read_regular, resolve_plain

PLAN = "version: 1\nrestores:\n  db:\n    server: s1\n    backup: b1\n"
linux = pytest.mark.skipif(sys.platform != "linux", reason="/proc as on Linux")


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["validate", *args, "--no-color"])
    got = capsys.readouterr()
    text = got.out + got.err
    assert "Traceback" not in text and "This is a bug" not in text, text[-3000:]
    return rc, text


@linux
def test_link_to_environ_in_a_plan_directory_is_refused_and_leaks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_SECRET_KEY", "TOPSECRET123")
    plans = tmp_path / "p4"
    plans.mkdir()
    (plans / "plan.yaml").write_text(PLAN)
    os.symlink("/proc/self/environ", plans / "zz.yaml")
    rc, text = validate(capsys, str(plans))
    assert rc == 1
    assert "TOPSECRET" not in text and "HW_SECRET_KEY" not in text and "\0" not in text
    assert (
        f"{plans}/zz.yaml:1:1: error[RP108]: cannot read {plans}/zz.yaml: "
        "it is a symbolic link to a file outside the plan directory\n"
        "  hint: plan files must be in the plan directory" in text
    )


def test_link_outside_the_directory_to_a_real_file_is_refused_inside_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "elsewhere.yaml").write_text(PLAN)
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "a.yaml").write_text(PLAN.replace("db:", "web:").replace("s1", "s2"))
    (plans / "real").mkdir()
    (plans / "real" / "x.txt").write_text(PLAN)
    os.symlink("../elsewhere.yaml", plans / "b.yaml")
    os.symlink("real/x.txt", plans / "c.yaml")  # inside: part of the plan
    rc, text = validate(capsys, str(plans))
    assert rc == 1
    assert f"{plans}/b.yaml:1:1: error[RP108]: " in text
    assert "c.yaml" not in text  # read, and its `db` merges with a.yaml's `web`
    # named on the command line, a link is the operator's choice
    os.symlink(tmp_path / "elsewhere.yaml", tmp_path / "named.yaml")
    rc, text = validate(capsys, str(tmp_path / "named.yaml"))
    assert rc == 0, text


@linux
def test_pseudo_files_are_refused_even_when_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HW_SECRET_KEY", "TOPSECRET123")
    os.symlink("/proc/self/environ", tmp_path / "env.yaml")
    for args in (["env.yaml"], ["p.yaml", "--var-file", "env.yaml"]):
        (tmp_path / "p.yaml").write_text(PLAN)
        monkeypatch.chdir(tmp_path)
        rc, text = validate(capsys, *args)
        assert rc == 1
        assert "TOPSECRET" not in text
        assert "error[RP108]: cannot read env.yaml: it is a kernel pseudo-file, not a regular file" in text


@linux
def test_a_zero_size_file_that_reads_bytes_is_a_pseudo_file() -> None:
    # the rule that holds whatever the path: fstat says 0 bytes, read gives some
    raw, diag = read_regular("/proc/self/status", "status.yaml", 1 << 20)
    assert raw is None and diag is not None and "pseudo-file" in diag.summary
    raw, diag = read_regular("/proc/self/fd/../status", "s.yaml", 1 << 20)
    assert raw is None and diag is not None


def test_an_empty_regular_file_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "e.yaml").write_text("")
    assert read_regular(str(tmp_path / "e.yaml"), "e.yaml", 10) == (b"", None)


@pytest.mark.parametrize("number", ["0x" + "f" * 5000, "0o" + "7" * 6000, "1" * 5000])
def test_huge_integers_of_any_base_are_number_too_large(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    f = tmp_path / "hexw3.yaml"
    f.write_text(f"version: 1\nrestores:\n  a: {{server: s, backup: x, for_each: [{number}]}}\n")
    rc, text = validate(capsys, str(f))
    assert rc == 1
    assert f"{f}:3:40: error[RP111]: number too large ({len(number)} digits)" in text
    assert "  hint: quote it to make it a string" in text


def test_huge_integer_as_a_key_is_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "k.yaml"
    # an implicit key is at most 1024 characters: these are explicit (`? key`)
    f.write_text(f"version: 1\nvars:\n  ? 0x{'f' * 5000}\n  : 1\n  ? {'9' * 5000}\n  : 2\n" + PLAN.split("\n", 1)[1])
    rc, text = validate(capsys, str(f))
    assert rc == 1
    assert f"{f}:3:5: error[RP106]: mapping keys must be strings" in text
    assert f"{f}:5:5: error[RP106]: mapping keys must be strings" in text


def test_hex_and_octal_follow_yaml_1_2() -> None:
    assert resolve_plain("0x1F") == 31 and resolve_plain("0o17") == 15
    # int(..., 16) takes these; YAML 1.2 does not: they stay strings
    assert [resolve_plain(s) for s in ("0x_f", "0x-f", "0x+f", "0o_7", "0o8")] == ["0x_f", "0x-f", "0x+f", "0o_7", "0o8"]
    assert resolve_plain("0x" + "f" * 3000) == 16**3000 - 1  # 12,000 bits still print
    with pytest.raises(ValueError):
        resolve_plain("0x" + "f" * 3600)


def test_control_character_is_placed_where_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ctrl.yaml"
    f.write_text("version: 1\nvars:\n  é: é\x1b[31m\n")
    rc, text = validate(capsys, str(f))
    assert rc == 1
    assert text.startswith(
        f"{f}:3:7: error[RP100]: invalid YAML: unacceptable character #x001b: control characters are not allowed\n"
        "    é: é\\x1b[31m\n"
        "        ^~~~\n"
        "  hint: remove it"
    ), text
    assert "\x1b" not in text and "<unicode string>" not in text and "position" not in text


def test_nul_is_placed_and_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "nul.yaml"
    f.write_bytes(b"version: 1\nvars:\n  x: a\0b\n")
    rc, text = validate(capsys, str(f))
    assert rc == 1
    assert f"{f}:3:7: error[RP100]: invalid YAML: unacceptable character #x0000" in text
    assert "    x: a\\x00b\n" in text and "\0" not in text


def test_unclosed_bracket_points_at_the_opener(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "e.yaml"
    f.write_text("not: [valid\n")
    rc, text = validate(capsys, str(f))
    assert rc == 1
    assert text.startswith(
        f"{f}:1:6: error[RP100]: invalid YAML: did not find expected ',' or ']'\n"
        "  not: [valid\n"
        "       ^\n"
        "  hint: the flow sequence that starts here is not closed before the file ends"
    ), text
    assert f"  note: the file ends here at {f}:2:1\n" in text


def test_unclosed_quote_points_at_the_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "q.yaml"
    f.write_text('version: 1\nvars:\n  x: "abc\n')
    rc, text = validate(capsys, str(f))
    assert rc == 1
    assert text.startswith(f"{f}:3:6: error[RP100]: invalid YAML: found unexpected end of stream\n"), text
    assert "  hint: the quoted scalar that starts here is not closed" in text


def test_missing_var_file_has_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(PLAN)
    rc, text = validate(capsys, str(tmp_path / "p.yaml"), "--var-file", str(tmp_path / "nofile.yaml"))
    assert rc == 1
    assert (
        f"error[RP108]: cannot read {tmp_path}/nofile.yaml: No such file or directory\n"
        "  hint: check the path, and that the file exists and is readable\n" in text
    )
