"""`heap.settle()` frees the garbage there is and takes the survivors out of later collections."""

from __future__ import annotations

import gc
import weakref

import pytest

from swarm_lsp.swarm import heap


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()  # other tests' objects go back to the collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_settle_collects_cycles_then_freezes_what_lives(unfrozen):
    garbage, kept = Node(), Node()
    garbage.other, kept.other = garbage, kept  # two self-cycles: one unreachable after `del`
    gone = weakref.ref(garbage)
    del garbage
    before = gc.get_freeze_count()
    heap.settle()
    assert gone() is None  # collected, not frozen
    assert gc.get_freeze_count() > before
    assert all(kept is not obj for obj in gc.get_objects())  # frozen objects are not walked any more
