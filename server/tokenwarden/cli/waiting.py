"""What a terminal shows while a device sign-in waits for the user's approval.

The instructions name the verification page, the complete link when the provider
gives one (``verification_uri_complete``: the code is already filled in) and how long
the code stays valid. While waiting, a terminal gets one line updated in place; a log
or a pipe gets a line every ``period`` seconds, so a CI job or a ``tmux`` pane shows
that the command is alive and how long is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
from typing import TYPE_CHECKING, TextIO, TypeVar

if TYPE_CHECKING:
    from tokenwarden.oauth import DeviceAuthorization
    from tokenwarden.status import LoginInfo

T = TypeVar("T")

#: Off a terminal, one progress line this often (seconds).
PROGRESS_PERIOD = 30.0
CLEAR_LINE = "\r\x1b[2K"


def countdown(seconds: float) -> str:
    """'3m 40s', '45s', '1h 5m'."""
    total = max(0, math.ceil(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def instructions(authorization: DeviceAuthorization | LoginInfo) -> list[str]:
    """The lines that tell the user where to go and what to enter."""
    lines = [f"To sign in, open {authorization.verification_uri} and enter the code: "
             f"{authorization.user_code}"]
    complete = authorization.verification_uri_complete
    if complete and complete != authorization.verification_uri:
        lines.append(f"  or open {complete} (the code is filled in)")
    lines.append(f"The code expires in {countdown(authorization.expires_in)}.")
    return lines


class WaitingLine:
    """Shows that the sign-in is still waiting, and how long the code has left."""

    def __init__(self, expires_in: float, stream: TextIO | None = None, *,
                 period: float = PROGRESS_PERIOD) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.deadline = time.monotonic() + expires_in
        self.period = period
        self.tty = _is_tty(self.stream)
        self._next_line = time.monotonic() + period
        self._drawn = False

    def text(self) -> str:
        """The progress text as of now."""
        left = countdown(self.deadline - time.monotonic())
        return f"still waiting for approval · code expires in {left}"

    def tick(self) -> None:
        """Called about once a second while waiting."""
        if self.tty:
            self.stream.write(f"{CLEAR_LINE}{self.text()}")
            self.stream.flush()
            self._drawn = True
        elif time.monotonic() >= self._next_line:
            self._next_line += self.period
            print(self.text(), file=self.stream, flush=True)

    def finish(self) -> None:
        """Remove the in-place line before the outcome is printed."""
        if self._drawn:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self._drawn = False


async def wait_showing_progress(waiter: asyncio.Future[T], line: WaitingLine) -> T:
    """Await ``waiter``, ticking ``line`` every second; the line is cleared at the end."""
    try:
        while not waiter.done():
            await asyncio.wait({waiter}, timeout=1.0)
            if not waiter.done():
                line.tick()
        return waiter.result()
    finally:
        line.finish()


def _is_tty(stream: TextIO) -> bool:
    with contextlib.suppress(AttributeError, ValueError):
        return stream.isatty()
    return False
