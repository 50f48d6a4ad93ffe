"""Deployment checks (``manage.py check --deploy``) of what a municipality must set itself.

The shipped defaults are the first customer's (Harlingen): a second municipality that forgets to set its
own sender address would mail its citizens from ``info@harlingen.nl``. The check warns when the mail
settings are still of that domain while the site (``HANDVEST_BASE_URL``) is not; a municipality's own
domains may differ from its site's (``zuidplas.nl`` and ``gemeentezuidplas.nl``). It reads no database,
so it also runs before the first migration.
"""

from __future__ import annotations

import ipaddress
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

LOCAL_HOSTS = {"localhost", "testserver"}
SHIPPED_DOMAIN = "harlingen.nl"  # the domain of the shipped DEFAULT_FROM_EMAIL and HANDVEST_MAIL_DOMAIN


def site_domain(host: str) -> str:
    """The registered domain of a host, as far as a Dutch municipality needs it: its last two labels."""
    return ".".join(host.lower().rstrip(".").split(".")[-2:])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _of(domain: str, site: str) -> bool:
    domain = domain.lower().rstrip(".")
    return domain == site or domain.endswith("." + site)


@checks.register("handvest", deploy=True)
def mail_of_the_sites_domain(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    host = urlsplit(settings.BASE_URL).hostname or ""
    if not host or host in LOCAL_HOSTS or _is_ip(host) or _of(host, SHIPPED_DOMAIN):
        return []
    site = site_domain(host)
    problems = []
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    if sender and _of(sender, SHIPPED_DOMAIN):
        problems.append(
            checks.Warning(
                f"DEFAULT_FROM_EMAIL ({settings.DEFAULT_FROM_EMAIL}) is still the shipped address of {SHIPPED_DOMAIN}, not of {site}.",
                hint="Set DEFAULT_FROM_EMAIL to the municipality's own sender address (letters to citizens come from it).",
                id="handvest.W001",
            )
        )
    if _of(settings.HANDVEST_MAIL_DOMAIN, SHIPPED_DOMAIN):
        problems.append(
            checks.Warning(
                f"HANDVEST_MAIL_DOMAIN ({settings.HANDVEST_MAIL_DOMAIN}) is still the shipped domain of {SHIPPED_DOMAIN}, not of {site}.",
                hint="Set HANDVEST_MAIL_DOMAIN to a domain of the municipality: our Message-IDs carry it, and mail carrying it is taken for ours.",
                id="handvest.W002",
            )
        )
    return problems
