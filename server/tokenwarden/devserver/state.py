"""The server's in-memory state: clients, device codes, grants and tokens, behind one lock.

Callers that need several steps to be atomic (a whole token request: look up
the refresh token, issue a new one, retire the old one) hold ``state.lock``
around them; it is re-entrant, so the methods here take it too.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from typing import Any

from .models import (
    Client,
    Decision,
    DeviceCredential,
    EpochClock,
    IssuedToken,
    TokenFamily,
    TokenStatus,
    User,
)
from .stats import Stats

_USER_CODE_SEPARATORS = str.maketrans("", "", " -")


class UserCodeError(LookupError):
    """A user code that cannot be decided; ``reason`` is a short machine word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def normalize_user_code(user_code: str) -> str:
    """``wdjb mjht`` or ``WDJBMJHT`` -> ``WDJB-MJHT``."""
    bare = user_code.translate(_USER_CODE_SEPARATORS).upper()
    return f"{bare[:4]}-{bare[4:]}" if len(bare) == 8 else bare


class DevState:
    """Every record the server holds."""

    def __init__(
        self,
        *,
        user: User,
        confidential_clients: Mapping[str, str],
        clock: EpochClock,
        stats: Stats,
    ) -> None:
        self.lock = threading.RLock()
        self.user = user
        self.clock = clock
        self.stats = stats
        self._secrets = dict(confidential_clients)
        self._devices: dict[str, DeviceCredential] = {}
        self._user_codes: dict[str, str] = {}
        self._families: list[TokenFamily] = []
        self._by_access: dict[str, IssuedToken] = {}
        self._by_refresh: dict[str, IssuedToken] = {}

    # -- clients -------------------------------------------------------------

    def client(self, client_id: str) -> Client:
        """The registered client, or a public client for any other id."""
        return Client(client_id, self._secrets.get(client_id))

    # -- device codes --------------------------------------------------------

    def add_device_credential(
        self,
        *,
        client_id: str,
        scope: str | None,
        data: Mapping[str, Any],
        interval: float,
        ttl: float,
    ) -> DeviceCredential:
        """Store the device and user code of a fresh device authorization."""
        with self.lock:
            credential = DeviceCredential(
                device_code=data["device_code"],
                user_code=data["user_code"],
                client_id=client_id,
                scope=scope,
                expires_at=self.clock() + ttl,
                interval=interval,
                clock=self.clock,
            )
            self._devices[credential.device_code] = credential
            self._user_codes[credential.user_code] = credential.device_code
            return credential

    def user_code_taken(self, user_code: str) -> bool:
        """Whether a live device authorization already uses ``user_code``."""
        with self.lock:
            device_code = self._user_codes.get(user_code)
            return device_code is not None and not self._devices[device_code].is_expired()

    def device_credential(self, device_code: str) -> DeviceCredential | None:
        """The credential for ``device_code``, if it was ever issued."""
        with self.lock:
            return self._devices.get(device_code)

    def by_user_code(self, user_code: str) -> DeviceCredential | None:
        """The credential a (loosely typed) user code names, if any."""
        with self.lock:
            device_code = self._user_codes.get(normalize_user_code(user_code))
            return None if device_code is None else self._devices[device_code]

    def decide(self, user_code: str, *, approve: bool) -> DeviceCredential:
        """Approve or deny a user code as the configured user."""
        wanted = Decision.APPROVED if approve else Decision.DENIED
        with self.lock:
            credential = self.by_user_code(user_code)
            if credential is None:
                raise UserCodeError("unknown", "no such user code")
            if credential.consumed:
                raise UserCodeError("used", "this code was already used")
            if credential.is_expired():
                raise UserCodeError("expired", "this code has expired")
            if credential.decision not in (Decision.PENDING, wanted):
                raise UserCodeError("decided", f"this code was already {credential.decision.value}")
            credential.decision = wanted
            credential.user = self.user if approve else None
            return credential

    # -- tokens --------------------------------------------------------------

    def start_family(self, client_id: str, user: User, scope: str) -> TokenFamily:
        """Open a new grant (after a device approval)."""
        with self.lock:
            family = TokenFamily(
                family_id=secrets.token_hex(8),
                client_id=client_id,
                user=user,
                scope=scope,
                created_at=self.clock(),
            )
            self._families.append(family)
            return family

    def record_token(
        self,
        token: Mapping[str, Any],
        family: TokenFamily,
        *,
        access_ttl: float,
        refresh_expires_at: float | None,
    ) -> IssuedToken:
        """Remember one token response so its tokens can be looked up later."""
        with self.lock:
            now = self.clock()
            issued = IssuedToken(
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                family=family,
                scope=token.get("scope", family.scope),
                issued_at=now,
                access_expires_at=now + access_ttl,
                refresh_expires_at=refresh_expires_at,
                clock=self.clock,
            )
            self._by_access[issued.access_token] = issued
            if issued.refresh_token is not None:
                self._by_refresh[issued.refresh_token] = issued
            return issued

    def by_access_token(self, access_token: str) -> IssuedToken | None:
        """The token response an access token came from."""
        with self.lock:
            return self._by_access.get(access_token)

    def by_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        """The token response a refresh token came from."""
        with self.lock:
            return self._by_refresh.get(refresh_token)

    def revoke_family(self, family: TokenFamily) -> bool:
        """Revoke a whole grant; False when it was revoked already."""
        with self.lock:
            if family.revoked:
                return False
            family.revoked = True
        self.stats.incr("grants_revoked")
        return True

    def revoke_all(self) -> int:
        """Revoke every live grant; returns how many."""
        with self.lock:
            return sum(self.revoke_family(family) for family in self._families)

    def expire_access_tokens(self) -> int:
        """Make every currently valid access token expired; returns how many."""
        with self.lock:
            now = self.clock()
            live = [t for t in self._by_access.values() if t.access_status() is TokenStatus.ACTIVE]
            for issued in live:
                issued.access_expires_at = now
            return len(live)
