"""Give the role groups their case permissions (the groups come from cms.0003)."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "Kwaliteitsmedewerkers": [
        ("case", "handle_case"),
        ("case", "view_case"),
        ("case", "change_case"),
        ("registration", "view_registration"),
        ("registration", "add_registration"),
        ("registration", "change_registration"),
    ],
    "Postkamer": [("registration", "add_registration"), ("registration", "view_registration")],
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    for group_name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for model, codename in perms:
            content_type, _ = ContentType.objects.get_or_create(app_label="cases", model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": f"Can {codename.replace('_', ' ')}"}
            )
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("cms", "0003_role_groups")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
