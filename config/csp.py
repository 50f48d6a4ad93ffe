"""Content-Security-Policy: strict on the citizen's pages, Wagtail's needs on the admin.

django-csp sends ``CONTENT_SECURITY_POLICY`` everywhere: only our own origin, no inline script or
style, no plugins, no framing by other sites. Wagtail 8's admin is not yet free of inline
``<script>`` blocks and ``style`` attributes (the page explorer, the editors' forms, the rich-text
editor), so under ``/beheer/`` the policy also allows inline script and style, still from our own
origin only; our own admin templates use none (``static/js/workspace.js``). django-csp has no
per-URL-prefix policy, hence this subclass.
"""

from __future__ import annotations

from copy import deepcopy

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

ADMIN_PREFIX = "/beheer/"


def admin_policy() -> dict:
    policy = deepcopy(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    policy["script-src"] = [*policy["script-src"], "'unsafe-inline'"]
    policy["style-src"] = [*policy["style-src"], "'unsafe-inline'"]
    return policy


class HandvestCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and parts.config is None and request.path_info.startswith(ADMIN_PREFIX):
            parts.config = admin_policy()
        return parts
