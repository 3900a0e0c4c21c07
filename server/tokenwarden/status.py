"""The status object every surface renders (docs/protocol.md), and its one-line message."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tokenwarden.clock import utc_iso

if TYPE_CHECKING:
    from tokenwarden.store import LastError


class SessionState(enum.StrEnum):
    """States of a profile's session, as named on the wire."""

    SIGNED_OUT = "signedOut"
    SIGNING_IN = "signingIn"
    SIGNED_IN = "signedIn"
    REFRESHING = "refreshing"
    DEGRADED = "degraded"
    EXPIRED = "expired"


@dataclass(frozen=True)
class LoginInfo:
    """A sign-in in progress: the code to enter and where (device), or the URL (browser)."""

    user_code: str | None
    verification_uri: str | None
    verification_uri_complete: str | None
    expires_at: datetime
    expires_in: float
    interval: float
    flow: str = "device"
    authorization_uri: str | None = None
    #: Another process waits for this sign-in (``sharedlogin``); not on the wire.
    elsewhere: bool = False
    #: Why this flow, when ``auto`` fell back to it; not on the wire (logged there).
    note: str | None = None


@dataclass(frozen=True)
class Status:
    """A profile's state as surfaces show it."""

    profile: str
    state: SessionState
    issuer: str | None
    account: str | None = None
    expires_at: datetime | None = None
    refreshable: bool = False
    message: str = ""
    last_error: LastError | None = None
    login: LoginInfo | None = None
    session_ends_at: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON shape of docs/protocol.md (camelCase, RFC 3339 UTC times)."""
        return {
            "profile": self.profile,
            "state": self.state.value,
            "account": self.account,
            "issuer": self.issuer,
            "expiresAt": utc_iso(self.expires_at),
            "refreshable": self.refreshable,
            "sessionEndsAt": utc_iso(self.session_ends_at),
            "message": self.message,
            "lastError": None if self.last_error is None else {
                "code": self.last_error.code,
                "message": self.last_error.message,
                "at": self.last_error.at,
                "correlationId": self.last_error.correlation_id,
                "requestId": self.last_error.request_id,
            },
            "login": None if self.login is None else {
                "userCode": self.login.user_code,
                "verificationUri": self.login.verification_uri,
                "verificationUriComplete": self.login.verification_uri_complete,
                "expiresAt": utc_iso(self.login.expires_at),
                "flow": self.login.flow,
                "authorizationUri": self.login.authorization_uri,
            },
        }

    def same_as(self, other: Status | None) -> bool:
        """Equal in everything but the wording of ``message`` (which ages with time).

        Compares the times themselves, not their wire form: two renewals within one
        second differ only below the second that RFC 3339 output shows.
        """
        if other is None:
            return False
        return replace(self, message="") == replace(other, message="")


def humanize(seconds: float) -> str:
    """'52 min', '3 h 5 min', '40 s', '2 d'."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{round(hours / 24)} d"


class Wording:
    """How a surface asks the user to sign in: an editor has a "Sign in" command."""

    def signed_out(self, profile: str) -> str:
        """What follows "Signed out"."""
        return " · run Sign in"

    def expired(self, profile: str) -> str:
        """What follows "Session expired (reason)"."""
        return ": sign in again"

    def extend(self, profile: str) -> str:
        """What follows "session ends in N" when it cannot be renewed."""
        return ": sign in again to extend"


class TerminalWording(Wording):
    """A shell has commands: name the one to run."""

    def signed_out(self, profile: str) -> str:
        """What follows "Signed out"."""
        return f" · run: {login_command(profile)}"

    def expired(self, profile: str) -> str:
        """What follows "Session expired (reason)"."""
        return f" · run: {login_command(profile)}"

    def extend(self, profile: str) -> str:
        """What follows "session ends in N" when it cannot be renewed."""
        return f" · to extend it, run: {login_command(profile, force=True)}"


EDITOR = Wording()
TERMINAL = TerminalWording()


def login_command(profile: str, *, force: bool = False) -> str:
    """The command that signs ``profile`` in, as a user would type it."""
    return f"tokenwarden login{' --force' if force else ''} --profile {profile}"


def describe(
    state: SessionState, *, account: str | None, now: datetime,
    expires_at: datetime | None, renew_at: datetime | None, refreshable: bool,
    last_error: LastError | None, login: LoginInfo | None,
    session_ends_at: datetime | None, profile: str = "default", wording: Wording = EDITOR,
) -> str:
    """The one human line a plain status bar (or a terminal) can show as it is."""
    who = f" as {account}" if account else ""
    if state is SessionState.SIGNED_OUT:
        if last_error is not None and last_error.code.startswith("revocation_"):
            return f"Signed out · {last_error.message}"
        return f"Signed out{wording.signed_out(profile)}"
    if state is SessionState.SIGNING_IN and login is not None:
        if login.user_code is None:
            return "Signing in: waiting for the browser…"
        return f"Signing in: enter code {login.user_code} at {login.verification_uri}"
    if state is SessionState.REFRESHING:
        return f"Signed in{who} · renewing…"
    if state is SessionState.EXPIRED:
        reason = f" ({last_error.message})" if last_error else ""
        return f"Session expired{reason}{wording.expired(profile)}"
    left = None if expires_at is None else (expires_at - now).total_seconds()
    if state is SessionState.DEGRADED:
        error = last_error.code if last_error else "renewal failing"
        valid = f"token valid {humanize(left)}" if left and left > 0 else "no valid token"
        return f"Renewal failing ({error}), retrying · {valid}"
    if not refreshable and session_ends_at is not None:
        return (f"Signed in{who} · session ends in "
                f"{humanize((session_ends_at - now).total_seconds())}"
                f"{wording.extend(profile)}")
    if renew_at is not None:
        return f"Signed in{who} · renews in {humanize((renew_at - now).total_seconds())}"
    return f"Signed in{who}"
