"""How the HTTP API is configured: where the books are, how callers prove who they are, limits."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta

from msgspec import Struct, field

__all__ = ["ApiSettings"]


class ApiSettings(Struct, frozen=True, kw_only=True):
    """Settings of one API process; ``from_env`` reads ``TIMEBANK_*`` variables."""

    token_secret: str
    """The HMAC key that signs and checks bearer tokens (at least 32 characters)."""
    token_lifetime: timedelta = timedelta(hours=12)
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the API from a browser; empty allows none."""
    rate_limit_per_minute: int = 600
    """Requests a client (by address) may make per minute; 0 turns the limit off."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (``10.0.0.0/8``) of the reverse proxies whose ``X-Forwarded-For``
    names the client; from anyone else the header is ignored. Empty trusts no one."""
    page_size_max: int = 500
    debug: bool = False
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {proxy!r} is not an IP address or network"
                ) from None

    @classmethod
    def from_env(cls, **overrides: object) -> ApiSettings:
        secret = os.environ.get("TIMEBANK_TOKEN_SECRET", "")
        origins = _listed(os.environ.get("TIMEBANK_CORS_ORIGINS", ""))
        values: dict[str, object] = {
            "token_secret": secret,
            "cors_origins": origins,
            "trusted_proxies": _listed(os.environ.get("TIMEBANK_TRUSTED_PROXIES", "")),
            "rate_limit_per_minute": int(os.environ.get("TIMEBANK_RATE_LIMIT_PER_MINUTE", "600")),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _listed(value: str) -> tuple[str, ...]:
    """A comma-separated setting as its non-empty items."""
    return tuple(item.strip() for item in value.split(",") if item.strip())
