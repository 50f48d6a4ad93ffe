import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from cms.roles import ARCHIVISTS, EDITORS, MAILROOM, QUALITY_OFFICERS

DEMO_USERS = (
    ("beheerder", None, "superuser: everything"),
    ("kwaliteit", QUALITY_OFFICERS, "quality officer: handles cases"),
    ("postkamer", MAILROOM, "mailroom: registers letters, prints letters"),
    ("redacteur", EDITORS, "editor: norms, pages and aggregates, no cases"),
    ("archivaris", ARCHIVISTS, "archivist: retention table and destruction lists, no case content"),
)


class Command(BaseCommand):
    help = "Create one demo account per role (for `make run`); passwords are printed once, at creation."

    def handle(self, *args, **options):
        User = get_user_model()
        for username, group, role in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"{username:10} exists ({role}); password was printed when it was created")
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(username=username, password=password, email=f"{username}@example.invalid")
            if group is None:
                user.is_staff = user.is_superuser = True
                user.save()
            else:
                user.groups.add(Group.objects.get(name=group))
            self.stdout.write(self.style.SUCCESS(f"{username:10} password {password}  ({role})"))
