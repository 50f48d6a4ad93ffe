"""Why a letter is to be printed again gets a field of its own (stop 36): in ``last_error`` the outbox overwrote
it when it made the PDF again, so the mailroom never saw it. A letter remade after printing whose PDF is not made
yet still holds the note in ``last_error``: it moves over."""

from django.db import migrations, models

REPRINT_END = "print deze brief opnieuw en gooi de eerdere print weg."


def move_reprint_notes(apps, schema_editor):
    OutgoingMessage = apps.get_model("cases", "OutgoingMessage")
    for message in OutgoingMessage.objects.filter(status="queued", last_error__endswith=REPRINT_END):
        message.reprint_reason, message.last_error = message.last_error[:200], ""
        message.save(update_fields=["reprint_reason", "last_error"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0033_web_submission")]

    operations = [
        migrations.AddField(
            model_name="outgoingmessage",
            name="reprint_reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="opnieuw printen"),
        ),
        migrations.RunPython(move_reprint_notes, migrations.RunPython.noop),
    ]
