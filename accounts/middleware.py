"""Every page of the admin asks for the second factor before it shows anything (BIO 5.17).

After the password, a staff member without a verified second factor in this session is sent to
enter one (or to set one up, the first time); only the login, logout, password-reset and
second-factor pages themselves are reachable before that.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django.urls import reverse

from accounts.second_factor import is_enrolled, session_is_two_factor

ADMIN_PREFIX = "/beheer/"
# The pages of the login itself, and the admin's icon sprite and translations that those pages load (no data in them).
OPEN_BEFORE_SECOND_FACTOR = ("/beheer/login/", "/beheer/logout/", "/beheer/password_reset/", "/beheer/tweestaps/", "/beheer/jsi18n/", "/beheer/sprite/")
SECOND_FACTOR_NEEDED = "Geef eerst uw tweede stap (code of passkey)."


def needs_second_factor(request) -> bool:
    if not settings.HANDVEST_TWO_FACTOR_REQUIRED:
        return False
    path = request.path_info
    if not path.startswith(ADMIN_PREFIX) or path.startswith(OPEN_BEFORE_SECOND_FACTOR):
        return False
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and not session_is_two_factor(request))


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if needs_second_factor(request):
            # A script's request (fetch, an image) gets a refusal; only a page the person opened is sent on and returned to.
            if request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
                return HttpResponseForbidden(SECOND_FACTOR_NEEDED, content_type="text/plain; charset=utf-8")
            target = "accounts:verify" if is_enrolled(request.user) else "accounts:setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
