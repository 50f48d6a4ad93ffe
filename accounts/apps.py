from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff login: the second factor (TOTP, passkeys, recovery codes), single sign-on and lockouts.

    It knows nothing of cases; it guards everything under the Wagtail admin.
    """

    name = "accounts"
    verbose_name = "Inloggen"
