"""Values that every request reads from the database but that change a few times a year (the
municipality's settings, the charter's norms for the web form's list), kept a minute per process.

The code that changes such a value forgets it in its own process at once (a ``post_save`` receiver
calls ``forget``); another process reads it again within the minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

KEPT_SECONDS = 60
_kept: dict[Hashable, tuple[float, object]] = {}

T = TypeVar("T")


def kept(key: Hashable, load: Callable[[], T], *, fresh: bool = False) -> T:
    """``load()``'s value under ``key``, read again when older than a minute or when ``fresh``."""
    now = time.monotonic()
    entry = _kept.get(key)
    if not fresh and entry is not None and now - entry[0] < KEPT_SECONDS:
        return entry[1]  # type: ignore[return-value]
    value = load()
    _kept[key] = (now, value)
    return value


def last_known(key: Hashable) -> object | None:
    """The value last kept under ``key``, however old, without loading it (``None`` when never kept):
    for a page that must not touch the database, such as the server error page."""
    entry = _kept.get(key)
    return entry[1] if entry is not None else None


def forget(key: Hashable | None = None) -> None:
    """Read ``key`` again next time (every kept value without a key: the tests, between two tests)."""
    if key is None:
        _kept.clear()
    else:
        _kept.pop(key, None)
