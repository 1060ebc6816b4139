"""Fixtures the CLI tests share with the layers they drive: a state record factory and
a state path in tmp_path (defined once, in tests/state/conftest.py)."""

from tests.state.conftest import make_record, state_path

__all__ = ["make_record", "state_path"]
