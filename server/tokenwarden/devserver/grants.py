"""Token grants: authlib's device code and refresh token grants bound to the in-memory state.

authlib runs the protocol (client authentication, validation order, error
codes, token generation); these subclasses only answer its storage questions,
plus two policies of this server: ``slow_down`` raises the interval by 5 s, and
presenting an already rotated refresh token revokes its whole grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc8628 import DeviceCodeGrant, SlowDownError

from .models import Decision, DeviceCredential, IssuedToken, TokenStatus, User
from .wire import wire_number

if TYPE_CHECKING:
    from .authorization import DevAuthorizationServer

#: RFC 8628 3.5: each slow_down adds 5 seconds to the interval, for good.
SLOW_DOWN_STEP = 5.0
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class DevDeviceCodeGrant(DeviceCodeGrant):  # type: ignore[misc]
    """RFC 8628 device code grant (polling half) over the dev server's state."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @property
    def dev(self) -> DevAuthorizationServer:
        """The authorization server, typed."""
        return cast("DevAuthorizationServer", self.server)

    def query_device_credential(self, device_code: str) -> DeviceCredential:
        """Find the device code and note the poll; unknown or used codes are invalid_grant."""
        credential = self.dev.state.device_credential(device_code)
        if credential is None:
            raise InvalidGrantError("unknown device_code")
        if credential.consumed:
            raise InvalidGrantError("device_code was already exchanged for tokens")
        credential.note_poll()
        return credential

    def query_user_grant(self, user_code: str) -> tuple[User, bool] | None:
        """The user's decision on the code, or None while it is pending."""
        state = self.dev.state
        credential = state.by_user_code(user_code)
        if credential is None:
            return None
        if credential.decision is Decision.PENDING and self.dev.config.auto_approve:
            state.decide(user_code, approve=True)
        if credential.decision is Decision.PENDING:
            return None
        return credential.user or state.user, credential.decision is Decision.APPROVED

    def should_slow_down(self, credential: DeviceCredential) -> bool:
        """Polled faster than the interval: raise the interval and answer slow_down."""
        if not credential.polled_too_fast():
            return False
        credential.interval += SLOW_DOWN_STEP
        # authlib would raise a bare SlowDownError on True; raise it here with the
        # new interval in the description, so a client's log shows what to honour.
        raise SlowDownError(f"polling too fast: wait {wire_number(credential.interval)} s")


class DevRefreshTokenGrant(RefreshTokenGrant):  # type: ignore[misc]
    """RFC 6749 refresh grant with rotation and reuse detection."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    #: Rotation: every refresh issues a new refresh token.
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def dev(self) -> DevAuthorizationServer:
        """The authorization server, typed."""
        return cast("DevAuthorizationServer", self.server)

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken:
        """The live token response holding ``refresh_token``, or invalid_grant."""
        issued = self.dev.state.by_refresh_token(refresh_token)
        if issued is None:
            raise InvalidGrantError("unknown refresh token")
        status = issued.refresh_status()
        if status is TokenStatus.ROTATED:
            self._on_reuse(issued)
        if status is TokenStatus.REVOKED:
            raise InvalidGrantError("the grant of this refresh token was revoked")
        if status is TokenStatus.EXPIRED:
            raise InvalidGrantError("refresh token expired")
        return issued

    def _on_reuse(self, issued: IssuedToken) -> None:
        # A rotated token comes back: either a race between two holders or a
        # stolen token. Like real providers, assume the worst and end the grant.
        if not self.dev.config.reuse_detection:
            raise InvalidGrantError("refresh token was already used")
        self.dev.state.stats.incr("reuse_detected")
        self.dev.state.revoke_family(issued.family)
        raise InvalidGrantError("refresh token reuse detected; the grant was revoked")

    def authenticate_user(self, refresh_token: IssuedToken) -> User:
        """The user the grant belongs to."""
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        """Retire the presented refresh token (and, if so configured, its access token)."""
        refresh_token.refresh_rotated = True
        if self.dev.config.revoke_on_rotate:
            refresh_token.access_revoked = True
