"""Settings of the development authorization server, validated once at construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tokenwarden.config import is_loopback

DEFAULT_USER = "alice@example.test"
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class DevServerConfig:
    """Everything that shapes the dev server's behaviour; times are in seconds."""

    host: str = DEFAULT_HOST
    port: int = 0
    access_token_ttl: float = 3600.0
    #: 0 means refresh tokens never expire.
    refresh_token_ttl: float = 0.0
    device_code_ttl: float = 600.0
    #: Minimum polling interval of the device grant; 0 lets tests poll freely.
    interval: float = 5.0
    user: str = DEFAULT_USER
    #: Approve a device code on its first poll (for demos).
    auto_approve: bool = False
    #: Presenting a rotated refresh token revokes its whole grant.
    reuse_detection: bool = True
    #: Confidential clients, client_id -> secret; any other client_id is public.
    clients: Mapping[str, str] = field(default_factory=dict)
    #: Bind a non-loopback host (plain HTTP on the network: only on purpose).
    allow_remote: bool = False
    #: Rotated refresh tokens keep the grant's first expiry instead of a fresh TTL.
    absolute_refresh_expiry: bool = False
    #: A refresh also revokes the access token of the response it rotates (as some
    #: providers do): a consumer still holding it gets 401 at once.
    revoke_on_rotate: bool = False
    #: The OpenID document omits device_authorization_endpoint and revocation_endpoint,
    #: which only the RFC 8414 document lists (as some servers do).
    split_discovery: bool = False
    #: Answer like this provider on the wire (``quirks.QUIRK_NAMES``); None: standard.
    quirks: str | None = None
    #: Offer the device grant; off, it is refused like an admin who turned it off.
    device_grant: bool = True

    def __post_init__(self) -> None:
        if self.access_token_ttl <= 0:
            raise ValueError("access_token_ttl must be positive")
        if self.device_code_ttl <= 0:
            raise ValueError("device_code_ttl must be positive")
        if self.refresh_token_ttl < 0:
            raise ValueError("refresh_token_ttl must be 0 (never expires) or positive")
        if self.interval < 0:
            raise ValueError("interval must not be negative")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.quirks is not None:
            from .quirks import QUIRK_NAMES

            if self.quirks not in QUIRK_NAMES:
                raise ValueError(
                    f"unknown quirks mode {self.quirks!r} (known: {', '.join(QUIRK_NAMES)})"
                )
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"refusing to bind non-loopback host {self.host!r} without allow_remote"
            )


def parse_client_spec(spec: str) -> tuple[str, str]:
    """Split a ``CLIENT_ID:SECRET`` command-line value."""
    client_id, sep, secret = spec.partition(":")
    if not sep or not client_id or not secret:
        # The value may hold a secret: never echo it back.
        raise ValueError("expected CLIENT_ID:SECRET with both parts non-empty")
    return client_id, secret
