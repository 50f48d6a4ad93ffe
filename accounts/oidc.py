"""Single sign-on with the municipality's own identity provider (OpenID Connect), when configured.

mozilla-django-oidc does the protocol. This backend only decides who may come in: an existing,
active account with the same e-mail address that may use the admin. Handvest creates no accounts
from the provider (``OIDC_CREATE_USER = False``): roles are given here, by a person.
"""

from __future__ import annotations

import logging

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.second_factor import SSO_SESSION_KEY

logger = logging.getLogger("handvest.security")


class StaffOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email or claims.get("email_verified") is False:
            logger.warning("single sign-on refused: the provider gave no verified e-mail address")
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def authenticate(self, request, **kwargs):
        user = super().authenticate(request, **kwargs)
        if user is not None and request is not None:
            # The provider enforces its own second factor; whether that counts is the municipality's choice.
            request.session[SSO_SESSION_KEY] = bool(settings.HANDVEST_OIDC_TRUSTS_PROVIDER_MFA)
            logger.info("single sign-on for user %s (id %s)", user.get_username(), user.pk)
        return user
