"""Questions left open on cases that were closed or merged before a case's end withdrew them (stop 33): withdrawn now,
each noted on its case's timeline, so the citizen's page and the officers' queue stop asking."""

from django.db import migrations
from django.db.models import Q


def withdraw(apps, schema_editor):
    CitizenQuestion = apps.get_model("cases", "CitizenQuestion")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    ended = CitizenQuestion.objects.filter(Q(case__state="closed") | Q(case__merged_into__isnull=False), status="open")
    for question in ended.select_related("case"):
        why = "merged" if question.case.merged_into_id else "closed"
        data = {"question": question.pk, "why": why}
        CaseEvent.objects.create(case_id=question.case_id, kind="note", name="question_withdrawn", note=question.text, data=data)
    ended.update(status="withdrawn")


class Migration(migrations.Migration):
    dependencies = [("cases", "0031_import_replaced_totals")]

    operations = [migrations.RunPython(withdraw, migrations.RunPython.noop)]
