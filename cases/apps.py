from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Meldingen"

    def ready(self):
        # Django's way to connect receivers once the models are loaded; importing the tasks here
        # registers them in every process, so ``cases.dispatch`` finds them by name.
        from cases import checks, receivers, tasks  # noqa: F401
        from cases.records import audit

        audit.register_models()
