"""What bounds the proxy under load: connections, deadlines, and repeated log lines."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from tokenwarden.errors import ConfigError

#: Each proxied connection holds two descriptors (client and upstream); keep this
#: many free below the process's limit for the store, logs and the OAuth client.
_SPARE_DESCRIPTORS = 64


def _default_max_connections() -> int:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 256
    if soft == resource.RLIM_INFINITY:
        return 256
    return max(8, min(256, (soft - _SPARE_DESCRIPTORS) // 2))


@dataclass(frozen=True)
class ProxyLimits:
    """Caps and deadlines of one proxy (seconds)."""

    #: Connections served at once; past it the oldest one that has not yet shown the
    #: secret is dropped to make room, so a flood cannot lock the real client out.
    max_connections: int = _default_max_connections()
    #: Time to send a whole request head on a new connection (before the secret is checked).
    head_timeout: float = 10.0
    #: Time a connection that has shown the secret may sit idle between requests.
    idle_timeout: float = 300.0
    #: Time the upstream has to send its answer's head.
    upstream_head_timeout: float = 300.0

    @classmethod
    def checked(cls, *, max_connections: int, head_timeout: float,
                upstream_head_timeout: float) -> ProxyLimits:
        """Limits from command-line values, refusing ones that cannot work."""
        if max_connections < 1:
            raise ConfigError(f"--max-connections must be at least 1, not {max_connections}")
        for option, value in (("--head-timeout", head_timeout),
                              ("--upstream-timeout", upstream_head_timeout)):
            if not value > 0:
                raise ConfigError(f"{option} must be a positive number of seconds, not {value}")
        return cls(max_connections=max_connections, head_timeout=head_timeout,
                   upstream_head_timeout=upstream_head_timeout)


class RepeatLimiter:
    """Lets a kind of log line through at most ``burst`` times per ``period`` seconds.

    Under a flood the same failure repeats thousands of times a second; one line
    per period, with the count of those left out, says as much.
    """

    def __init__(self, logger: logging.Logger, *, burst: int = 5, period: float = 10.0) -> None:
        self.logger = logger
        self.burst = burst
        self.period = period
        self._windows: dict[str, tuple[float, int]] = {}

    def log(self, level: int, key: str, message: str, *args: object) -> None:
        """Log ``message`` unless lines of kind ``key`` exceeded their allowance."""
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= self.period:
            if count > self.burst:
                self.logger.log(level, "%d more like: %s", count - self.burst, key)
            started, count = now, 0
        self._windows[key] = (started, count + 1)
        if count < self.burst:
            self.logger.log(level, message, *args)
