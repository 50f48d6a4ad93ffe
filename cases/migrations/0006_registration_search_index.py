"""A Dutch full-text index on the subject, text and sender of registrations, for the officers' search (PostgreSQL only).

The inbox finds words in the text of 100,000 cases through this index instead of scanning every
text (``cases.workspace.inbox.case_list``). The expression must stay identical to
``FULLTEXT_SQL`` there, or PostgreSQL will not use the index. SQLite has no such index; there the
search scans (fine for the embedded default). No model changes: the index lives in SQL only.
"""

from django.db import migrations

INDEX = "cases_registration_fulltext_nl"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases_registration "
    "USING gin (to_tsvector('dutch', "
    "coalesce(subject, '') || ' ' || coalesce(text, '') || ' ' || coalesce(sender_name, '') || ' ' || coalesce(sender_email, '')))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_deadline_digest")]
    operations = [migrations.RunPython(create, drop)]
