"""Wagtail admin registration of cases. Each part of the workspace registers its hooks in its own
module under ``cases.admin_views``; they are imported here so Wagtail discovers them."""
