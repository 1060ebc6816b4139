"""planner.addresses: parsing is cached by text, bounded, and errors are never cached."""

from __future__ import annotations

import pytest

from planner import addresses
from planner.addresses import Address, AddressError


def test_an_address_text_is_parsed_once_and_reads_the_same() -> None:
    a = Address.parse('app["app-01"]')
    assert Address.parse('app["app-01"]') is a  # the cache: same immutable object
    assert a == Address("app", "app-01") and str(a) == 'app["app-01"]' and hash(a) == hash(Address("app", "app-01"))
    assert Address.parse(" db ") == Address("db")


def test_a_bad_text_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(AddressError, match="not a restore address"):
            Address.parse("no spaces allowed")


def test_long_texts_are_parsed_but_not_kept() -> None:
    """A plan file can hold a key of any length: the cache holds only short texts."""
    key = "k" * (addresses._CACHED_MAX + 10)
    before = addresses._parse.cache_info().currsize
    a = Address.parse(f'app["{key}"]')
    assert a.key == key and Address.parse(f'app["{key}"]') is not a
    assert addresses._parse.cache_info().currsize == before
