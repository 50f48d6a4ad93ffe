"""Figures without personal data: aggregates per norm and period, the municipality's own
compliance with its terms, the annual complaints report and its charts, and the derived
tables (``rollup``) that keep them fast."""
