from django.apps import AppConfig


class NlpConfig(AppConfig):
    """The thin Django layer on top of the Django-free tagger in ``nlp.core``."""

    name = "nlp"
    verbose_name = "Tagger"
