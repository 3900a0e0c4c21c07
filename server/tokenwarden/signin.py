"""Sign-in (device code, RFC 8628, or browser, RFC 8252) and sign-out of a profile.

``start`` picks the flow (``flowchoice``), asks the provider for a code or opens the
redirect listener, and returns at once; waiting for the user goes on in a task of
its own, whose progress is published as the profile's status (``signingIn`` with the
code or the URL, then ``signedIn`` or the error). When ``auto`` chose a flow the
provider refuses for this client, the other flow is tried once, and the log says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from tokenwarden import sharedlogin
from tokenwarden.browserflow import (
    DEFAULT_TIMEOUT_SECONDS,
    FLOW_REFUSED_ERRORS,
    BrowserAuthorization,
    BrowserSignIn,
)
from tokenwarden.clock import utc_iso
from tokenwarden.errors import (
    ConfigError,
    LoginFailed,
    NewerStoreFormat,
    OAuthError,
    ServerError,
    StoreError,
    TokenwardenError,
    TransportError,
)
from tokenwarden.flowchoice import BROWSER, DEVICE, choose_flow
from tokenwarden.lifecycle import binding_mismatch, record_from_response
from tokenwarden.registry import ProfileSession, SessionRegistry
from tokenwarden.status import LoginInfo, SessionState, Status
from tokenwarden.store import LastError, TokenRecord

if TYPE_CHECKING:
    from tokenwarden.oauth import DeviceAuthorization, OAuthClient, TokenResponse

log = logging.getLogger(__name__)

#: How often a process waiting on another's sign-in looks at its marker again.
SHARED_POLL_SECONDS = 0.5


class SignInFlow:
    """Signs the profiles of one registry in and out."""

    def __init__(self, registry: SessionRegistry,
                 browser_timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.registry = registry
        self.browser_timeout = browser_timeout

    async def start(self, session: ProfileSession, *, force: bool = False,
                    flow: str | None = None, browser_possible: bool = False) -> (
        DeviceAuthorization | BrowserAuthorization | Status
    ):
        """Begin a sign-in (device code or browser), or the status when already signed in."""
        registry = self.registry
        with contextlib.suppress(StoreError):
            registry.current(session)
        status = registry.status_of(session)
        if not force and status.state in (SessionState.SIGNED_IN, SessionState.REFRESHING):
            return status
        if status.state is SessionState.SIGNING_IN and status.login is not None:
            # One sign-in at a time per profile, whoever started it: join it.
            where = " in another process" if status.login.elsewhere else ""
            log.info("profile %s: joining the sign-in in progress%s", session.profile.name,
                     where)
            return status
        # Before a code is shown: a sign-in whose tokens cannot be kept is refused now,
        # not after the user approved it.
        registry.store.check_writable(session.profile.name)
        await self.cancel(session)
        client = registry.client(session)
        choice = choose_flow(flow or session.profile.flow, await client.endpoints(),
                             browser_possible=browser_possible, profile=session.profile.name)
        log.info("profile %s signs in with the %s flow: %s", session.profile.name,
                 choice.flow, choice.reason)
        fallback = choice.fallback
        try:
            started, tokens, abort = await self._begin(session, client, choice.flow)
        except OAuthError as exc:
            if fallback is None or exc.details.error not in FLOW_REFUSED_ERRORS:
                raise
            note = self._note_fallback(session, choice.flow, fallback, exc.details.error)
            started, tokens, abort = await self._begin(session, client, fallback, note)
            fallback = None
        session.login_error = None
        session.login_task = asyncio.get_running_loop().create_task(
            self._complete(session, client, tokens, fallback)
        )
        session.login_task.add_done_callback(lambda _: abort())
        registry.audit("sign-in", session.profile.name, "started",
                       detail=f"flow {started_flow(started)}")
        self._announce(session)
        return started

    def _announce(self, session: ProfileSession) -> None:
        """Publish the sign-in in progress to every process on the store, then here.

        The marker first: whoever reads the instructions here (a terminal, a test)
        and goes to another window must find the sign-in there to join.
        """
        if session.login is not None:
            sharedlogin.share(self.registry.store.folder, session.profile.name, session.login)
        self.registry.publish(session)

    def _end_login(self, session: ProfileSession) -> None:
        """The sign-in of this process is over (either way)."""
        session.login = None
        sharedlogin.unshare(self.registry.store.folder, session.profile.name)

    async def _begin(self, session: ProfileSession, client: OAuthClient, flow: str,
                     note: str | None = None) -> tuple[
        DeviceAuthorization | BrowserAuthorization, Callable[[], Awaitable[TokenResponse]],
        Callable[[], None],
    ]:
        """Ask for a device code, or open the redirect listener.

        Returns what to show, how to wait for the tokens, and how to let go of what
        was opened should the wait never start (cancelled at once). ``note`` says why
        this flow (a fallback), for the surfaces to show.
        """
        now = self.registry.clock.now()
        if flow == BROWSER:
            attempt = await BrowserSignIn.begin(client, wait_seconds=self.browser_timeout,
                                                port=session.profile.redirect_port)
            browser = attempt.authorization
            session.login = LoginInfo(
                user_code=None, verification_uri=None, verification_uri_complete=None,
                expires_at=now + timedelta(seconds=browser.expires_in),
                expires_in=browser.expires_in, interval=0.0, flow=BROWSER,
                authorization_uri=browser.authorization_uri, note=note,
            )
            return browser, attempt.complete, attempt.abort
        from tokenwarden.device import wait_for_approval

        authorization = await client.device_authorize()
        session.login = LoginInfo(
            user_code=authorization.user_code,
            verification_uri=authorization.verification_uri,
            verification_uri_complete=authorization.verification_uri_complete,
            expires_at=now + timedelta(seconds=authorization.expires_in),
            expires_in=authorization.expires_in,
            interval=authorization.interval,
            note=note,
        )
        clock = self.registry.clock
        return authorization, lambda: wait_for_approval(client, authorization, clock), _nothing

    def _note_fallback(self, session: ProfileSession, refused: str, other: str,
                       error: str | None) -> str:
        """Log and record that ``auto`` falls back; the line to show the user."""
        name = session.profile.name
        log.warning("the provider refused the %s sign-in of profile %s (%s); signing in with "
                    "the %s flow instead", refused, name, error, other)
        self.registry.audit("sign-in", name, "fallback",
                            detail=f"{refused} refused ({error}); using {other}")
        return (f"the provider refused the {refused} sign-in ({error}); signing in with the "
                f"{other} flow instead")

    async def wait(self, session: ProfileSession) -> Status:
        """Wait for the sign-in in progress (here or in another process) to end."""
        registry = self.registry
        task = session.login_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        # Another process's sign-in: its marker goes once it ends (or it expires). The
        # marker is a file another process removes: there is no event to wait on.
        while self._waiting_elsewhere(session):  # noqa: ASYNC110
            await asyncio.sleep(SHARED_POLL_SECONDS)
        with contextlib.suppress(StoreError):
            registry.current(session)
        return registry.status_of(session)

    def _waiting_elsewhere(self, session: ProfileSession) -> bool:
        registry = self.registry
        return (session.login is None
                and registry.read_shared(session, fresh=True) is not None
                and session.login_shown(registry.clock.now()) is not None)

    async def cancel(self, session: ProfileSession) -> bool:
        """Stop a sign-in in progress; True when there was one."""
        task = session.login_task
        if task is None or task.done():
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TokenwardenError):
            await task
        if session.login is not None:  # cancelled before its first step ran
            self._end_login(session)
            session.login_error = LastError(code="cancelled", message="sign-in cancelled",
                                            at=utc_iso(self.registry.clock.now()) or "")
            self.registry.publish(session)
        return True

    async def sign_out(self, session: ProfileSession, *, revoke: bool) -> Status:
        """Forget a profile's tokens (revoking the refresh token at the provider)."""
        registry = self.registry
        await self.cancel(session)
        session.login_error = None
        lock = registry.store.file_lock(session.profile.name)
        await registry.acquire(lock, True)
        session.mismatch = None
        try:
            try:
                record = registry.read_matching(session)
            except NewerStoreFormat:
                raise
            except StoreError:
                record = None
            if session.mismatch is None:
                registry.store.delete(session.profile.name)
        finally:
            lock.release()
        if session.mismatch is not None:
            log.info("profile %s: the stored session belongs to other provider settings; "
                     "left as it is and not revoked", session.profile.name)
            return registry.publish(session)
        session.record, session.record_stamp = None, None
        problem = await self._revoke(session, record) if revoke and record is not None else None
        # The status says what the provider still honours; it stays until the next sign-in.
        session.login_error = problem
        session.wakeup.set()
        log.info("profile %s signed out", session.profile.name)
        registry.audit("sign-out", session.profile.name, problem.code if problem else "ok",
                       detail=problem.message if problem else None)
        return registry.publish(session)

    async def _complete(
        self, session: ProfileSession, client: OAuthClient,
        tokens: Callable[[], Awaitable[TokenResponse]], fallback: str | None,
    ) -> Status:
        registry = self.registry
        try:
            try:
                response = await tokens()
            except LoginFailed as exc:
                if fallback is None or exc.code not in FLOW_REFUSED_ERRORS:
                    raise
                refused = BROWSER if fallback == DEVICE else DEVICE
                note = self._note_fallback(session, refused, fallback, exc.code)
                try:
                    _, tokens, abort = await self._begin(session, client, fallback, note)
                except (OAuthError, ConfigError) as again:
                    raise LoginFailed(f"sign-in failed: {again.message}",
                                      reason=again.code) from None
                self._announce(session)
                try:
                    response = await tokens()
                finally:
                    abort()
        except LoginFailed as exc:
            self._end_login(session)
            session.login_error = LastError(code=exc.code, message=exc.message,
                                            at=utc_iso(registry.clock.now()) or "")
            log.info("sign-in of profile %s ended: %s", session.profile.name, exc.code)
            registry.audit("sign-in", session.profile.name, exc.code, detail=exc.message)
            return registry.publish(session)
        except asyncio.CancelledError:
            self._end_login(session)
            session.login_error = LastError(code="cancelled", message="sign-in cancelled",
                                            at=utc_iso(registry.clock.now()) or "")
            registry.publish(session)
            raise
        account = await _account_of(client, response)
        try:
            record = await self._save(session, response, account)
        except StoreError as exc:
            return await self._unsaved(session, client, response, exc)
        self._end_login(session)
        session.login_error = None
        session.record = record
        session.mismatch = None  # the new record is bound to the settings in force
        session.warned_for = None
        session.wakeup.set()
        log.info("profile %s signed in", session.profile.name)
        registry.audit("sign-in", session.profile.name, "ok", request_id=response.request_id,
                       detail=f"account {account}" if account else None)
        return registry.publish(session)

    async def _save(
        self, session: ProfileSession, response: TokenResponse, account: str | None
    ) -> TokenRecord:
        store = self.registry.store
        name = session.profile.name
        lock = store.file_lock(name)
        await self.registry.acquire(lock, True)
        try:
            try:
                previous = store.read(name)
            except NewerStoreFormat:
                raise
            except StoreError:
                aside = store.quarantine(name)
                log.warning("unreadable record of profile %s moved to %s", name, aside)
                previous = None
            record = record_from_response(None, response, self.registry.clock.now(),
                                          account=account, profile=session.profile,
                                          endpoints=await self.registry.client(session)
                                          .endpoints())
            if previous is not None:
                record = replace(record, generation=previous.generation + 1)
            store.write(record)
            return record
        finally:
            lock.release()
            session.record_stamp = store.stamp(name)

    async def _unsaved(self, session: ProfileSession, client: OAuthClient,
                       response: TokenResponse, exc: StoreError) -> Status:
        """The tokens were issued but cannot be kept: revoke them, so no grant is left live."""
        registry = self.registry
        said = "the provider has no revocation endpoint: the tokens just issued stay valid there"
        if (await client.endpoints()).revocation_endpoint:
            said = "the tokens just issued were revoked"
            for token, hint in ((response.refresh_token, "refresh_token"),
                                (response.access_token, "access_token")):
                try:
                    if token:
                        await client.revoke(token, hint)
                except (OAuthError, TokenwardenError) as error:
                    log.info("could not revoke the unsaved %s (%s)", hint, error.code)
                    said = "revoking the tokens just issued failed"
        self._end_login(session)
        session.login_error = LastError(code=StoreError.code, message=f"{exc.message}; {said}",
                                        at=utc_iso(registry.clock.now()) or "")
        log.info("sign-in of profile %s could not be saved; %s", session.profile.name, said)
        registry.audit("sign-in", session.profile.name, StoreError.code,
                       detail=session.login_error.message)
        return registry.publish(session)

    async def _revoke(self, session: ProfileSession, record: TokenRecord) -> LastError | None:
        """Revoke the grant at the provider; what went wrong, or None when it was revoked."""
        token, hint = (record.refresh_token, "refresh_token") if record.refresh_token else (
            record.access_token, "access_token")
        if not token:
            return None
        at = utc_iso(self.registry.clock.now()) or ""
        client = self.registry.client(session)
        try:
            # Never send the grant to endpoints other than those it was obtained from.
            bound = binding_mismatch(record, session.profile, await client.endpoints()) is None
            revoked = bound and await client.revoke(token, hint)
        except TokenwardenError as exc:
            code, reason = revocation_failure(exc)
            # INFO: the sign-out's own status says this in one line on every surface.
            log.info("profile %s: %s (%s); the token was removed locally",
                     session.profile.name, reason, exc.code)
        else:
            if revoked:
                return None
            code, reason = ("revocation_unsupported", "the provider has no revocation endpoint"
                            ) if bound else ("provider_settings_changed", "not revoked: the "
                                             "provider settings changed since sign-in")
        what = "refresh token" if hint == "refresh_token" else "access token"
        return LastError(code=code, at=at,
                         message=f"{reason}: the {what} stays valid there until it expires")


def revocation_failure(exc: TokenwardenError) -> tuple[str, str]:
    """A code and a reason for a revocation that failed (``refused`` when the provider said no)."""
    status = exc.details.status if isinstance(exc, OAuthError) else None
    if isinstance(exc, TransportError):
        return "revocation_failed", "could not reach the provider to revoke"
    if isinstance(exc, ServerError):
        return "revocation_failed", f"the provider failed to revoke (HTTP {status or 'error'})"
    if status is not None:
        return "revocation_refused", f"the provider refused to revoke (HTTP {status})"
    return "revocation_failed", f"could not revoke ({exc.code})"


def _nothing() -> None:
    """Nothing to let go of."""


def started_flow(started: DeviceAuthorization | BrowserAuthorization) -> str:
    """``browser`` or ``device``: which flow a started sign-in uses."""
    return BROWSER if isinstance(started, BrowserAuthorization) else DEVICE


async def _account_of(client: OAuthClient, response: TokenResponse) -> str | None:
    """A label for the signed-in account: from the ID token, else from userinfo."""
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
