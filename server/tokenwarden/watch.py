"""Keeping a profile renewed and warned about in the background (long-lived processes).

One loop per watched profile: look (renew if due, warn if the session will end
without renewal), then sleep until the next moment that matters, capped so that a
suspended laptop is noticed soon after it wakes. A wall clock that moved more than
monotonic time (sleep, or a clock set back) triggers a fresh look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from tokenwarden.errors import StoreError, TokenwardenError
from tokenwarden.lifecycle import is_refreshable, session_end
from tokenwarden.policy import next_wake, renew_at, warn_at
from tokenwarden.registry import ExpiryWarning, ProfileSession, SessionRegistry
from tokenwarden.renewal import Renewer
from tokenwarden.status import SessionState
from tokenwarden.store import TokenRecord

log = logging.getLogger(__name__)

WAKE_SLACK_SECONDS = 5.0
WARNING_SAME_END_SECONDS = 60.0


class Watcher:
    """Runs the background loop of each watched profile of one registry."""

    def __init__(self, registry: SessionRegistry, renewer: Renewer) -> None:
        self.registry = registry
        self.renewer = renewer

    def watch(self, session: ProfileSession) -> None:
        """Start the profile's loop unless it runs already."""
        if session.loop_task is None or session.loop_task.done():
            session.loop_task = asyncio.get_running_loop().create_task(self._loop(session))

    async def _loop(self, session: ProfileSession) -> None:
        clock = self.registry.clock
        last_wall, last_mono = clock.now(), clock.monotonic()
        while not self.registry.closed:
            try:
                pause = await self._tick(session)
            except Exception:
                log.exception("renewal check of profile %s failed", session.profile.name)
                pause = self.registry.policy.max_sleep_seconds
            await self._sleep(session, pause)
            wall, mono = clock.now(), clock.monotonic()
            drift = (wall - last_wall).total_seconds() - (mono - last_mono)
            if drift < -WAKE_SLACK_SECONDS:
                # The wall clock went back: stored expiry times now overstate what is
                # left, so renew rather than trust them.
                session.wakeup.set()
                with contextlib.suppress(TokenwardenError):
                    await self.renewer.renew(session, force=True)
            if abs(drift) > WAKE_SLACK_SECONDS:
                log.info("wall clock moved %.0f s more than the monotonic clock "
                         "(sleep/wake or clock change); re-checking", drift)
                self.registry.audit("clock", session.profile.name, "jump",
                                    detail=f"wall clock moved {drift:.0f} s beyond monotonic time")
            last_wall, last_mono = wall, mono

    async def _tick(self, session: ProfileSession) -> float:
        """One look at a profile: renew or warn if due; seconds until the next look."""
        registry = self.registry
        try:
            record = registry.current(session)
        except StoreError as exc:
            log.warning("%s", exc.message)
            return registry.policy.max_sleep_seconds
        now = registry.clock.now()
        registry.publish(session)
        if record is None or session.login is not None:
            return registry.policy.max_sleep_seconds
        moments: list[datetime | None] = []
        if is_refreshable(record, now):
            due = self._renewal_due(session, record, now)
            if due is not None and due <= now:
                # Joins a renewal another caller has in flight: when that one fails,
                # the retry is planned from its back-off instead of being lost.
                with contextlib.suppress(TokenwardenError):
                    await self.renewer.renew(session, wanted=0.0, force=False)
                record = session.record or record
                due = self._renewal_due(session, record, None)
            moments.append(due)
        self._maybe_warn(session, now)
        ends = session_end(record, now)
        moments.append(warn_at(ends, registry.warn_before_seconds))
        moments.append(ends)
        moments.append(record.expires_at)
        return next_wake(now, [m for m in moments if m is None or m > now], registry.policy)

    def _renewal_due(self, session: ProfileSession, record: TokenRecord,
                     now: datetime | None) -> datetime | None:
        """When to renew: the schedule, pushed back by a back-off; now after a 401."""
        due = renew_at(record.times, self.registry.policy, session.jitter)
        if record.next_attempt_at and (due is None or record.next_attempt_at > due):
            due = record.next_attempt_at
        if now is not None and record.rejected and record.next_attempt_at is None:
            due = now
        return due

    def _maybe_warn(self, session: ProfileSession, now: datetime) -> None:
        """Warn once before a session ends that cannot be renewed, and once when it has."""
        record = session.record
        if record is None or session.login is not None:
            return
        ends = session_end(record, now)
        if ends is None:
            return
        ended = now >= ends or session.state(now) is SessionState.EXPIRED
        if _already_warned(session.warned_for, ends, ended):
            return
        start = warn_at(ends, self.registry.warn_before_seconds)
        if ended or (start is not None and now >= start):
            session.warned_for = (ends, ended)
            status = self.registry.publish(session)
            self.registry.emit(ExpiryWarning(
                status=status, ends_at=min(ends, now) if ended else ends, ended=ended))

    async def _sleep(self, session: ProfileSession, seconds: float) -> None:
        session.wakeup.clear()
        waiter = asyncio.ensure_future(session.wakeup.wait())
        sleeper = asyncio.ensure_future(self.registry.clock.sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()


def _already_warned(warned: tuple[datetime, bool] | None, ends: datetime, ended: bool) -> bool:
    """Whether this warning was already given.

    Renewals move a rotating refresh token's reported end by the request's duration,
    so ends within a minute of each other count as the same end.
    """
    if warned is None or warned[1] != ended:
        return False
    return abs((warned[0] - ends).total_seconds()) < WARNING_SAME_END_SECONDS
