"""Measuring the charter's norms: did the municipality keep its promises?

| module | holds |
| --- | --- |
| ``importing`` | reading and checking a measurement file (CSV: observations or totals per period); refused whole with line numbers |
| ``storing`` | storing checked rows all or nothing and idempotently (COPY on PostgreSQL) |
| ``targets`` | a norm's target per period, from its published revisions; the norm's own periods; terms on the working-day calendar |
| ``from_cases`` | the norms Handvest measures itself from the cases: acknowledgement and answer within their terms |
| ``attainment`` | selectors: observations, share within and met or not per norm and period; ``latest_attainment`` for the dashboard |
| ``charts`` | the attainment chart (SVG with a text alternative) |
| ``charter_report`` | the charter report "Hoe hielden wij ons aan onze beloften?" as data, JSON, CSV and PDF |

Commands: ``manage.py import_measurements`` and ``manage.py charter_report``; the officer's upload
is ``cases.workspace.measurements``; the public page is ``cms.CharterReportPage``, filled by
``cases.public.charter_report``.
"""
