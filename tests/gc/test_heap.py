"""The offline commands' cyclic-collector pace (``pyregistry.commands.heap``)."""

from __future__ import annotations

import gc

import pytest

from pyregistry.commands.heap import BULK_THRESHOLD, bulk_allocation


def test_pace_is_slower_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with bulk_allocation():
        assert gc.get_threshold() == (BULK_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_pace_is_restored_when_the_block_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_allocation():
        raise RuntimeError("storage trouble")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_freed() -> None:
    class Node:
        other: Node | None = None

    with bulk_allocation():
        first, second = Node(), Node()
        first.other, second.other = second, first
        del first, second
        assert gc.collect() >= 2
