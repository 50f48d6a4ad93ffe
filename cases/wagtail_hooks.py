"""Wagtail admin registration of cases. Each part of the workspace registers its hooks in its own
module under ``cases.admin_views``; they are imported here so Wagtail discovers them."""

from cases.admin_views import mailroom, reports, triage, workspace  # noqa: F401
from cases.views import charter_figures  # noqa: F401
