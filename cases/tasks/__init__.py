"""Celery tasks of cases. Tasks are thin: they take ids, fetch, and call a service.

Each subdomain keeps its tasks in its own module, imported here so Celery finds them.
"""

from cases.tasks.aggregates import *  # noqa: F403
from cases.tasks.correspondence import *  # noqa: F403
from cases.tasks.deadlines import *  # noqa: F403
from cases.tasks.tagging import *  # noqa: F403
