"""Content-Security-Policy: strict on the citizen's pages, one allowance for Wagtail's admin.

django-csp sends ``CONTENT_SECURITY_POLICY`` everywhere. Wagtail's admin sets ``style`` attributes
from its own scripts and templates (panels, the rich-text editor, progress bars), which a policy
without ``'unsafe-inline'`` for styles breaks; scripts stay limited to our own origin and a nonce
everywhere. django-csp has no per-URL-prefix policy, hence this subclass.
"""

from __future__ import annotations

from copy import deepcopy

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

ADMIN_PREFIX = "/beheer/"


def admin_policy() -> dict:
    policy = deepcopy(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    policy["style-src"] = [*policy["style-src"], "'unsafe-inline'"]
    return policy


class HandvestCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PREFIX):
            parts.config = admin_policy()
        return parts
