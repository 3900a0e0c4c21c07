"""Device sign-in (RFC 8628) and sign-out of a profile, for the session manager.

``start`` asks the provider for a code and returns it at once; polling for the
user's approval goes on in a task of its own, whose progress is published as the
profile's status (``signingIn`` with the code, then ``signedIn`` or the error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from tokenwarden.clock import utc_iso
from tokenwarden.errors import (
    LoginFailed,
    OAuthError,
    ServerError,
    StoreError,
    TokenwardenError,
    TransportError,
)
from tokenwarden.lifecycle import record_from_response
from tokenwarden.registry import ProfileSession, SessionRegistry
from tokenwarden.status import LoginInfo, SessionState, Status
from tokenwarden.store import LastError, TokenRecord

if TYPE_CHECKING:
    from tokenwarden.oauth import DeviceAuthorization, OAuthClient, TokenResponse

log = logging.getLogger(__name__)


class SignInFlow:
    """Signs the profiles of one registry in and out."""

    def __init__(self, registry: SessionRegistry) -> None:
        self.registry = registry

    async def start(self, session: ProfileSession, *, force: bool = False) -> (
        DeviceAuthorization | Status
    ):
        """Begin a device sign-in, or the status when already signed in (unless ``force``)."""
        registry = self.registry
        with contextlib.suppress(StoreError):
            registry.current(session)
        status = registry.status_of(session)
        if not force and status.state in (SessionState.SIGNED_IN, SessionState.REFRESHING):
            return status
        await self.cancel(session)
        client = registry.client(session)
        authorization = await client.device_authorize()
        now = registry.clock.now()
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
            self._complete(session, client, authorization)
        )
        registry.audit("sign-in", session.profile.name, "started")
        registry.publish(session)
        return authorization

    async def wait(self, session: ProfileSession) -> Status:
        """Wait for the sign-in in progress to end; the resulting status."""
        task = session.login_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return self.registry.status_of(session)

    async def cancel(self, session: ProfileSession) -> bool:
        """Stop a sign-in in progress; True when there was one."""
        task = session.login_task
        if task is None or task.done():
            return False
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TokenwardenError):
            await task
        if session.login is not None:  # cancelled before its first step ran
            session.login = None
            self.registry.publish(session)
        return True

    async def sign_out(self, session: ProfileSession, *, revoke: bool) -> Status:
        """Forget a profile's tokens (revoking the refresh token at the provider)."""
        registry = self.registry
        await self.cancel(session)
        session.login_error = None
        lock = registry.store.file_lock(session.profile.name)
        await registry.acquire(lock, True)
        try:
            try:
                record = registry.store.read(session.profile.name)
            except StoreError:
                record = None
            registry.store.delete(session.profile.name)
        finally:
            lock.release()
        session.record, session.record_mtime = None, None
        problem = await self._revoke(session, record) if revoke and record is not None else None
        # The status says what the provider still honours; it stays until the next sign-in.
        session.login_error = problem
        session.wakeup.set()
        log.info("profile %s signed out", session.profile.name)
        registry.audit("sign-out", session.profile.name, problem.code if problem else "ok",
                       detail=problem.message if problem else None)
        return registry.publish(session)

    async def _complete(
        self, session: ProfileSession, client: OAuthClient, authorization: DeviceAuthorization
    ) -> Status:
        from tokenwarden.device import wait_for_approval

        registry = self.registry
        try:
            response = await wait_for_approval(client, authorization, registry.clock)
        except LoginFailed as exc:
            session.login = None
            session.login_error = LastError(code=exc.code, message=exc.message,
                                            at=utc_iso(registry.clock.now()) or "")
            log.info("sign-in of profile %s ended: %s", session.profile.name, exc.code)
            registry.audit("sign-in", session.profile.name, exc.code, detail=exc.message)
            return registry.publish(session)
        except asyncio.CancelledError:
            session.login = None
            session.login_error = LastError(code="cancelled", message="sign-in cancelled",
                                            at=utc_iso(registry.clock.now()) or "")
            registry.publish(session)
            raise
        account = await _account_of(client, response)
        record = await self._save(session, response, account)
        session.login = None
        session.login_error = None
        session.record = record
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
            except StoreError:
                aside = store.quarantine(name)
                log.warning("unreadable record of profile %s moved to %s", name, aside)
                previous = None
            record = record_from_response(None, response, self.registry.clock.now(),
                                          account=account, profile=session.profile)
            if previous is not None:
                record = replace(record, generation=previous.generation + 1)
            store.write(record)
            return record
        finally:
            lock.release()
            session.record_mtime = store.mtime_ns(name)

    async def _revoke(self, session: ProfileSession, record: TokenRecord) -> LastError | None:
        """Revoke the grant at the provider; what went wrong, or None when it was revoked."""
        token, hint = (record.refresh_token, "refresh_token") if record.refresh_token else (
            record.access_token, "access_token")
        if not token:
            return None
        at = utc_iso(self.registry.clock.now()) or ""
        try:
            revoked = await self.registry.client(session).revoke(token, hint)
        except TokenwardenError as exc:
            code, reason = revocation_failure(exc)
            # INFO: the sign-out's own status says this in one line on every surface.
            log.info("profile %s: %s (%s); the token was removed locally",
                     session.profile.name, reason, exc.code)
        else:
            if revoked:
                return None
            code, reason = "revocation_unsupported", "the provider has no revocation endpoint"
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
