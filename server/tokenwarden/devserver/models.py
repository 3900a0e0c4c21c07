"""In-memory records of clients, device codes, grants and issued tokens.

The classes implement authlib's model mixins, so authlib's grants and endpoints
work on them directly. Time is always a wall-clock epoch in seconds, read from
the clock the records were created with.
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE as DEVICE_CODE_GRANT_TYPE
from authlib.oauth2.rfc8628 import DeviceCredentialMixin

EpochClock = Callable[[], float]

#: Granted when a client asks for no scope (RFC 6749 3.3 allows a default).
DEFAULT_SCOPE = "openid profile email"
SUPPORTED_GRANT_TYPES = (DEVICE_CODE_GRANT_TYPE, "refresh_token", "authorization_code")


@dataclass(frozen=True)
class User:
    """The resource owner that approves device codes."""

    sub: str
    email: str
    name: str

    @classmethod
    def from_label(cls, label: str) -> User:
        """Build a user from ``alice@example.test`` (or a bare ``alice``)."""
        email = label if "@" in label else f"{label}@example.test"
        local = email.split("@", 1)[0]
        return cls(sub=local, email=email, name=local.replace(".", " ").title())

    def claims(self) -> dict[str, str]:
        """The userinfo document."""
        return {"sub": self.sub, "email": self.email, "name": self.name}


@dataclass(frozen=True)
class Client(ClientMixin):  # type: ignore[misc]
    """A client: public (no secret, auth method ``none``) or confidential."""

    client_id: str
    secret: str | None = None

    def get_client_id(self) -> str:
        """The client identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """No default: a native app names its loopback redirect URI every time."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Any requested scope is allowed; none requested means the default."""
        return scope or DEFAULT_SCOPE

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Loopback redirect URIs on any port (RFC 8252 §7.3), as for a native app."""
        from .codegrant import is_loopback_redirect

        return is_loopback_redirect(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare the secret in constant time."""
        if self.secret is None:
            return False
        return hmac.compare_digest(self.secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Confidential clients must authenticate; public ones use ``none``."""
        return (method != "none") if self.secret is not None else (method == "none")

    def check_response_type(self, response_type: str) -> bool:
        """The authorization code flow only."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Device code, authorization code and refresh token grants."""
        return grant_type in SUPPORTED_GRANT_TYPES


class Decision(enum.Enum):
    """Where the user stands on a device code."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


@dataclass(eq=False)
class DeviceCredential(DeviceCredentialMixin):  # type: ignore[misc]
    """A device code and its user code, from issue until tokens are handed out."""

    device_code: str
    user_code: str
    client_id: str
    scope: str | None
    expires_at: float
    interval: float
    clock: EpochClock = field(repr=False)
    decision: Decision = Decision.PENDING
    user: User | None = None
    consumed: bool = False
    last_poll_at: float | None = None
    previous_poll_at: float | None = None

    def get_client_id(self) -> str:
        """The client the code was issued to."""
        return self.client_id

    def get_scope(self) -> str | None:
        """The scope the client asked for."""
        return self.scope

    def get_user_code(self) -> str:
        """The code the user types."""
        return self.user_code

    def is_expired(self) -> bool:
        """Past ``expires_at``."""
        return self.clock() >= self.expires_at

    def note_poll(self) -> None:
        """Record that the client polled now."""
        self.previous_poll_at = self.last_poll_at
        self.last_poll_at = self.clock()

    def polled_too_fast(self) -> bool:
        """Whether the last two polls came closer together than the interval allows."""
        if self.previous_poll_at is None or self.last_poll_at is None:
            return False
        # A little slack, so network jitter does not turn a punctual client into a fast one.
        slack = min(0.1, self.interval * 0.1)
        return self.last_poll_at - self.previous_poll_at < self.interval - slack


@dataclass(eq=False)
class TokenFamily:
    """One grant: every access and refresh token descended from one device approval."""

    family_id: str
    client_id: str
    user: User
    scope: str
    created_at: float
    revoked: bool = False


class TokenStatus(enum.Enum):
    """Whether a presented token may be used."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ROTATED = "rotated"


@dataclass(eq=False)
class IssuedToken(TokenMixin):  # type: ignore[misc]
    """One token response: an access token and (usually) its refresh token."""

    access_token: str
    refresh_token: str | None
    family: TokenFamily
    scope: str
    issued_at: float
    access_expires_at: float
    #: None means the refresh token never expires.
    refresh_expires_at: float | None
    clock: EpochClock = field(repr=False)
    access_revoked: bool = False
    refresh_rotated: bool = False

    def access_status(self) -> TokenStatus:
        """State of the access token now."""
        if self.family.revoked or self.access_revoked:
            return TokenStatus.REVOKED
        if self.clock() >= self.access_expires_at:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE

    def refresh_status(self) -> TokenStatus:
        """State of the refresh token now."""
        if self.family.revoked:
            return TokenStatus.REVOKED
        if self.refresh_rotated:
            return TokenStatus.ROTATED
        if self.refresh_expires_at is not None and self.clock() >= self.refresh_expires_at:
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE

    def check_client(self, client: Client) -> bool:
        """Whether ``client`` is the one the grant belongs to."""
        return client.get_client_id() == self.family.client_id

    def get_scope(self) -> str:
        """Scope of this token."""
        return self.scope

    def get_expires_in(self) -> float:
        """Lifetime of the access token."""
        return self.access_expires_at - self.issued_at

    def is_expired(self) -> bool:
        """Whether the access token has expired."""
        return self.access_status() is TokenStatus.EXPIRED

    def is_revoked(self) -> bool:
        """Whether the access token was revoked (alone or with its grant)."""
        return self.access_status() is TokenStatus.REVOKED

    def get_user(self) -> User:
        """The user the grant belongs to."""
        return self.family.user
