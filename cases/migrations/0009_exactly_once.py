# Exactly once: whole Message-IDs known by their key, content keys unique, the outbox's claim, webhook tokens.

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import hashlib


def fill_message_keys(apps, schema_editor):
    """The Message-ID's key for the rows that have one (the first holder of each key keeps it)."""
    for model_name in ("Registration", "InboundMessage"):
        model = apps.get_model("cases", model_name)
        seen = set()
        for pk, message_id in model.objects.exclude(message_id=None).exclude(message_id="").order_by("pk").values_list("pk", "message_id"):
            key = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
            if key not in seen:
                seen.add(key)
                model.objects.filter(pk=pk).update(message_key=key)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_grant_correct_letter_text'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(max_length=20)),
                ('token', models.CharField(max_length=200)),
                ('seen_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddField(
            model_name='inboundmessage',
            name='message_key',
            field=models.CharField(blank=True, help_text='SHA-256 of the whole Message-ID, set on the first message that carries it.', max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='inboundmessage',
            name='raw_sha256',
            field=models.CharField(blank=True, help_text='The same bytes twice (a webhook retry, a re-import) are one message.', max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='outgoingmessage',
            name='claim_token',
            field=models.CharField(blank=True, help_text='Set when a worker claims the row to send it; only that claim may mark it sent.', max_length=32),
        ),
        migrations.AddField(
            model_name='outgoingmessage',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='outgoingmessage',
            name='provider_message_id',
            field=models.CharField(blank=True, help_text='The id the mail provider gave the message (anymail).', max_length=200),
        ),
        migrations.AddField(
            model_name='registration',
            name='message_key',
            field=models.CharField(blank=True, editable=False, help_text='SHA-256 of the whole Message-ID: the database refuses a second registration of one e-mail.', max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='inboundmessage',
            name='content_hash',
            field=models.CharField(blank=True, db_index=True, help_text='Identity of a message without a Message-ID.', max_length=64),
        ),
        migrations.AlterField(
            model_name='inboundmessage',
            name='message_id',
            field=models.TextField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='inboundmessage',
            name='outcome',
            field=models.CharField(blank=True, choices=[('case', 'nieuwe zaak'), ('thread', 'bij bestaande zaak'), ('duplicate', 'dubbel, genegeerd'), ('triage', 'naar triage'), ('auto_reply', 'automatisch antwoord of bounce'), ('ignored', 'reclame, niet geregistreerd'), ('error', 'geen e-mail'), ('quarantine', 'in quarantaine: niet veilig te verwerken')], db_index=True, max_length=12),
        ),
        migrations.AlterField(
            model_name='inboundmessage',
            name='received_at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, help_text='Wanneer de gemeente het bericht ontving.'),
        ),
        migrations.AlterField(
            model_name='outgoingmessage',
            name='status',
            field=models.CharField(choices=[('queued', 'in de wachtrij'), ('sending', 'wordt verstuurd'), ('unknown', 'verzonden? onbekend'), ('sent', 'verstuurd'), ('failed', 'mislukt'), ('to_print', 'klaar om te printen'), ('printed', 'geprint en gepost'), ('suppressed', 'niet verstuurd')], db_index=True, default='queued', max_length=12),
        ),
        migrations.AlterField(
            model_name='registration',
            name='message_id',
            field=models.TextField(blank=True, help_text='Zoals ontvangen, hoe lang ook.', null=True, verbose_name='Message-ID'),
        ),
        migrations.RunPython(fill_message_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='inboundmessage',
            constraint=models.UniqueConstraint(condition=models.Q(('message_key__isnull', True), models.Q(('content_hash', ''), _negated=True)), fields=('content_hash',), name='one_inbound_per_content_key'),
        ),
        migrations.AddConstraint(
            model_name='registration',
            constraint=models.UniqueConstraint(condition=models.Q(('content_hash', ''), _negated=True), fields=('content_hash',), name='one_registration_per_content_key'),
        ),
        migrations.AddConstraint(
            model_name='webhooktoken',
            constraint=models.UniqueConstraint(fields=('provider', 'token'), name='one_use_per_webhook_token'),
        ),
    ]
