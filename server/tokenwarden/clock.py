"""Injectable clocks: wall time for expiry decisions, monotonic time for sleeps.

Expiry is always judged on wall-clock time (UTC): a monotonic clock stops while a
laptop sleeps, so a timer armed before the sleep would fire hours late. Core code
never calls ``datetime.now()`` or ``time.time()`` itself; it asks its ``Clock``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the core needs to know about time."""

    def now(self) -> datetime:
        """Current wall-clock time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of monotonic time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Current wall-clock time, UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep on the event loop."""
        import asyncio  # imported here: the CLI's fast path never sleeps

        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock tests move by hand; ``jump`` simulates laptop sleep or a clock change."""

    def __init__(self, start: datetime | None = None) -> None:
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        """Current fake wall time."""
        return self._wall

    def monotonic(self) -> float:
        """Current fake monotonic time."""
        return self._mono

    async def sleep(self, seconds: float) -> None:
        """Advance both clocks instead of waiting, then yield to other tasks."""
        import asyncio

        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        """Move wall and monotonic time forward together."""
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds

    def jump(self, seconds: float) -> None:
        """Move only the wall clock (a suspend, or the user changing the time)."""
        self._wall += timedelta(seconds=seconds)


def utc_iso(moment: datetime | None) -> str | None:
    """Format a moment as RFC 3339 UTC with a ``Z`` suffix, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_millisecond(moment: datetime | None) -> datetime | None:
    """``moment`` truncated to the millisecond: the precision the store keeps."""
    return None if moment is None else moment.replace(
        microsecond=moment.microsecond // 1000 * 1000)


def utc_iso_ms(moment: datetime | None) -> str | None:
    """RFC 3339 UTC to the millisecond (``...T12:00:06.900Z``), or None.

    The store keeps its times this precisely: truncated to the second, a 6-second
    token's expiry moved up to a second early, so renewal fell due up to 17 % of its
    lifetime too soon (``bench/scale_bench.py`` saw a second renewal after a wake).
    """
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str | None) -> datetime | None:
    """Parse an RFC 3339 time written by ``utc_iso`` or ``utc_iso_ms``; None when invalid."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
