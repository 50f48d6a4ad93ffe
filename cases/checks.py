"""Deployment checks (``manage.py check --deploy``) of what a municipality must set itself.

The shipped defaults are the first customer's (Harlingen): a second municipality that forgets to set its
own sender address would mail its citizens from ``info@harlingen.nl``. The check compares the mail
settings with the site's own domain (``HANDVEST_BASE_URL``) and warns when they differ; it reads no
database, so it also runs before the first migration.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "testserver"}


def site_domain(host: str) -> str:
    """The registered domain of a host, as far as a Dutch municipality needs it: its last two labels."""
    return ".".join(host.lower().rstrip(".").split(".")[-2:])


def _of(domain: str, site: str) -> bool:
    domain = domain.lower().rstrip(".")
    return domain == site or domain.endswith("." + site)


@checks.register("handvest", deploy=True)
def mail_of_the_sites_domain(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    host = urlsplit(settings.BASE_URL).hostname or ""
    if not host or host in LOCAL_HOSTS or host.replace(".", "").isdigit():
        return []
    site = site_domain(host)
    problems = []
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    if sender and not _of(sender, site):
        problems.append(
            checks.Warning(
                f"DEFAULT_FROM_EMAIL ({settings.DEFAULT_FROM_EMAIL}) is not an address of {site}, the site's domain.",
                hint="Set DEFAULT_FROM_EMAIL to the municipality's own sender address (letters to citizens come from it).",
                id="handvest.W001",
            )
        )
    if not _of(settings.HANDVEST_MAIL_DOMAIN, site):
        problems.append(
            checks.Warning(
                f"HANDVEST_MAIL_DOMAIN ({settings.HANDVEST_MAIL_DOMAIN}) is not of {site}, the site's domain.",
                hint="Set HANDVEST_MAIL_DOMAIN to a domain of the municipality: our Message-IDs carry it, and mail carrying it is taken for ours.",
                id="handvest.W002",
            )
        )
    return problems
