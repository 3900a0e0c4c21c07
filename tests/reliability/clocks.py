"""A clock the test moves by hand; sleepers wake only when the test advances time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class ManualClock:
    """Wall and monotonic time that move only when told (a suspend moves wall time only)."""

    def __init__(self, start: datetime) -> None:
        self._wall = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        target = self._mono + max(0.0, seconds)
        while self._mono < target:
            await asyncio.sleep(0.005)

    def advance(self, seconds: float) -> None:
        """Time passes normally."""
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds

    def suspend(self, seconds: float) -> None:
        """The laptop sleeps: wall time moves, monotonic time does not."""
        self._wall += timedelta(seconds=seconds)

    def set_back(self, seconds: float) -> None:
        """Someone sets the wall clock back."""
        self._wall -= timedelta(seconds=seconds)
