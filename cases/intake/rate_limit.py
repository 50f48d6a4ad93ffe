"""The web form's flood limit: submissions per IP address and per e-mail address per window.

Counted atomically in Django's cache (Redis when ``CACHE_URL`` is set, so every web process
sees the same counts) *before* a submission is registered, so twenty posts at once cannot all
slip through. Generous per address (a library or town-hall PC is shared), stricter per e-mail.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address: the configured proxy header (its last entry) or the connection's address."""
    header = settings.HANDVEST_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        entries = [part.strip() for part in value.split(",") if part.strip()]
        if entries:
            return entries[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_ip_or_none(request) -> str | None:
    """The same address for the staff-login lockout (django-axes' ``AXES_CLIENT_IP_CALLABLE``),
    None when there is none (a request made in code, as Django's ``force_login`` makes)."""
    address = client_ip(request)
    return None if address == "unknown" else address


def _rate_keys(ip: str, email: str) -> list[tuple[str, int]]:
    """(key, limit) of every limit this submission counts against: its address, and its e-mail address.

    Hashed, so the cache holds no IP or e-mail addresses in clear.
    """
    keys = [("ip:" + ip, settings.HANDVEST_FORM_RATE_LIMIT)]
    if email:
        keys.append(("email:" + email.strip().lower(), settings.HANDVEST_FORM_RATE_LIMIT_EMAIL))
    return [("handvest:webform:rate:" + hashlib.sha256(key.encode()).hexdigest()[:32], limit) for key, limit in keys if limit > 0]


def _count(key: str) -> int:
    """Add one to the window's counter, atomically (Redis INCR; LocMemCache under its lock)."""
    window = settings.HANDVEST_FORM_RATE_WINDOW
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # it expired between add and incr: a new window starts with this one
        cache.set(key, 1, timeout=window)
        return 1


def rate_reserve(ip: str, email: str = "", *, submission: str = "") -> list[str] | None:
    """Count this submission against every limit before it is registered, so twenty posts at once
    cannot all slip through; return the keys to give back if it turns out a double, or None when a
    limit is reached.

    ``submission`` identifies the form post (its one-time token): the same form posted again (a
    double click, Back and send) is not counted again, so it reaches its first confirmation page.
    """
    counted: list[str] = []
    try:
        seen = "handvest:webform:seen:" + submission if submission else ""
        if seen and not cache.add(seen, 1, timeout=settings.HANDVEST_FORM_RATE_WINDOW):
            return []
        for key, limit in _rate_keys(ip, email):
            counted.append(key)
            if _count(key) > limit:
                rate_release(counted + ([seen] if seen else []))
                return None
    except Exception:
        # A shared cache (Redis) that is down must not keep a citizen's complaint out: the limit
        # only fends off floods, so without it the form still works.
        logger.exception("rate limit not checked: the cache is unavailable")
        return []
    return counted


def rate_release(keys: list[str]) -> None:
    """Give back what ``rate_reserve`` counted (a double submission, or a refused one)."""
    for key in keys:
        try:
            if key.startswith("handvest:webform:seen:"):
                cache.delete(key)
            else:
                cache.decr(key)
        except Exception:
            logger.warning("rate limit not given back for one key: expired, or the cache is unavailable")
