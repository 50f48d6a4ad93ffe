"""The rules of the second factor, apart from the views that ask for it.

A staff member's session counts as two-factor when django-otp verified a device in it (an app
code, a recovery code or a passkey), or when a single sign-on provider that enforces its own
second factor signed them in (``HANDVEST_OIDC_TRUSTS_PROVIDER_MFA``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger("handvest.security")

SSO_SESSION_KEY = "handvest_sso_second_factor"
RECOVERY_DEVICE_NAME = "herstelcodes"
RECOVERY_CODE_COUNT = 10


def session_is_two_factor(request) -> bool:
    user = request.user
    if getattr(user, "is_verified", None) and user.is_verified():
        return True
    return bool(settings.HANDVEST_OIDC_TRUSTS_PROVIDER_MFA and request.session.get(SSO_SESSION_KEY))


def is_enrolled(user) -> bool:
    """The user has at least one confirmed second factor (app, passkey or recovery codes)."""
    return user_has_device(user, confirmed=True)


def verify_code(request, code: str):
    """Log ``request``'s session in with the app code or recovery code ``code``; the device or None.

    Each device counts failed attempts itself and refuses for a growing while after each one
    (django-otp's throttling), so guessing six digits is slow; the row is locked while it checks.
    """
    code = "".join(code.split()).lower()
    if not code:
        return None
    user = request.user
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, TOTPDevice | StaticDevice) and device.verify_token(code):
                otp_login(request, device)
                logger.info("second factor accepted for user %s (id %s): %s", user.get_username(), user.pk, type(device).__name__)
                return device
    logger.warning("second factor refused for user %s (id %s)", user.get_username(), user.pk)
    return None


def pending_app(user) -> TOTPDevice:
    """The authenticator-app device being set up (unconfirmed until its first code is right)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="app", confirmed=False)


def confirm_app(request, device: TOTPDevice, code: str) -> bool:
    if not device.verify_token("".join(code.split())):
        logger.warning("authenticator set-up code refused for user %s (id %s)", request.user.get_username(), request.user.pk)
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    logger.info("authenticator app set up for user %s (id %s)", request.user.get_username(), request.user.pk)
    return True


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes by ten new single-use ones; shown once, stored as django-otp keeps them."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device.token_set.all().delete()
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    logger.info("new recovery codes for user %s (id %s)", user.get_username(), user.pk)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()
