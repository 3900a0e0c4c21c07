"""Renewing a profile's tokens: one attempt at a time per profile, across every process.

Whatever triggered it (schedule, ``get_token`` in the mandatory window, a reported
401, a user's "refresh"), a renewal takes one path:

1. single-flight inside the process: concurrent callers share one attempt;
2. take the profile's cross-process file lock;
3. re-read the store: another window or CLI run may already have rotated the
   refresh token, in which case its fresh token is used and no request is sent;
4. refresh, write the new record atomically, release the lock.

A failed renewal never clears credentials unless the provider refused the very
refresh token that is still in the store (``invalid_grant``, or any 400/401/403:
``refresh_refusal``); a
transient failure backs off (jittered, capped, ``Retry-After`` honoured), records
the back-off in the store so other processes honour it too, and keeps serving the
still-valid access token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tokenwarden.clock import utc_iso
from tokenwarden.errors import (
    OAuthError,
    ServerError,
    SignInRequired,
    TemporarilyUnavailable,
    TerminalOAuthError,
    TokenwardenError,
    TransportError,
)
from tokenwarden.lifecycle import (
    expired,
    record_from_response,
    refresh_token_expired,
    settings_changed_message,
)
from tokenwarden.policy import TokenState, backoff_delay, satisfies, token_state
from tokenwarden.registry import ProfileSession, SessionRegistry
from tokenwarden.status import SessionState
from tokenwarden.store import LastError, TokenRecord

log = logging.getLogger(__name__)


class Renewer:
    """Renews the sessions of one registry."""

    def __init__(self, registry: SessionRegistry, *, background: bool) -> None:
        self.registry = registry
        self.background = background

    async def renew(
        self, session: ProfileSession, *, wanted: float = 0.0, force: bool = False,
        rejected: str | None = None,
    ) -> TokenRecord:
        """Renew under single-flight; callers share the attempt in progress.

        A shared attempt may end without serving this caller (an advisory attempt that
        found the lock busy, or one started before a 401 was reported): then one more
        attempt of this caller's own follows.
        """
        for _ in range(2):
            task = session.inflight or self._start(
                session, wanted=wanted, force=force, rejected=rejected, blocking_lock=True
            )
            record = await asyncio.shield(task)
            if rejected is not None and record.access_token == rejected and not record.forced:
                continue
            if not force and not satisfies(record.times, self.registry.clock.now(), wanted):
                continue
            return record
        return record

    async def renew_in_background(self, session: ProfileSession) -> None:
        """Advisory window: renew without making the caller wait, if nobody else is."""
        if session.inflight is not None:
            return
        record = session.record
        if record and record.next_attempt_at and record.next_attempt_at > self.registry.clock.now():
            return
        task = self._start(session, wanted=0.0, force=False, rejected=None, blocking_lock=False)
        if self.background:
            task.add_done_callback(_swallow)
            return
        # A one-shot process (CLI) has no future to renew in: try now, but only if no
        # other process holds the lock, and keep the valid token whatever happens.
        with contextlib.suppress(TokenwardenError):
            await asyncio.shield(task)

    def _start(
        self, session: ProfileSession, *, wanted: float, force: bool,
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
        self, session: ProfileSession, wanted: float, force: bool,
        rejected: str | None, blocking_lock: bool,
    ) -> TokenRecord:
        store = self.registry.store
        name = session.profile.name
        lock = store.file_lock(name)
        decided_on = session.record.generation if session.record else None
        if not await self._acquire_prepared(session, lock, blocking_lock):
            record = session.record
            if record is None:
                raise TemporarilyUnavailable("another process is renewing", retry_after=1.0)
            return record
        try:
            # Re-read the store after taking the lock: another window or CLI run may
            # have rotated the refresh token while we waited.
            record = self.registry.read_matching(session)
            session.record, session.record_stamp = record, store.stamp(name)
            if record is not None and self._renewed_meanwhile(
                record, decided_on, wanted, force, rejected
            ):
                return record
            return await self._renew_with_lock(session, record, wanted, force, rejected)
        finally:
            lock.release()
            session.record_stamp = store.stamp(name)

    async def _acquire_prepared(self, session: ProfileSession, lock: Any,
                                blocking: bool) -> bool:
        """Take the profile's lock with the OAuth client ready; False when it is busy.

        A process's first renewal imports the HTTP stack and discovers the endpoints
        (a few hundred ms on a loaded machine): done while holding the lock, every
        other process would wait for it too (``bench/scale_bench.py``). An advisory
        attempt prepares only once it has seen the lock free, so a window that loses
        the race never loads the HTTP stack (about 21 MiB).
        """
        registry = self.registry
        if blocking:
            await self._prepare_client(session)
            return await registry.acquire(lock, True)
        if not await registry.acquire(lock, False):
            return False
        if session.client is not None:
            return True
        lock.release()
        await self._prepare_client(session)
        return await registry.acquire(lock, False)

    async def _prepare_client(self, session: ProfileSession) -> None:
        # A failure is left to the attempt under the lock, which records it.
        with contextlib.suppress(OAuthError):
            await self.registry.client(session).endpoints()

    async def _renew_with_lock(
        self, session: ProfileSession, record: TokenRecord | None, wanted: float,
        force: bool, rejected: str | None,
    ) -> TokenRecord:
        name = session.profile.name
        now = self.registry.clock.now()
        if record is None and session.mismatch is not None:
            raise SignInRequired(settings_changed_message(name), profile=name,
                                 state=SessionState.EXPIRED.value)
        if record is None or not (record.access_token or record.refresh_token):
            raise SignInRequired("not signed in", profile=name,
                                 state=SessionState.SIGNED_OUT.value)
        if rejected is not None:
            if record.access_token != rejected and record.usable_token:
                return record  # someone renewed since the consumer got its 401
            if record.access_token == rejected and record.forced and not record.rejected:
                # Rejected again right after a renewal its predecessor's rejection forced:
                # the upstream refuses for another reason. Its 401 stands; no storm.
                log.info("profile %s: a token renewed because of a rejection was rejected "
                         "too; not renewing again", name)
                return record
            if record.access_token == rejected and not record.rejected:
                record = record.next_generation(rejected=True)
                self.registry.store.write(record)
                session.record = record
        if rejected is None and not force and self._still_good(session, record, now, wanted):
            return record  # renewed by another process while we waited for the lock
        if not record.refresh_token or refresh_token_expired(record, now):
            self.registry.publish(session)
            raise SignInRequired("the session cannot be renewed: sign in again",
                                 profile=name, state=SessionState.EXPIRED.value)
        # The stored back-off (and the provider's Retry-After) binds every process and
        # every reason to renew, a consumer's rejection included; only a person asking
        # for a refresh goes ahead of it.
        if (rejected is not None or not force) and record.next_attempt_at and (
            record.next_attempt_at > now
        ):
            wait = (record.next_attempt_at - now).total_seconds()
            raise TemporarilyUnavailable(
                f"renewal is backing off after a failure; next attempt in {wait:.1f} s",
                retry_after=wait,
            )
        return await self._send_refresh(session, record, forced=rejected is not None)

    def _renewed_meanwhile(self, record: TokenRecord, decided_on: int | None,
                           wanted: float, force: bool, rejected: str | None) -> bool:
        """Whether another process renewed since this one decided to, well enough.

        After a wake every process finds its token due at once; those that lose the
        race for the lock must take the winner's token even if, on a loaded machine,
        they got the lock late enough for it to be in the advisory window already:
        renewing it again would be the second renewal of the same wake. The schedule
        renews it in turn.
        """
        if force or rejected is not None or decided_on is None:
            return False
        if record.generation == decided_on or not record.usable_token:
            return False
        now = self.registry.clock.now()
        return not expired(record, now) and satisfies(record.times, now, wanted)

    def _still_good(
        self, session: ProfileSession, record: TokenRecord, now: datetime, wanted: float
    ) -> bool:
        if not record.usable_token or expired(record, now):
            return False
        state = token_state(record.times, now, self.registry.policy, session.jitter)
        return state is TokenState.FRESH and satisfies(record.times, now, wanted)

    async def _send_refresh(self, session: ProfileSession, record: TokenRecord, *,
                            forced: bool = False) -> TokenRecord:
        assert record.refresh_token is not None
        registry = self.registry
        correlation = uuid.uuid4().hex[:12]
        session.refreshing = True
        registry.publish(session)
        client = registry.client(session)
        # Expiry counts from when the request was sent, not when the answer arrived: a
        # laptop suspended mid-request would otherwise stretch the token's life.
        sent_at = registry.clock.now()
        try:
            log.info("renewing profile %s [%s]", session.profile.name, correlation)
            endpoints = await client.endpoints()
            # Never send the grant to endpoints other than those it was obtained from.
            registry.check_binding(session, record, endpoints)
            response = await client.refresh(record.refresh_token)
        except SignInRequired:
            session.refreshing = False
            raise
        except OAuthError as exc:
            session.refreshing = False
            self._record_failure(session, record, exc, correlation)
            raise self.as_surface_error(session, exc) from None
        except asyncio.CancelledError:
            session.refreshing = False
            raise
        session.refreshing = False
        new = replace(record_from_response(record, response, sent_at, profile=session.profile,
                                           endpoints=endpoints), forced=forced)
        if record.token_endpoint is None:
            log.info("the record of profile %s predates grant binding: bound it to %s",
                     session.profile.name, endpoints.token_endpoint)
        registry.store.write(new)
        session.record = new
        log.info("renewed profile %s [%s], valid %s s", session.profile.name, correlation,
                 response.expires_in)
        registry.audit("renewal", session.profile.name, "ok", correlation_id=correlation,
                       request_id=response.request_id, detail=f"valid {response.expires_in} s")
        registry.publish(session)
        return new

    def _record_failure(
        self, session: ProfileSession, record: TokenRecord, exc: OAuthError, correlation: str
    ) -> None:
        registry = self.registry
        now = registry.clock.now()
        error = LastError(code=exc.code, message=exc.message, at=utc_iso(now) or "",
                          correlation_id=correlation, request_id=exc.details.request_id)
        refusal = refresh_refusal(exc)
        if refusal is not None:
            # Definitive: the provider refused the very refresh token the store still
            # holds (we hold the lock), so the grant is over. Stop serving its tokens.
            error = replace(error, code=refusal.code, message=refusal.message)
            new = record.next_generation(
                refresh_token=None, rejected=True, failures=0, next_attempt_at=None,
                last_error=error, ended=refusal.code,
            )
            # INFO, not WARNING: every caller is told (SignInRequired, status expired),
            # and a terminal user should see that one line, not this one before it.
            log.info("profile %s: refresh token refused (%s) [%s]; sign-in required",
                     session.profile.name, refusal.code, correlation)
            registry.audit("renewal", session.profile.name, "ended", correlation_id=correlation,
                           request_id=exc.details.request_id, detail=refusal.message)
        else:
            failures = record.failures + 1
            delay = backoff_delay(
                failures, record.times.lifetime, registry.policy, registry.rng.random(),
                retry_after=exc.retry_after,
            )
            if isinstance(exc, TerminalOAuthError):
                delay = max(delay, registry.policy.backoff_cap_seconds)
            new = record.next_generation(
                failures=failures, last_error=error,
                next_attempt_at=now + timedelta(seconds=delay),
            )
            log.warning("profile %s: renewal failed (%s) [%s]; retrying in %.1f s",
                        session.profile.name, exc.code, correlation, delay)
            registry.audit("renewal", session.profile.name, "retrying",
                           correlation_id=correlation, request_id=exc.details.request_id,
                           detail=f"{exc.message}; next attempt in {delay:.1f} s")
        registry.store.write(new)
        session.record = new
        registry.publish(session)

    def as_surface_error(self, session: ProfileSession, exc: OAuthError) -> TokenwardenError:
        """What a caller of ``get_token`` is told after a failed renewal."""
        exc = refresh_refusal(exc) or exc
        record = session.record
        if record is not None and record.refresh_token is None:
            return SignInRequired(
                f"the provider ended the session ({exc.message}); sign in again",
                profile=session.profile.name, state=SessionState.EXPIRED.value,
            )
        wait = 1.0
        if record is not None and record.next_attempt_at is not None:
            wait = max(0.0, (record.next_attempt_at - self.registry.clock.now()).total_seconds())
        return TemporarilyUnavailable(f"renewal failed: {exc.message}", retry_after=wait)


#: Statuses of a refresh answer that are the provider's final word on that refresh
#: token whatever the body holds: Glewlwyd answers every refused refresh with an
#: empty 400, others a 401 or 403 HTML page. 429 and 5xx stay retryable.
REFUSED_REFRESH_STATUSES = frozenset({400, 401, 403})


def refresh_refusal(exc: OAuthError) -> TerminalOAuthError | None:
    """The refusal that ends a grant, when a failed refresh is one; None when retryable.

    ``invalid_grant`` in any status is one (GitHub sends it in a 200); so is any answer
    of status 400, 401 or 403 that does not say ``temporarily_unavailable`` or the like.
    """
    details = exc.details
    if isinstance(exc, TerminalOAuthError) and details.error == "invalid_grant":
        return exc
    if isinstance(exc, ServerError | TransportError):
        return None
    if details.status not in REFUSED_REFRESH_STATUSES:
        return None
    said = f": {details.error}" if details.error else ""
    if details.error and details.description:
        said += f": {details.description}"
    elif not details.error:
        said = ", no OAuth error in the answer"
    return TerminalOAuthError(
        f"the provider refused the refresh token (HTTP {details.status}{said})",
        replace(details, error=details.error or f"http_{details.status}"),
    )


def _swallow(task: asyncio.Task[TokenRecord]) -> None:
    if not task.cancelled():
        task.exception()
