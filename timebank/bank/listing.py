"""Pages of what a caller may see: filtered inside the snapshot, never ending on a hidden record.

A listing reads the book in id order and keeps what the caller may see, until
the page is full or the book is read to its end. So a page is short only when
it is the last, and its last item (the caller's cursor for the next page) is
always one the caller saw: a hidden record's id never leaves the facade.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = ["SCAN_BATCH", "merged_pages", "visible_page"]

T = TypeVar("T")

SCAN_BATCH = 500
"""Records read per round trip while filling a page."""


def _scan(
    fetch: Callable[[str | None, int], list[T]], key: Callable[[T], str], after: str | None
) -> Iterator[T]:
    cursor = after
    while True:
        batch = fetch(cursor, SCAN_BATCH)
        yield from batch
        if len(batch) < SCAN_BATCH:
            return
        cursor = key(batch[-1])


def visible_page(
    fetch: Callable[[str | None, int], list[T]],
    key: Callable[[T], str],
    keep: Callable[[T], bool],
    after: str | None,
    limit: int,
) -> list[T]:
    """Up to ``limit`` items ``keep`` allows, in id order after ``after``."""
    return merged_pages([fetch], key, keep, after, limit)


def merged_pages(
    fetches: Iterable[Callable[[str | None, int], list[T]]],
    key: Callable[[T], str],
    keep: Callable[[T], bool],
    after: str | None,
    limit: int,
) -> list[T]:
    """Up to ``limit`` items ``keep`` allows from several id-ordered sources, merged in id
    order (an item found in two sources counts once)."""
    items: list[T] = []
    last: str | None = None
    for item in heapq.merge(*(_scan(fetch, key, after) for fetch in fetches), key=key):
        if key(item) == last or not keep(item):
            continue
        last = key(item)
        items.append(item)
        if len(items) == limit:
            break
    return items
