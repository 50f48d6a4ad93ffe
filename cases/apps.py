from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Meldingen"

    def ready(self):
        from cases import receivers  # noqa: F401
