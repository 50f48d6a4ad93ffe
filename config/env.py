"""Every setting Handvest reads from the environment, read through one helper.

Each variable is declared once, with its default and a help text. The README's
configuration table is generated from this registry (``python -m config.env_reference``),
so the documentation cannot drift from the code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: Any
    help_text: str


REGISTRY: dict[str, EnvVar] = {}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _to_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def _to_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


CASTS: dict[type, Callable[[str], Any]] = {bool: _to_bool, int: int, list: _to_list, str: str}


def env(name: str, default: Any, help_text: str, cast: type | None = None) -> Any:
    """Return the environment variable ``name`` cast to the default's type, or the default."""
    REGISTRY[name] = EnvVar(name, default, help_text)
    raw = os.environ.get(name)
    if raw is None:
        return default
    kind = cast or (type(default) if default is not None else str)
    try:
        return CASTS[kind](raw)
    except (KeyError, ValueError) as exc:
        raise RuntimeError(f"Environment variable {name}={raw!r} is invalid: {exc}") from exc


def reference_markdown() -> str:
    """The configuration table of the README, generated from the registry."""
    lines = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for var in REGISTRY.values():
        default = var.default
        if isinstance(default, list):
            default = ",".join(default)
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        lines.append(f"| `{var.name}` | {shown} | {var.help_text} |")
    return "\n".join(lines)


def cache_settings(url: str) -> dict:
    """Django's ``CACHES`` for ``CACHE_URL``: empty for a cache in each process's memory (one
    process, as ``make run``), ``redis://`` or ``rediss://`` for Redis, shared by all web processes.

    The web form's rate limit counts in this cache, so with several web workers it must be shared:
    in each worker's own memory a sender could post the limit once per worker.
    """
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "handvest"}}
    if url.startswith(("redis://", "rediss://")):
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "handvest"}}
    raise RuntimeError(f"Environment variable CACHE_URL={url!r} is invalid: use redis://host:port/db, or leave it empty for a cache per process.")
