"""Let the mailroom (and the quality officers) correct the text read from a scanned letter.

The mailroom holds the paper and checks the OCR right after registering; while the case has not
been picked up, it may correct the text (``letter_correct_text`` enforces the "while").
"""

from django.db import migrations

GROUPS = ("Kwaliteitsmedewerkers", "Postkamer")


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="cases", model="registration")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="correct_letter_text", defaults={"name": "Can correct the text read from a scanned letter"}
    )
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="cases", codename="correct_letter_text"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_registration_correct_letter_text"), ("cms", "0003_role_groups")]
    operations = [migrations.RunPython(grant, revoke)]
