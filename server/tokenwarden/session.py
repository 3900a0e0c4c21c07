"""The session manager: the one owner of every profile's tokens, state and renewals.

Every surface (LSP server, CLI, proxy) goes through a ``SessionManager``; none of
them computes expiry. Renewal follows one path whatever triggered it (schedule,
``get_token`` in the mandatory window, a reported 401, a user's "refresh"):

1. single-flight inside the process: concurrent callers share one attempt;
2. take the profile's cross-process file lock;
3. re-read the store: another window or CLI run may already have rotated the
   refresh token, in which case its fresh token is used and no request is sent;
4. refresh, write the new record atomically, release the lock.

A failed renewal never clears credentials unless the provider answered
``invalid_grant`` for the very refresh token that is still in the store; a
transient failure backs off (jittered, capped, ``Retry-After`` honoured), records
the back-off in the store so other processes honour it too, and keeps serving the
still-valid access token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tokenwarden.clock import Clock, SystemClock, utc_iso
from tokenwarden.config import Config, Profile
from tokenwarden.errors import (
    LoginFailed,
    OAuthError,
    SignInRequired,
    StoreError,
    TemporarilyUnavailable,
    TerminalOAuthError,
    TokenwardenError,
)
from tokenwarden.events import AuthEventLog
from tokenwarden.lifecycle import (
    expired,
    is_refreshable,
    record_from_response,
    refresh_token_expired,
    session_end,
    session_state,
)
from tokenwarden.policy import (
    RenewalPolicy,
    TokenState,
    backoff_delay,
    next_wake,
    renew_at,
    satisfies,
    token_state,
    warn_at,
)
from tokenwarden.status import LoginInfo, SessionState, Status, describe
from tokenwarden.store import LastError, TokenRecord, TokenStore

if TYPE_CHECKING:
    from tokenwarden.oauth import DeviceAuthorization, Endpoints, OAuthClient, TokenResponse

log = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.02
WAKE_SLACK_SECONDS = 5.0
WARNING_SAME_END_SECONDS = 60.0


@dataclass(frozen=True)
class IssuedToken:
    """An access token handed to a consumer."""

    access_token: str = field(repr=False)
    token_type: str
    expires_at: datetime | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ExpiryWarning:
    """A session will end (or has ended) and cannot be renewed silently."""

    status: Status
    ends_at: datetime
    ended: bool


Event = Status | ExpiryWarning
Listener = Callable[[Event], None]


@dataclass
class _ProfileSession:
    """Runtime state of one profile inside this process."""

    profile: Profile
    jitter: float
    record: TokenRecord | None = None
    record_mtime: int | None = -1
    refreshing: bool = False
    login: LoginInfo | None = None
    login_task: asyncio.Task[Status] | None = None
    login_error: LastError | None = None
    inflight: asyncio.Task[TokenRecord] | None = None
    client: OAuthClient | None = None
    last_status: Status | None = None
    warned_for: tuple[datetime, bool] | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    loop_task: asyncio.Task[None] | None = None


class SessionManager:
    """Owns the sessions of every profile of one configuration in this process."""

    def __init__(
        self,
        config: Config,
        store: TokenStore,
        *,
        clock: Clock | None = None,
        policy: RenewalPolicy | None = None,
        rng: random.Random | None = None,
        background: bool = False,
        warn_before_seconds: float = 300.0,
        client_factory: Callable[[Profile, float], OAuthClient] | None = None,
        events: AuthEventLog | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.policy = policy or config.renewal_policy()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.background = background
        self.warn_before_seconds = warn_before_seconds
        self._client_factory = client_factory or _default_client
        self._sessions: dict[str, _ProfileSession] = {}
        self._listeners: list[Listener] = []
        self._closed = False
        self._events = events

    def _audit(self, event: str, profile: str, outcome: str, **fields: str | None) -> None:
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

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a surface's bug must not break the engine
                log.exception("status listener failed")

    def _publish(self, session: _ProfileSession, *, force: bool = False) -> Status:
        status = self._status_of(session)
        if force or not status.same_as(session.last_status):
            session.last_status = status
            self._emit(status)
        return status

    # --------------------------------------------------------------- profiles

    def session_names(self) -> list[str]:
        """Profiles this manager has touched."""
        return list(self._sessions)

    def _session(self, name: str | None) -> _ProfileSession:
        profile = self.config.profile(name)
        session = self._sessions.get(profile.name)
        if session is None:
            session = _ProfileSession(profile=profile, jitter=self.rng.random())
            self._sessions[profile.name] = session
        elif session.profile != profile:
            session.profile = profile
            session.client = None
        return session

    def update_config(self, config: Config) -> None:
        """Adopt a new configuration (LSP didChangeConfiguration)."""
        self.config = config
        for name, session in list(self._sessions.items()):
            if name in config.profiles:
                new = config.profiles[name]
                if new != session.profile:
                    session.profile = new
                    session.client = None
                    session.wakeup.set()

    def _current(self, session: _ProfileSession) -> TokenRecord | None:
        """The stored record, re-read only when the file changed (one stat call)."""
        name = session.profile.name
        mtime = self.store.mtime_ns(name)
        if mtime != session.record_mtime:
            session.record = self._read_matching(session)
            session.record_mtime = mtime
        return session.record

    def _read_matching(self, session: _ProfileSession) -> TokenRecord | None:
        record = self.store.read(session.profile.name)
        if record is not None and record.issuer.rstrip("/") != session.profile.issuer.rstrip("/"):
            log.warning("stored session of profile %s belongs to another issuer; ignoring it",
                        session.profile.name)
            return None
        return record

    async def _client(self, session: _ProfileSession) -> OAuthClient:
        if session.client is None:
            session.client = self._client_factory(
                session.profile, self.policy.http_timeout_seconds
            )
        return session.client

    async def endpoints(self, name: str | None = None) -> Endpoints:
        """The provider endpoints of a profile (discovering them if needed)."""
        return await (await self._client(self._session(name))).endpoints()

    # ----------------------------------------------------------------- status

    def status(self, name: str | None = None) -> Status:
        """A profile's status, from the store and this process's state (no network)."""
        session = self._session(name)
        self._current(session)
        return self._status_of(session)

    def refresh_from_store(self, name: str) -> None:
        """The store file changed (another process): re-read, publish, re-plan."""
        session = self._sessions.get(name)
        if session is None:
            return
        try:
            self._current(session)
        except StoreError as exc:
            log.warning("%s", exc.message)
            return
        session.wakeup.set()
        self._publish(session)

    def _status_of(self, session: _ProfileSession) -> Status:
        now = self.clock.now()
        record = session.record
        profile = session.profile
        state = _state(session, now)
        refreshable = record is not None and is_refreshable(record, now)
        last_error = session.login_error or (record.last_error if record else None)
        ends = session_end(record, now) if record else None
        renew = (
            renew_at(record.times, self.policy, session.jitter)
            if record and refreshable else None
        )
        expires = record.expires_at if record and record.access_token else None
        account = record.account if record else None
        return Status(
            profile=profile.name,
            state=state,
            issuer=profile.issuer,
            account=account,
            expires_at=expires,
            refreshable=refreshable,
            last_error=last_error if state is not SessionState.SIGNED_OUT else session.login_error,
            login=session.login,
            session_ends_at=ends,
            message=describe(
                state, account=account, now=now, expires_at=expires, renew_at=renew,
                refreshable=refreshable, last_error=last_error, login=session.login,
                session_ends_at=ends,
            ),
        )

    # ------------------------------------------------------------------ tokens

    async def get_token(
        self, name: str | None = None, min_validity: float | None = None,
        *, interactive: bool = False,
    ) -> IssuedToken:
        """A token valid for ``min_validity`` seconds, renewing first when needed."""
        session = self._session(name)
        wanted = self.policy.default_min_validity if min_validity is None else min_validity
        record = self._current(session)
        if record is None:
            return await self._sign_in_or_raise(session, interactive)
        now = self.clock.now()
        state = token_state(record.times, now, self.policy, session.jitter)
        token = record.usable_token
        if token and not expired(record, now) and satisfies(record.times, now, wanted):
            if state is not TokenState.FRESH:
                await self._renew_in_background(session)
                record = session.record or record
            return _issued(record)
        try:
            record = await self._renew(session, wanted=wanted)
        except SignInRequired:
            return await self._sign_in_or_raise(session, interactive)
        except TemporarilyUnavailable:
            fallback = session.record
            if fallback and fallback.usable_token and not expired(fallback, self.clock.now()):
                return _issued(fallback)
            raise
        return _issued(record)

    async def token_rejected(self, name: str | None, access_token: str) -> IssuedToken:
        """A consumer got 401 with ``access_token``: renew now unless that already happened."""
        session = self._session(name)
        record = self._current(session)
        if record is not None and record.access_token != access_token and record.usable_token:
            log.info("rejected token of profile %s is not the current one; serving current",
                     session.profile.name)
            return await self.get_token(name)
        self._audit("rejection", session.profile.name, "renewing",
                    detail="a consumer reported 401 for the current token")
        return _issued(await self._renew(session, rejected=access_token, force=True))

    async def refresh(self, name: str | None = None) -> Status:
        """Renew now, whatever the schedule says (the user asked)."""
        session = self._session(name)
        if self._current(session) is None:
            raise SignInRequired("not signed in", profile=session.profile.name,
                                 state=SessionState.SIGNED_OUT.value)
        with contextlib.suppress(TemporarilyUnavailable):
            await self._renew(session, force=True)
        return self._publish(session)

    async def _sign_in_or_raise(self, session: _ProfileSession, interactive: bool) -> IssuedToken:
        if not interactive:
            status = self._publish(session)
            raise SignInRequired(
                f"sign-in required for profile '{session.profile.name}': {status.message}",
                profile=session.profile.name, state=status.state.value,
            )
        if session.login_task is None or session.login_task.done():
            await self.start_login(session.profile.name)
        status = await self.wait_login(session.profile.name)
        record = self._current(session)
        if status.state is not SessionState.SIGNED_IN or record is None or not record.usable_token:
            raise SignInRequired(
                f"sign-in did not complete: {status.message}",
                profile=session.profile.name, state=status.state.value,
            )
        return _issued(record)

    async def _renew_in_background(self, session: _ProfileSession) -> None:
        """Advisory window: renew without making the caller wait, if nobody else is."""
        if session.inflight is not None:
            return
        record = session.record
        if record and record.next_attempt_at and record.next_attempt_at > self.clock.now():
            return
        if self.background:
            task = self._start_renewal(session, wanted=0.0, force=False, rejected=None,
                                       blocking_lock=False)
            task.add_done_callback(_swallow)
            return
        # A one-shot process (CLI) has no future to renew in: try now, but only if no
        # other process holds the lock, and keep the valid token whatever happens.
        task = self._start_renewal(session, wanted=0.0, force=False, rejected=None,
                                   blocking_lock=False)
        with contextlib.suppress(TokenwardenError):
            await asyncio.shield(task)

    async def _renew(
        self, session: _ProfileSession, *, wanted: float = 0.0, force: bool = False,
        rejected: str | None = None,
    ) -> TokenRecord:
        """Renew under single-flight; callers share the attempt in progress.

        A shared attempt may end without serving this caller (an advisory attempt that
        found the lock busy, or one started before a 401 was reported): then one more
        attempt of this caller's own follows.
        """
        for _ in range(2):
            task = session.inflight or self._start_renewal(
                session, wanted=wanted, force=force, rejected=rejected, blocking_lock=True
            )
            record = await asyncio.shield(task)
            if rejected is not None and record.access_token == rejected:
                continue
            if not force and not satisfies(record.times, self.clock.now(), wanted):
                continue
            return record
        return record

    def _start_renewal(
        self, session: _ProfileSession, *, wanted: float, force: bool,
        rejected: str | None, blocking_lock: bool,
    ) -> asyncio.Task[TokenRecord]:
        task = asyncio.get_running_loop().create_task(
            self._renew_locked(session, wanted, force, rejected, blocking_lock)
        )
        session.inflight = task

        def clear(done: asyncio.Task[TokenRecord]) -> None:
            if session.inflight is done:
                session.inflight = None

        task.add_done_callback(clear)
        return task

    async def _renew_locked(
        self, session: _ProfileSession, wanted: float, force: bool,
        rejected: str | None, blocking_lock: bool,
    ) -> TokenRecord:
        name = session.profile.name
        lock = self.store.file_lock(name)
        if not await self._acquire(lock, blocking_lock):
            record = session.record
            if record is None:
                raise TemporarilyUnavailable("another process is renewing", retry_after=1.0)
            return record
        try:
            # Re-read the store after taking the lock: another window or CLI run may
            # have rotated the refresh token while we waited.
            record = self._read_matching(session)
            session.record, session.record_mtime = record, self.store.mtime_ns(name)
            return await self._renew_with_lock(session, record, wanted, force, rejected)
        finally:
            lock.release()
            session.record_mtime = self.store.mtime_ns(name)

    async def _acquire(self, lock: Any, blocking: bool) -> bool:
        import filelock

        deadline = self.clock.monotonic() + (self.policy.lock_timeout_seconds if blocking else 0)
        while True:
            try:
                lock.acquire(timeout=0)
                return True
            except filelock.Timeout:
                if not blocking:
                    return False
                if self.clock.monotonic() >= deadline:
                    raise TemporarilyUnavailable(
                        "another process has held the token lock for "
                        f"{self.policy.lock_timeout_seconds:.0f} s", retry_after=5.0,
                    ) from None
                await asyncio.sleep(LOCK_POLL_SECONDS)

    async def _renew_with_lock(
        self, session: _ProfileSession, record: TokenRecord | None, wanted: float,
        force: bool, rejected: str | None,
    ) -> TokenRecord:
        name = session.profile.name
        now = self.clock.now()
        if record is None or not (record.access_token or record.refresh_token):
            raise SignInRequired("not signed in", profile=name,
                                 state=SessionState.SIGNED_OUT.value)
        if rejected is not None and record.access_token == rejected and not record.rejected:
            record = record.next_generation(rejected=True)
            self.store.write(record)
            session.record = record
        elif rejected is not None and record.access_token != rejected and record.usable_token:
            return record  # someone renewed since the consumer got its 401
        if rejected is None and not force and self._still_good(session, record, now, wanted):
            return record  # renewed by another process while we waited for the lock
        if not record.refresh_token or refresh_token_expired(record, now):
            self._publish(session)
            raise SignInRequired("the session cannot be renewed: sign in again",
                                 profile=name, state=SessionState.EXPIRED.value)
        if rejected is None and not force and record.next_attempt_at and (
            record.next_attempt_at > now
        ):
            wait = (record.next_attempt_at - now).total_seconds()
            raise TemporarilyUnavailable(
                f"renewal is backing off after a failure; next attempt in {wait:.1f} s",
                retry_after=wait,
            )
        return await self._send_refresh(session, record)

    def _still_good(
        self, session: _ProfileSession, record: TokenRecord, now: datetime, wanted: float
    ) -> bool:
        if not record.usable_token or expired(record, now):
            return False
        state = token_state(record.times, now, self.policy, session.jitter)
        return state is TokenState.FRESH and satisfies(record.times, now, wanted)

    async def _send_refresh(self, session: _ProfileSession, record: TokenRecord) -> TokenRecord:
        assert record.refresh_token is not None
        correlation = uuid.uuid4().hex[:12]
        session.refreshing = True
        self._publish(session)
        client = await self._client(session)
        # Expiry counts from when the request was sent, not when the answer arrived: a
        # laptop suspended mid-request would otherwise stretch the token's life.
        sent_at = self.clock.now()
        try:
            log.info("renewing profile %s [%s]", session.profile.name, correlation)
            response = await client.refresh(record.refresh_token)
        except OAuthError as exc:
            session.refreshing = False
            self._record_failure(session, record, exc, correlation)
            raise self._as_surface_error(session, exc) from None
        except asyncio.CancelledError:
            session.refreshing = False
            raise
        session.refreshing = False
        new = record_from_response(record, response, sent_at)
        self.store.write(new)
        session.record = new
        log.info("renewed profile %s [%s], valid %s s", session.profile.name, correlation,
                 response.expires_in)
        self._audit("renewal", session.profile.name, "ok", correlation_id=correlation,
                    request_id=response.request_id, detail=f"valid {response.expires_in} s")
        self._publish(session)
        return new

    def _record_failure(
        self, session: _ProfileSession, record: TokenRecord, exc: OAuthError, correlation: str
    ) -> None:
        now = self.clock.now()
        error = LastError(code=exc.code, message=exc.message, at=utc_iso(now) or "",
                          correlation_id=correlation, request_id=exc.details.request_id)
        if isinstance(exc, TerminalOAuthError) and exc.details.error == "invalid_grant":
            # Definitive: the provider refused the very refresh token the store still
            # holds (we hold the lock), so the grant is over. Stop serving its tokens.
            new = record.next_generation(
                refresh_token=None, rejected=True, failures=0, next_attempt_at=None,
                last_error=error, ended="invalid_grant",
            )
            log.warning("profile %s: refresh token refused (invalid_grant) [%s]; "
                        "sign-in required", session.profile.name, correlation)
            self._audit("renewal", session.profile.name, "ended", correlation_id=correlation,
                        request_id=exc.details.request_id, detail=exc.message)
        else:
            failures = record.failures + 1
            delay = backoff_delay(
                failures, record.times.lifetime, self.policy, self.rng.random(),
                retry_after=exc.retry_after,
            )
            if isinstance(exc, TerminalOAuthError):
                delay = max(delay, self.policy.backoff_cap_seconds)
            new = record.next_generation(
                failures=failures, last_error=error,
                next_attempt_at=now + timedelta(seconds=delay),
            )
            log.warning("profile %s: renewal failed (%s) [%s]; retrying in %.1f s",
                        session.profile.name, exc.code, correlation, delay)
            self._audit("renewal", session.profile.name, "retrying", correlation_id=correlation,
                        request_id=exc.details.request_id,
                        detail=f"{exc.message}; next attempt in {delay:.1f} s")
        self.store.write(new)
        session.record = new
        self._publish(session)

    def _as_surface_error(self, session: _ProfileSession, exc: OAuthError) -> TokenwardenError:
        record = session.record
        if record is not None and record.refresh_token is None:
            return SignInRequired(
                f"the provider ended the session ({exc.message}); sign in again",
                profile=session.profile.name, state=SessionState.EXPIRED.value,
            )
        wait = 1.0
        if record is not None and record.next_attempt_at is not None:
            wait = max(0.0, (record.next_attempt_at - self.clock.now()).total_seconds())
        return TemporarilyUnavailable(f"renewal failed: {exc.message}", retry_after=wait)

    # ------------------------------------------------------------------ sign-in

    async def start_login(self, name: str | None = None, *, force: bool = False) -> (
        DeviceAuthorization | Status
    ):
        """Begin a device sign-in; polling goes on in the background."""
        from tokenwarden.oauth import DeviceAuthorization

        session = self._session(name)
        with contextlib.suppress(StoreError):
            self._current(session)
        status = self._status_of(session)
        if not force and status.state in (SessionState.SIGNED_IN, SessionState.REFRESHING):
            return status
        if session.login_task is not None and not session.login_task.done():
            await self.cancel_login(name)
        client = await self._client(session)
        authorization = await client.device_authorize()
        now = self.clock.now()
        session.login_error = None
        session.login = LoginInfo(
            user_code=authorization.user_code,
            verification_uri=authorization.verification_uri,
            verification_uri_complete=authorization.verification_uri_complete,
            expires_at=now + timedelta(seconds=authorization.expires_in),
            expires_in=authorization.expires_in,
            interval=authorization.interval,
        )
        session.login_task = asyncio.get_running_loop().create_task(
            self._complete_login(session, client, authorization)
        )
        self._audit("sign-in", session.profile.name, "started")
        self._publish(session)
        assert isinstance(authorization, DeviceAuthorization)
        return authorization

    async def wait_login(self, name: str | None = None) -> Status:
        """Wait for the sign-in in progress to end; the resulting status."""
        session = self._session(name)
        task = session.login_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return self._status_of(session)

    async def cancel_login(self, name: str | None = None) -> bool:
        """Stop a sign-in in progress; True when there was one."""
        session = self._session(name)
        task = session.login_task
        if task is None or task.done():
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TokenwardenError):
            await task
        if session.login is not None:  # cancelled before its first step ran
            session.login = None
            self._publish(session)
        return True

    async def _complete_login(
        self, session: _ProfileSession, client: OAuthClient, authorization: DeviceAuthorization
    ) -> Status:
        from tokenwarden.device import wait_for_approval

        try:
            response = await wait_for_approval(client, authorization, self.clock)
        except LoginFailed as exc:
            session.login = None
            session.login_error = LastError(code=exc.code, message=exc.message,
                                            at=utc_iso(self.clock.now()) or "")
            log.info("sign-in of profile %s ended: %s", session.profile.name, exc.code)
            self._audit("sign-in", session.profile.name, exc.code, detail=exc.message)
            return self._publish(session)
        except asyncio.CancelledError:
            session.login = None
            session.login_error = LastError(code="cancelled", message="sign-in cancelled",
                                            at=utc_iso(self.clock.now()) or "")
            self._publish(session)
            raise
        account = await self._account_of(client, response)
        record = await self._save_login(session, response, account)
        session.login = None
        session.login_error = None
        session.record = record
        session.warned_for = None
        session.wakeup.set()
        log.info("profile %s signed in", session.profile.name)
        self._audit("sign-in", session.profile.name, "ok", request_id=response.request_id,
                    detail=f"account {account}" if account else None)
        return self._publish(session)

    async def _account_of(self, client: OAuthClient, response: TokenResponse) -> str | None:
        from tokenwarden.jwt import unverified_claims
        from tokenwarden.oauth import account_label

        if response.id_token:
            label = account_label(unverified_claims(response.id_token) or {})
            if label:
                return label
        try:
            return account_label(await client.userinfo(response.access_token))
        except OAuthError as exc:
            log.info("could not read the account name (%s)", exc.code)
            return None

    async def _save_login(
        self, session: _ProfileSession, response: TokenResponse, account: str | None
    ) -> TokenRecord:
        name = session.profile.name
        lock = self.store.file_lock(name)
        await self._acquire(lock, True)
        try:
            try:
                previous = self.store.read(name)
            except StoreError:
                aside = self.store.quarantine(name)
                log.warning("unreadable record of profile %s moved to %s", name, aside)
                previous = None
            record = record_from_response(None, response, self.clock.now(),
                                                account=account, profile=session.profile)
            if previous is not None:
                record = replace(record, generation=previous.generation + 1)
            self.store.write(record)
            return record
        finally:
            lock.release()
            session.record_mtime = self.store.mtime_ns(name)

    # ----------------------------------------------------------------- sign-out

    async def logout(self, name: str | None = None, *, revoke: bool = True) -> Status:
        """Forget a profile's tokens (revoking the refresh token at the provider)."""
        session = self._session(name)
        await self.cancel_login(name)
        session.login_error = None
        lock = self.store.file_lock(session.profile.name)
        await self._acquire(lock, True)
        try:
            try:
                record = self.store.read(session.profile.name)
            except StoreError:
                record = None
            self.store.delete(session.profile.name)
        finally:
            lock.release()
        session.record, session.record_mtime = None, None
        if revoke and record is not None:
            await self._revoke(session, record)
        session.wakeup.set()
        log.info("profile %s signed out", session.profile.name)
        self._audit("sign-out", session.profile.name, "ok")
        return self._publish(session)

    async def _revoke(self, session: _ProfileSession, record: TokenRecord) -> None:
        client = await self._client(session)
        token, hint = (record.refresh_token, "refresh_token") if record.refresh_token else (
            record.access_token, "access_token")
        if not token:
            return
        try:
            await client.revoke(token, hint)
        except (OAuthError, TokenwardenError) as exc:
            log.warning("could not revoke the token of profile %s at the provider (%s); "
                        "it was removed locally", session.profile.name, exc.code)

    # ------------------------------------------------------- background renewal

    def watch(self, name: str | None = None) -> None:
        """Keep a profile renewed and warned about in the background (long-lived processes)."""
        session = self._session(name)
        if session.loop_task is None or session.loop_task.done():
            session.loop_task = asyncio.get_running_loop().create_task(self._watch(session))

    async def _watch(self, session: _ProfileSession) -> None:
        last_wall, last_mono = self.clock.now(), self.clock.monotonic()
        while not self._closed:
            try:
                pause = await self._tick(session)
            except Exception:
                log.exception("renewal check of profile %s failed", session.profile.name)
                pause = self.policy.max_sleep_seconds
            await self._sleep(session, pause)
            wall, mono = self.clock.now(), self.clock.monotonic()
            drift = (wall - last_wall).total_seconds() - (mono - last_mono)
            if drift < -WAKE_SLACK_SECONDS:
                # The wall clock went back: stored expiry times now overstate what is
                # left, so renew rather than trust them.
                session.wakeup.set()
                with contextlib.suppress(TokenwardenError):
                    await self._renew(session, force=True)
            if abs(drift) > WAKE_SLACK_SECONDS:
                log.info("wall clock moved %.0f s more than the monotonic clock "
                         "(sleep/wake or clock change); re-checking", drift)
                self._audit("clock", session.profile.name, "jump",
                            detail=f"wall clock moved {drift:.0f} s beyond monotonic time")
            last_wall, last_mono = wall, mono

    async def _tick(self, session: _ProfileSession) -> float:
        """One look at a profile: renew or warn if due; seconds until the next look."""
        try:
            record = self._current(session)
        except StoreError as exc:
            log.warning("%s", exc.message)
            return self.policy.max_sleep_seconds
        now = self.clock.now()
        self._publish(session)
        if record is None or session.login is not None:
            return self.policy.max_sleep_seconds
        moments: list[datetime | None] = []
        refreshable = is_refreshable(record, now)
        if refreshable:
            due = renew_at(record.times, self.policy, session.jitter)
            if record.next_attempt_at and (due is None or record.next_attempt_at > due):
                due = record.next_attempt_at
            if record.rejected and record.next_attempt_at is None:
                due = now
            if due is not None and due <= now and session.inflight is None:
                with contextlib.suppress(TokenwardenError):
                    await self._renew(session, wanted=0.0, force=False)
                record = session.record or record
                due = renew_at(record.times, self.policy, session.jitter)
                if record.next_attempt_at and (due is None or record.next_attempt_at > due):
                    due = record.next_attempt_at
            moments.append(due)
        self._maybe_warn(session, now)
        ends = session_end(record, now)
        moments.append(warn_at(ends, self.warn_before_seconds))
        moments.append(ends)
        moments.append(record.expires_at)
        return next_wake(now, [m for m in moments if m is None or m > now], self.policy)

    def _maybe_warn(self, session: _ProfileSession, now: datetime) -> None:
        """Warn once before a session ends that cannot be renewed, and once when it has."""
        record = session.record
        if record is None or session.login is not None:
            return
        ends = session_end(record, now)
        if ends is None:
            return
        ended = now >= ends or _state(session, now) is SessionState.EXPIRED
        if _already_warned(session.warned_for, ends, ended):
            return
        start = warn_at(ends, self.warn_before_seconds)
        if ended or (start is not None and now >= start):
            session.warned_for = (ends, ended)
            status = self._publish(session)
            self._emit(ExpiryWarning(status=status, ends_at=min(ends, now) if ended else ends,
                                     ended=ended))

    async def _sleep(self, session: _ProfileSession, seconds: float) -> None:
        session.wakeup.clear()
        waiter = asyncio.ensure_future(session.wakeup.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()

    async def close(self) -> None:
        """Stop background work and close connections.

        A renewal in flight is allowed to finish first: cancelling it after the
        provider rotated the refresh token would lose the new one, and the next
        process to renew would present the old one and trip reuse detection.
        """
        self._closed = True
        inflight = [s.inflight for s in self._sessions.values() if s.inflight is not None]
        if inflight:
            await asyncio.wait(inflight, timeout=self.policy.http_timeout_seconds + 1)
        tasks = [t for s in self._sessions.values()
                 for t in (s.loop_task, s.login_task, s.inflight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        for session in self._sessions.values():
            if session.client is not None:
                with contextlib.suppress(Exception):
                    await session.client.aclose()
                session.client = None


def _state(session: _ProfileSession, now: datetime) -> SessionState:
    return session_state(session.record, signing_in=session.login is not None,
                         refreshing=session.refreshing, now=now)


def _already_warned(warned: tuple[datetime, bool] | None, ends: datetime, ended: bool) -> bool:
    """Whether this warning was already given.

    Renewals move a rotating refresh token's reported end by the request's duration,
    so ends within a minute of each other count as the same end.
    """
    if warned is None or warned[1] != ended:
        return False
    return abs((warned[0] - ends).total_seconds()) < WARNING_SAME_END_SECONDS


def _issued(record: TokenRecord) -> IssuedToken:
    assert record.access_token is not None
    return IssuedToken(record.access_token, record.token_type, record.expires_at, record.scopes)


def _swallow(task: asyncio.Task[TokenRecord]) -> None:
    if not task.cancelled():
        task.exception()


def _default_client(profile: Profile, timeout: float) -> OAuthClient:
    from tokenwarden.oauth import OAuthClient

    return OAuthClient(profile, timeout=timeout)

