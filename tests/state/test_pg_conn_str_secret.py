"""A PG_CONN_STR the driver cannot read never has its password printed: the driver's
words about such a string quote pieces of it (a raw % in a URI, a space in key=value),
and a CI log masks only the whole secret. No server is needed: reading fails first."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main

pytest.importorskip("psycopg")


@pytest.mark.parametrize(
    ("conn", "secret"),
    [
        ("postgresql://rp:Hunter2%Secret@127.0.0.1:1/postgres", "Hunter2"),
        ("host=127.0.0.1 port=1 user=rp password=Hunter2 Secret", "Secret"),
        ("host=127.0.0.1 port=1 user=rp password='Hunter2", "Hunter2"),
    ],
)
def test_an_unreadable_connection_string_is_named_not_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], conn: str, secret: str
) -> None:
    env = {"PG_CONN_STR": conn}
    rc = main(["state", "list", str(tmp_path), "--backend", "postgres", "--workspace", "x"], env=env)
    err = capsys.readouterr().err
    assert rc == 1
    assert secret not in err and "Hunter2" not in err, err
    assert "PG_CONN_STR is not a connection string the driver can read" in err, err
