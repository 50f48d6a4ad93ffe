from django.conf import settings


def login_options(request) -> dict:
    """What the login and lockout pages say: the single sign-on button, the lockout's length."""
    return {
        "oidc_enabled": bool(settings.OIDC_RP_CLIENT_ID),
        "oidc_label": settings.HANDVEST_OIDC_LABEL,
        "login_cooloff_minutes": round(settings.AXES_COOLOFF_TIME * 60),
    }
