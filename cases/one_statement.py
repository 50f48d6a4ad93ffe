"""New rows, and the audit entries django-auditlog keeps for them, written in one SQL statement.

For a request that someone outside waits on, where every round trip counts: a mail provider's webhook
stores the message it posts with the post's one-time token (``cases.intake.email.inbound_store_at_once``).
Django's ORM writes one statement per row, each with its Python around it, and auditlog writes its
entry after the row's ``post_save``: a new message took a transaction of five statements. On PostgreSQL
the rows go in data-modifying CTEs of one ``INSERT``: all of them or, when a unique key refuses one,
none (an ``IntegrityError``), without a transaction around them. Each row's SQL is the one Django
compiles for its model, so its columns and their conversions are the ORM's own.

The audit entry of a row whose model auditlog registers (``cases.records.audit``) is the one auditlog
writes on its creation, built with auditlog's own parts: its diff with the masks registered there, its
correlation id, the request's actor and address. auditlog has no call that returns an entry unsaved, so
``creation_entry`` fills it the way ``LogEntryManager.log_create`` does (what auditlog would have saved
is compared in ``tests/test_webhook_one_statement.py``).
"""

from __future__ import annotations

from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model
from django.db.models.signals import pre_save
from django.db.models.sql import InsertQuery
from django.utils.encoding import smart_str


def insert_at_once(*instances: Model) -> None:
    """INSERT ``instances`` (unsaved, in this order) and their audit entries in one statement, PostgreSQL only.

    Audited instances without a primary key get one drawn first (the entry names the row), in one
    round trip for all; others take theirs from the database. Raises ``IntegrityError`` and stores
    nothing when a unique key refuses any of them (a drawn id is then left unused, as a rolled-back
    insert leaves one). Inside a transaction the refusal breaks it: give it a savepoint."""
    audited = [instance for instance in instances if auditlog.contains(type(instance))]
    _draw_ids([instance for instance in audited if instance.pk is None])
    rows = [*instances, *filter(None, (creation_entry(instance) for instance in audited))]
    parts = [_insert_sql(row) for row in rows]
    *before, (last_sql, last_params) = parts
    statement = "".join(f"{'WITH' if n == 0 else ','} row{n} AS ({sql} RETURNING 1) " for n, (sql, _params) in enumerate(before)) + last_sql
    params = [value for _sql, values in parts for value in values]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    for instance in instances:
        if instance.pk is not None:  # saved and known; one whose id the database drew stays unsaved to Django
            instance._state.adding, instance._state.db = False, connection.alias


def creation_entry(instance: Model) -> LogEntry | None:
    """The entry auditlog writes when ``instance`` (with its primary key) is created, unsaved; None while
    auditlog is disabled, as auditlog then writes none."""
    if auditlog_disabled.get():
        return None
    entry = LogEntry(
        content_type=ContentType.objects.get_for_model(instance),
        object_pk=smart_str(instance.pk),
        object_id=instance.pk if isinstance(instance.pk, int) else None,
        object_repr=smart_str(instance),
        action=LogEntry.Action.CREATE,
        changes=model_instance_diff(None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES),
        cid=get_cid(),
    )
    # The request's actor and address: auditlog's middleware sets them on an entry in a ``pre_save``
    # receiver (``auditlog.context.set_actor``), the signal a save of this entry would have sent.
    pre_save.send(sender=LogEntry, instance=entry, raw=False, using=connection.alias, update_fields=None)
    return entry


def _draw_ids(instances: list[Model]) -> None:
    if not instances:
        return
    draws = ", ".join("nextval(pg_get_serial_sequence(%s, %s))" for _instance in instances)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {draws}", [value for instance in instances for value in (instance._meta.db_table, instance._meta.pk.column)])
        for instance, pk in zip(instances, cursor.fetchone(), strict=True):
            instance.pk = pk


def _insert_sql(instance: Model) -> tuple[str, list]:
    """The ``INSERT`` Django compiles to save ``instance``, and its values as the compiler prepares them
    (each field's ``pre_save`` and ``get_db_prep_save``). The SQL of a model is compiled once per
    process, for plain values: compiling it is the larger part of this function's time. A value that is
    an expression goes into the SQL itself, so that row is compiled on its own, as a save would."""
    fields = [field for field in instance._meta.local_concrete_fields if not (field.primary_key and instance.pk is None)]
    values = [field.pre_save(instance, True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        return _compile(fields, instance)
    prepared = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]
    return _compiled(fields, instance), prepared


_COMPILED: dict[tuple[type[Model], tuple[str, ...], str], str] = {}


def _compiled(fields: list, instance: Model) -> str:
    """The SQL that inserts ``fields`` of ``instance``'s model, for plain values (no expression among them)."""
    key = (type(instance), tuple(field.attname for field in fields), connection.alias)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(fields, instance)[0]
    return _COMPILED[key]


def _compile(fields: list, instance: Model) -> tuple[str, list]:
    query = InsertQuery(type(instance))
    query.insert_values(fields, [instance])
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)
