"""Typed restore addresses: ``db``, ``app["app-01"]``.

An address names one restore instance. A block without ``for_each``/``select``
has a single instance whose key is None. Addresses are the keys of the graph,
the plan and the state; they are never handled as ad-hoc strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache, total_ordering

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
NAME_RE = re.compile(rf"^{_NAME}$")
_CACHED_MAX = 256  # longer texts (a plan file can hold anything) are parsed each time
_ADDR_RE = re.compile(rf'^(?P<name>{_NAME})(?:\[(?P<key>"(?:[^"\\]|\\.)*")\])?$')


class AddressError(ValueError):
    pass


@total_ordering
@dataclass(frozen=True, eq=False)
class Address:
    block: str
    key: str | None = None
    # an apply formats and hashes addresses millions of times: both are computed once
    _text: str = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = (
            self.block
            if self.key is None
            else f"{self.block}[{json.dumps(self.key, ensure_ascii=False)}]"
        )
        object.__setattr__(self, "_text", text)
        object.__setattr__(self, "_hash", hash((self.block, self.key)))

    @classmethod
    def parse(cls, text: str) -> Address:
        # an apply parses the same few thousand addresses many times (plan, state,
        # journal, graph): an address is immutable, so each text is parsed once
        if cls is Address and len(text) <= _CACHED_MAX:
            return _parse(text)
        return cls._parse_text(text)

    @classmethod
    def _parse_text(cls, text: str) -> Address:
        m = _ADDR_RE.match(text.strip())
        if not m:
            raise AddressError(
                f'{text!r} is not a restore address; expected NAME or NAME["KEY"], '
                'for example db or app["app-01"]'
            )
        key = m.group("key")
        return cls(m.group("name"), json.loads(key) if key is not None else None)

    def contains(self, other: Address) -> bool:
        """A block address contains all its instances; an instance only itself."""
        if self.key is None:
            return other.block == self.block
        return other == self

    def __str__(self) -> str:
        return self._text

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Address):
            return NotImplemented
        return self._hash == other._hash and self.block == other.block and self.key == other.key

    def _sort_key(self) -> tuple[str, int, str]:
        return (self.block, 0 if self.key is None else 1, self.key or "")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Address):
            return NotImplemented
        return self._sort_key() < other._sort_key()


@lru_cache(maxsize=1 << 16)
def _parse(text: str) -> Address:
    return Address._parse_text(text)
