"""A method written with `@overload` stubs is targeted by its name: the name means the implementation."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.actions.base import ActionInputError, document_symbols, target_symbol
from swarm_lsp.swarm.types import DocumentSnapshot

SOURCE = '''import typing
from typing import overload


class Box:
    @overload
    def get(self, key: str) -> str: ...
    @typing.overload
    def get(self, key: str, default: int) -> int: ...
    def get(self, key, default=None):
        return default


def twice(x):
    return x


def twice(x):  # redefined without overloads: still ambiguous
    return 2 * x
'''


def resolve(target: str):
    document = DocumentSnapshot("box.py", SOURCE, 1)
    _, symbols = document_symbols(document)
    return target_symbol(document, symbols, target)


def test_an_overloaded_method_by_name_is_its_implementation():
    symbol = resolve("Box.get")
    assert symbol.span.start_line + 1 == 10 and symbol.params == ("key", "default")
    assert resolve("get").span.start_line + 1 == 10


def test_a_line_still_picks_the_stub_and_a_plain_redefinition_stays_ambiguous():
    assert resolve("7").span.start_line + 1 == 6  # the first stub (decorator on line 6): the user asked for it
    with pytest.raises(ActionInputError, match="defined 2 times"):
        resolve("twice")
