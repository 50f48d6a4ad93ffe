"""Requests or calls at the same moment, the way two officers or a double click make them (PostgreSQL tests)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def at_once(function, count: int) -> list:
    """Run ``function(i)`` in ``count`` threads released together, each with its own connection; the results in order."""
    barrier = threading.Barrier(count)

    def run(number):
        try:
            barrier.wait()
            return function(number)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
