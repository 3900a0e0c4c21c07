"""The session manager: the one owner of every profile's tokens, state and renewals.

Every surface (LSP server, CLI, proxy) goes through a ``SessionManager``; none of
them computes expiry. It is made of parts that share one ``SessionRegistry``
(``registry.py``: each profile's runtime state, the store, the clock, status
listeners):

- ``renewal.Renewer``: single-flight, cross-process-locked renewal with back-off;
- ``signin.SignInFlow``: device sign-in and sign-out;
- ``watch.Watcher``: the background loop that renews and warns on schedule.

This module answers consumers: ``get_token`` serves the stored token while it is
good for the caller, renews first when it is not, and turns a session that cannot
be renewed into ``SignInRequired`` (or, for an interactive caller, a sign-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from tokenwarden.clock import Clock, SystemClock
from tokenwarden.config import Config, Profile
from tokenwarden.errors import SignInRequired, StoreError, TemporarilyUnavailable
from tokenwarden.events import AuthEventLog
from tokenwarden.lifecycle import expired
from tokenwarden.policy import RenewalPolicy, TokenState, fresh_until, satisfies, token_state
from tokenwarden.registry import (
    Event,
    ExpiryWarning,
    HandedOut,
    IssuedToken,
    Listener,
    ProfileSession,
    SessionRegistry,
    issued,
)
from tokenwarden.renewal import Renewer
from tokenwarden.signin import SignInFlow
from tokenwarden.status import SessionState, Status, Wording
from tokenwarden.store import TokenStore
from tokenwarden.watch import Watcher

if TYPE_CHECKING:
    from tokenwarden.browserflow import BrowserAuthorization
    from tokenwarden.oauth import DeviceAuthorization, Endpoints, OAuthClient

__all__ = ["Event", "ExpiryWarning", "IssuedToken", "Listener", "SessionManager"]

log = logging.getLogger(__name__)


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
        browser_timeout_seconds: float | None = None,
        wording: Wording | None = None,
    ) -> None:
        self._registry = SessionRegistry(
            config, store, clock or SystemClock(), policy or config.renewal_policy(),
            rng or random.Random(),  # noqa: S311 - jitter, not secrets
            client_factory or _default_client, events, warn_before_seconds,
        )
        if wording is not None:
            self._registry.wording = wording
        self._renewer = Renewer(self._registry, background=background)
        self._sign_in = SignInFlow(self._registry)
        if browser_timeout_seconds is not None:
            self._sign_in.browser_timeout = browser_timeout_seconds
        self._watcher = Watcher(self._registry, self._renewer)

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self._registry.config

    @property
    def store(self) -> TokenStore:
        """The token store every process shares."""
        return self._registry.store

    @property
    def clock(self) -> Clock:
        """The clock every decision reads."""
        return self._registry.clock

    @property
    def policy(self) -> RenewalPolicy:
        """When to renew, how long to back off."""
        return self._registry.policy

    @property
    def warn_before_seconds(self) -> float:
        """How long before a session ends that cannot be renewed the warning comes."""
        return self._registry.warn_before_seconds

    @warn_before_seconds.setter
    def warn_before_seconds(self, seconds: float) -> None:
        self._registry.warn_before_seconds = seconds

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every status change and expiry warning."""
        return self._registry.subscribe(listener)

    def session_names(self) -> list[str]:
        """Profiles this manager has touched."""
        return list(self._registry.sessions)

    def update_config(self, config: Config) -> None:
        """Adopt a new configuration (LSP didChangeConfiguration)."""
        self._registry.update_config(config)

    async def endpoints(self, name: str | None = None) -> Endpoints:
        """The provider endpoints of a profile (discovering them if needed)."""
        return await self._registry.client(self._session(name)).endpoints()

    def _session(self, name: str | None) -> ProfileSession:
        return self._registry.session(name)

    # ----------------------------------------------------------------- status

    def status(self, name: str | None = None) -> Status:
        """A profile's status, from the store and this process's state (no network)."""
        session = self._session(name)
        self._registry.current(session)
        return self._registry.status_of(session)

    def refresh_from_store(self, name: str) -> None:
        """The store file changed (another process): re-read, publish, re-plan."""
        session = self._registry.sessions.get(name)
        if session is None:
            return
        try:
            self._registry.current(session)
        except StoreError as exc:
            log.warning("%s", exc.message)
            return
        session.wakeup.set()
        self._registry.publish(session)

    # ------------------------------------------------------------------ tokens

    async def get_token(
        self, name: str | None = None, min_validity: float | None = None,
        *, interactive: bool = False,
    ) -> IssuedToken:
        """A token valid for ``min_validity`` seconds, renewing first when needed."""
        session = self._session(name)
        wanted = self.policy.default_min_validity if min_validity is None else min_validity
        record = self._registry.current(session, shared=False)
        if record is None:
            return await self._sign_in_or_raise(session, interactive)
        now = self.clock.now()
        handed = session.handed_out
        if handed is not None and handed.holds(record, wanted, self.policy, now):
            return handed.token
        state = token_state(record.times, now, self.policy, session.jitter)
        token = record.usable_token
        if token and not expired(record, now) and satisfies(record.times, now, wanted):
            if state is not TokenState.FRESH:
                await self._renewer.renew_in_background(session)
                return issued(session.record or record)
            until = fresh_until(record.times, self.policy, session.jitter, wanted)
            session.handed_out = HandedOut(record, wanted, self.policy, until, issued(record))
            return session.handed_out.token
        try:
            record = await self._renewer.renew(session, wanted=wanted)
        except SignInRequired:
            return await self._sign_in_or_raise(session, interactive)
        except TemporarilyUnavailable:
            fallback = session.record
            if fallback and fallback.usable_token and not expired(fallback, self.clock.now()):
                return issued(fallback)
            raise
        return issued(record)

    async def token_rejected(self, name: str | None, access_token: str) -> IssuedToken:
        """A consumer got 401 with ``access_token``: renew now unless that already happened.

        One forced renewal per rejected token: a token issued since is answered as it is,
        and a token that such a renewal produced is not renewed again when it is rejected
        too (its rejection reaches the consumer). The stored back-off is honoured.
        """
        session = self._session(name)
        record = self._registry.current(session)
        if record is not None and record.access_token != access_token and record.usable_token:
            log.info("rejected token of profile %s is not the current one; serving current",
                     session.profile.name)
            return await self.get_token(name)
        if record is not None and record.access_token == access_token and record.forced:
            # One forced renewal per rejected token: this one came from such a renewal.
            return issued(record)
        self._registry.audit("rejection", session.profile.name, "renewing",
                             detail="a consumer reported 401 for the current token")
        return issued(await self._renewer.renew(session, rejected=access_token, force=True))

    async def refresh(self, name: str | None = None) -> Status:
        """Renew now, whatever the schedule says (the user asked)."""
        session = self._session(name)
        if self._registry.current(session) is None:
            status = self._registry.status_of(session)
            raise SignInRequired(
                "not signed in" if status.state is SessionState.SIGNED_OUT else status.message,
                profile=session.profile.name, state=status.state.value)
        with contextlib.suppress(TemporarilyUnavailable):
            await self._renewer.renew(session, force=True)
        return self._registry.publish(session)

    async def _sign_in_or_raise(self, session: ProfileSession, interactive: bool) -> IssuedToken:
        if not interactive:
            status = self._registry.publish(session)
            raise SignInRequired(
                f"sign-in required for profile '{session.profile.name}': {status.message}",
                profile=session.profile.name, state=status.state.value,
            )
        if session.login_task is None or session.login_task.done():
            await self._sign_in.start(session)
        status = await self._sign_in.wait(session)
        record = self._registry.current(session)
        if status.state is not SessionState.SIGNED_IN or record is None or not record.usable_token:
            raise SignInRequired(
                f"sign-in did not complete: {status.message}",
                profile=session.profile.name, state=status.state.value,
            )
        return issued(record)

    # ---------------------------------------------------------- sign-in / out

    async def start_login(
        self, name: str | None = None, *, force: bool = False, flow: str | None = None,
        browser_possible: bool = False,
    ) -> DeviceAuthorization | BrowserAuthorization | Status:
        """Begin a sign-in; waiting for the user goes on in the background.

        ``flow`` overrides the profile's; ``browser_possible`` says whether the
        caller can open a browser where the user sits (``auto`` needs to know).
        """
        return await self._sign_in.start(self._session(name), force=force, flow=flow,
                                         browser_possible=browser_possible)

    async def wait_login(self, name: str | None = None) -> Status:
        """Wait for the sign-in in progress to end; the resulting status."""
        return await self._sign_in.wait(self._session(name))

    async def cancel_login(self, name: str | None = None) -> bool:
        """Stop a sign-in in progress; True when there was one."""
        return await self._sign_in.cancel(self._session(name))

    async def logout(self, name: str | None = None, *, revoke: bool = True) -> Status:
        """Forget a profile's tokens (revoking the refresh token at the provider)."""
        return await self._sign_in.sign_out(self._session(name), revoke=revoke)

    # ------------------------------------------------------------- background

    def watch(self, name: str | None = None) -> None:
        """Keep a profile renewed and warned about in the background (long-lived processes)."""
        self._watcher.watch(self._session(name))

    async def close(self) -> None:
        """Stop background work and close connections.

        A renewal in flight is allowed to finish first: cancelling it after the
        provider rotated the refresh token would lose the new one, and the next
        process to renew would present the old one and trip reuse detection.
        """
        self._registry.closed = True
        sessions = self._registry.sessions.values()
        inflight = [s.inflight for s in sessions if s.inflight is not None]
        if inflight:
            await asyncio.wait(inflight, timeout=self.policy.http_timeout_seconds + 1)
        tasks = [t for s in sessions for t in (s.loop_task, s.login_task, s.inflight)
                 if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        for session in sessions:
            if session.client is not None:
                with contextlib.suppress(Exception):
                    await session.client.aclose()
                session.client = None


def _default_client(profile: Profile, timeout: float) -> OAuthClient:
    from tokenwarden.oauth import OAuthClient

    return OAuthClient(profile, timeout=timeout)
