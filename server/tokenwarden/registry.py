"""Each profile's runtime state in this process, and what every part of the session manager shares.

The session manager (``session.py``) is one owner made of parts: renewal
(``renewal.py``), sign-in and sign-out (``signin.py``) and the background watch
(``watch.py``). They all work on the ``ProfileSession`` objects kept here, read
the store through ``SessionRegistry.current`` (one ``stat`` when nothing changed),
and announce every change through ``publish``.

A stored grant is used only by a profile whose provider settings match those it
was obtained with (``lifecycle.binding_mismatch``): otherwise the record is left on
disk untouched, the profile reads as ``expired`` with the reason, and nothing of
the grant is sent anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tokenwarden import sharedlogin
from tokenwarden.clock import Clock, utc_iso
from tokenwarden.config import Config, Profile
from tokenwarden.errors import SignInRequired, StoreError, TemporarilyUnavailable
from tokenwarden.events import AuthEventLog
from tokenwarden.lifecycle import (
    binding_mismatch,
    is_refreshable,
    session_end,
    session_state,
    settings_changed_message,
)
from tokenwarden.policy import RenewalPolicy, renew_at
from tokenwarden.sharedlogin import SharedSignIn
from tokenwarden.status import EDITOR, LoginInfo, SessionState, Status, Wording, describe
from tokenwarden.store import UNREAD, FileStamp, LastError, TokenRecord, TokenStore

if TYPE_CHECKING:
    from tokenwarden.oauth import Endpoints, OAuthClient

log = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.02
#: A renewal holds the lock for tens of ms (a few hundred on a loaded machine): poll
#: fast that long, then less and less often, up to this. A holder that is stopped
#: (Ctrl-Z, a debugger) would otherwise cost every waiting window a poll each 20 ms
#: for the whole lock timeout (``bench/scale_bench.py`` saw 0.90 s of CPU in 1.2 s).
LOCK_POLL_FAST_SECONDS = 0.5
LOCK_POLL_MAX_SECONDS = 0.25


@dataclass(frozen=True)
class IssuedToken:
    """An access token handed to a consumer."""

    access_token: str = field(repr=False)
    token_type: str
    expires_at: datetime | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class HandedOut:
    """A fresh token given for ``record`` and ``min_validity``: the same answer until ``until``.

    Lets a consumer that asks for every request (the proxy) skip the classification.
    """

    record: TokenRecord
    min_validity: float
    policy: RenewalPolicy
    until: datetime | None
    token: IssuedToken

    def holds(self, record: TokenRecord, min_validity: float, policy: RenewalPolicy,
              now: datetime) -> bool:
        """Whether this is still the answer for ``record`` at ``now``."""
        return (self.record is record and self.min_validity == min_validity
                and self.policy is policy and (self.until is None or now < self.until))


@dataclass(frozen=True)
class ExpiryWarning:
    """A session will end (or has ended) and cannot be renewed silently."""

    status: Status
    ends_at: datetime
    ended: bool


Event = Status | ExpiryWarning
Listener = Callable[[Event], None]
ClientFactory = Callable[[Profile, float], "OAuthClient"]


@dataclass
class ProfileSession:
    """Runtime state of one profile inside this process."""

    profile: Profile
    jitter: float
    record: TokenRecord | None = None
    #: The record file's stamp when ``record`` was read (``UNREAD``: read it).
    record_stamp: FileStamp | None = UNREAD
    refreshing: bool = False
    login: LoginInfo | None = None
    #: Another process's sign-in of this profile, from its marker (``sharedlogin``).
    shared: SharedSignIn | None = None
    shared_stamp: FileStamp | None = UNREAD
    login_task: asyncio.Task[Status] | None = None
    #: The last fresh token handed out, and until when that answer holds.
    handed_out: HandedOut | None = None
    login_error: LastError | None = None
    inflight: asyncio.Task[TokenRecord] | None = None
    client: OAuthClient | None = None
    last_status: Status | None = None
    warned_for: tuple[datetime, bool] | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    loop_task: asyncio.Task[None] | None = None
    #: The stored grant belongs to other provider settings (the key that differs).
    mismatch: str | None = None
    #: The endpoints resolved for this profile, once known (compared with the binding).
    endpoints: Endpoints | None = None

    def state(self, now: datetime) -> SessionState:
        """The profile's state, as the status bar shows it."""
        shown = self.login_shown(now)
        if self.mismatch is not None and shown is None:
            return SessionState.EXPIRED
        return session_state(self.record, signing_in=shown is not None,
                             refreshing=self.refreshing, now=now)

    def login_shown(self, now: datetime) -> LoginInfo | None:
        """The sign-in in progress: this process's, else another's that has not expired."""
        if self.login is not None:
            return self.login
        if self.shared is not None and self.shared.login.expires_at > now:
            return self.shared.login
        return None


class SessionRegistry:
    """The profiles' sessions, the store, the clock, the policy, and status listeners."""

    def __init__(self, config: Config, store: TokenStore, clock: Clock, policy: RenewalPolicy,
                 rng: random.Random, client_factory: ClientFactory,
                 events: AuthEventLog | None, warn_before_seconds: float) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.policy = policy
        self.rng = rng
        self.warn_before_seconds = warn_before_seconds
        self.closed = False
        self.sessions: dict[str, ProfileSession] = {}
        self._client_factory = client_factory
        self._listeners: list[Listener] = []
        self._events = events
        #: How status messages ask for a sign-in (the CLI names its own command).
        self.wording: Wording = EDITOR

    def audit(self, event: str, profile: str, outcome: str, **fields: str | None) -> None:
        """Append to the auth event log (see events.py); never holds a secret."""
        if self._events is None:
            from tokenwarden.paths import locations

            self._events = AuthEventLog(locations().log_dir)
        self._events.record(event, profile=profile, outcome=outcome, **fields)

    # ----------------------------------------------------------------- events

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every status change and expiry warning."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every listener."""
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a surface's bug must not break the engine
                log.exception("status listener failed")

    def publish(self, session: ProfileSession, *, force: bool = False) -> Status:
        """The profile's status, emitted when it differs from the last one emitted."""
        status = self.status_of(session)
        if force or not status.same_as(session.last_status):
            session.last_status = status
            self.emit(status)
        return status

    # --------------------------------------------------------------- profiles

    def session(self, name: str | None) -> ProfileSession:
        """The session of profile ``name`` (the default profile for None), created on first use."""
        profile = self.config.profile(name)
        session = self.sessions.get(profile.name)
        if session is None:
            session = ProfileSession(profile=profile, jitter=self.rng.random())
            self.sessions[profile.name] = session
        elif session.profile is not profile and session.profile != profile:
            self._forget_settings(session, profile)
        return session

    @staticmethod
    def _forget_settings(session: ProfileSession, profile: Profile) -> None:
        session.profile = profile
        session.client = None
        session.endpoints = None
        session.record_stamp = UNREAD  # re-read: the record may not match the new settings

    def update_config(self, config: Config) -> None:
        """Adopt a new configuration; sessions whose profile changed start afresh."""
        self.config = config
        for name, session in list(self.sessions.items()):
            if name in config.profiles:
                new = config.profiles[name]
                if new != session.profile:
                    self._forget_settings(session, new)
                    session.wakeup.set()

    def current(self, session: ProfileSession, *, shared: bool = True) -> TokenRecord | None:
        """The stored record, re-read only when the file changed (one stat call).

        ``shared`` also re-reads another process's sign-in marker (a second stat): what
        a status shows, and what a token request needs only when there is no record.
        """
        name = session.profile.name
        stamp = self.store.stamp(name)
        if stamp != session.record_stamp:
            session.record = self.read_matching(session)
            session.record_stamp = stamp
        if shared or session.record is None:
            self.read_shared(session)
        return session.record

    def read_shared(self, session: ProfileSession, *, fresh: bool = False
                    ) -> SharedSignIn | None:
        """Another process's sign-in of the profile, re-read when its marker changed.

        ``fresh`` re-reads anyway: a marker whose process died does not change.
        """
        folder, name = self.store.folder, session.profile.name
        stamp = sharedlogin.stamp(folder, name)
        if fresh or stamp != session.shared_stamp:
            session.shared = sharedlogin.read_shared(folder, name, self.clock.now())
            session.shared_stamp = stamp
        return session.shared

    def read_matching(self, session: ProfileSession) -> TokenRecord | None:
        """The stored record, unless it was obtained with other provider settings.

        A record that does not match is left as it is on disk; the session remembers
        why (``mismatch``) and reads as None, so nothing of it is served or sent.
        """
        record = self.store.read(session.profile.name)
        session.mismatch = None if record is None else binding_mismatch(
            record, session.profile, session.endpoints)
        if session.mismatch is not None:
            log.info("stored session of profile %s was obtained with another %s; "
                     "not using it", session.profile.name, session.mismatch)
            return None
        return record

    def check_binding(self, session: ProfileSession, record: TokenRecord,
                      endpoints: Endpoints) -> None:
        """SignInRequired unless ``record``'s grant was obtained from ``endpoints``."""
        session.endpoints = endpoints
        session.mismatch = binding_mismatch(record, session.profile, endpoints)
        if session.mismatch is None:
            return
        log.info("stored session of profile %s was obtained with another %s; "
                 "not sending its grant", session.profile.name, session.mismatch)
        session.record = None
        self.publish(session)
        raise SignInRequired(settings_changed_message(session.profile.name),
                             profile=session.profile.name, state=SessionState.EXPIRED.value)

    def client(self, session: ProfileSession) -> OAuthClient:
        """The profile's OAuth client, made on first use."""
        if session.client is None:
            session.client = self._client_factory(
                session.profile, self.policy.http_timeout_seconds
            )
        return session.client

    async def acquire(self, lock: Any, blocking: bool) -> bool:
        """Take a profile's file lock without blocking the event loop; False when busy."""
        import filelock

        started = self.clock.monotonic()
        deadline = started + (self.policy.lock_timeout_seconds if blocking else 0)
        while True:
            try:
                lock.acquire(timeout=0)
                if blocking:
                    log.debug("waited %.1f ms for the lock of %s",
                              (self.clock.monotonic() - started) * 1000, lock.lock_file)
                return True
            except filelock.Timeout:
                if not blocking:
                    return False
                if self.clock.monotonic() >= deadline:
                    raise TemporarilyUnavailable(
                        "another process has held the token lock for "
                        f"{self.policy.lock_timeout_seconds:.0f} s", retry_after=5.0,
                    ) from None
            except OSError as exc:  # a read-only or foreign store folder: say which file
                raise StoreError(f"cannot take the lock {lock.lock_file}: "
                                 f"{exc.strerror or exc}") from None
            await asyncio.sleep(lock_poll_interval(self.clock.monotonic() - started))

    # ----------------------------------------------------------------- status

    def status_of(self, session: ProfileSession) -> Status:
        """The profile's status from what this process knows (no I/O)."""
        now = self.clock.now()
        if session.mismatch is not None and session.login_shown(now) is None:
            return self._mismatch_status(session, now)
        record = session.record
        profile = session.profile
        state = session.state(now)
        refreshable = record is not None and is_refreshable(record, now)
        last_error = session.login_error or (record.last_error if record else None)
        ends = session_end(record, now) if record else None
        renew = (
            renew_at(record.times, self.policy, session.jitter)
            if record and refreshable else None
        )
        expires = record.expires_at if record and record.access_token else None
        account = record.account if record else None
        login = session.login_shown(now)
        return Status(
            profile=profile.name,
            state=state,
            issuer=profile.issuer,
            account=account,
            expires_at=expires,
            refreshable=refreshable,
            last_error=last_error if state is not SessionState.SIGNED_OUT else session.login_error,
            login=login,
            session_ends_at=ends,
            message=describe(
                state, account=account, now=now, expires_at=expires, renew_at=renew,
                refreshable=refreshable, last_error=last_error, login=login,
                session_ends_at=ends, profile=profile.name, wording=self.wording,
            ),
        )


    def _mismatch_status(self, session: ProfileSession, now: datetime) -> Status:
        message = settings_changed_message(session.profile.name)
        error = LastError(code="provider_settings_changed", message=message,
                          at=utc_iso(now) or "")
        return Status(profile=session.profile.name, state=SessionState.EXPIRED,
                      issuer=session.profile.issuer, last_error=session.login_error or error,
                      message=message)


def lock_poll_interval(waited: float) -> float:
    """Seconds until the next try for a busy lock, after ``waited`` seconds of waiting."""
    if waited < LOCK_POLL_FAST_SECONDS:
        return LOCK_POLL_SECONDS
    return min(LOCK_POLL_MAX_SECONDS, LOCK_POLL_SECONDS * 2 ** (waited / LOCK_POLL_FAST_SECONDS))


def issued(record: TokenRecord) -> IssuedToken:
    """What a consumer gets of ``record`` (which has an access token)."""
    assert record.access_token is not None
    return IssuedToken(record.access_token, record.token_type, record.expires_at, record.scopes)
