"""A database of the benchmark's own, so a benchmark never touches the data (or a test run) beside it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def throwaway_database(prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A new, migrated database ``<prefix>_<pid>`` for the ``with`` block; dropped afterwards, also
    when the benchmark fails, unless ``keep``. Yields its name."""
    original = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name = f"{prefix}_{os.getpid()}"
    print(f"creating the benchmark database {name} and migrating it ...", flush=True)
    connection.creation.create_test_db(verbosity=0, autoclobber=False, keepdb=False)
    try:
        yield name
    finally:
        if keep:
            print(f"kept the database {name}")
        else:
            connection.creation.destroy_test_db(original, verbosity=0)
