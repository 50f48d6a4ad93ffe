"""The role groups: Redacteuren, Kwaliteitsmedewerkers, Postkamer.

Permissions are created here with get_or_create, because Django only creates them after all
migrations have run; Django's own pass then finds them present. Case permissions are added to
these groups by the ``cases`` app's migrations.
"""

from django.db import migrations

EDITOR_MODEL_PERMS = {
    "servicenorm": ("add", "change", "publish", "view"),
    "charter": ("add", "change", "view"),
}
EDITOR_PAGE_PERMS = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")


def _perm(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": f"Can {codename.replace('_', ' ')}"}
    )
    return permission


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth.Group")
    Page = apps.get_model("wagtailcore.Page")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    access_admin = _perm(apps, "wagtailadmin", "admin", "access_admin")

    editors, _ = Group.objects.get_or_create(name="Redacteuren")
    officers, _ = Group.objects.get_or_create(name="Kwaliteitsmedewerkers")
    mailroom, _ = Group.objects.get_or_create(name="Postkamer")
    for group in (editors, officers, mailroom):
        group.permissions.add(access_admin)
    for model, actions in EDITOR_MODEL_PERMS.items():
        for action in actions:
            editors.permissions.add(_perm(apps, "cms", model, f"{action}_{model}"))
    editors.permissions.add(_perm(apps, "cms", "municipalitysettings", "change_municipalitysettings"))
    root = Page.objects.get(depth=1)
    for codename in EDITOR_PAGE_PERMS:
        GroupPagePermission.objects.get_or_create(group=editors, page=root, permission=_perm(apps, "wagtailcore", "page", codename))


def remove_groups(apps, schema_editor):
    apps.get_model("auth.Group").objects.filter(name__in=["Redacteuren", "Kwaliteitsmedewerkers", "Postkamer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0002_create_homepage"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
