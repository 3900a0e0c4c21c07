"""``DevServer``: the dev authorization server as an object tests start and stop in-process."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from tokenwarden.config import is_loopback

from .app import DevApp
from .config import DevServerConfig
from .faults import Fault, FaultKind, FaultQueue
from .http import DevHTTPServer
from .models import User
from .state import DevState
from .stats import Stats

log = logging.getLogger("tokenwarden.devserver")


class WallClock(Protocol):
    """Anything with ``now()``, e.g. ``tokenwarden.clock.FakeClock``: tests can share one."""

    def now(self) -> datetime:
        """Current wall-clock time, timezone-aware."""
        ...


class DevServer:
    """Runs the dev server on a background thread; use as a context manager or start/stop."""

    def __init__(
        self, config: DevServerConfig | None = None, *, clock: WallClock | None = None
    ) -> None:
        self.config = config or DevServerConfig()
        # Every expiry and polling decision reads this clock; a test that shares
        # its fake clock with the server can jump time on both sides at once.
        self._epoch = (lambda: clock.now().timestamp()) if clock is not None else time.time
        self._stats = Stats()
        self._faults = FaultQueue()
        self._state = DevState(
            user=User.from_label(self.config.user),
            confidential_clients=self.config.clients,
            clock=self._epoch,
            stats=self._stats,
        )
        self._httpd: DevHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> DevServer:
        """Bind (port 0 picks a free port) and serve on a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("the dev server is already running")
        if not is_loopback(self.config.host):
            # authlib refuses plain-HTTP requests on non-loopback addresses; the
            # operator opted in with allow_remote, so tell authlib so (process-wide).
            log.warning("serving plain HTTP on non-loopback host %s", self.config.host)
            os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
        self._httpd = DevHTTPServer(self.config.host, self.config.port, self._make_app)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # How often the loop checks for stop(): 20 ms keeps test teardown quick.
            kwargs={"poll_interval": 0.02},
            name=f"tokenwarden-devserver:{self._httpd.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._httpd is not None

    @property
    def issuer(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._running_httpd().issuer

    @property
    def port(self) -> int:
        """The bound port."""
        return self._running_httpd().port

    def url(self, path: str) -> str:
        """An absolute URL on this server, e.g. ``url("/token")``."""
        return f"{self.issuer}{path}"

    # -- the admin API, in-process ------------------------------------------

    def approve(self, user_code: str) -> None:
        """Approve a device code as the configured user (raises ``UserCodeError``)."""
        self._state.decide(user_code, approve=True)

    def deny(self, user_code: str) -> None:
        """Deny a device code (raises ``UserCodeError``)."""
        self._state.decide(user_code, approve=False)

    def add_fault(
        self,
        endpoint: str,
        kind: FaultKind | str,
        *,
        count: int = 1,
        status: int | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        grant_type: str | None = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> Fault:
        """Queue a fault for the next ``count`` requests to ``endpoint`` (or ``*``)."""
        fault = Fault(
            endpoint=endpoint,
            kind=FaultKind(kind),
            count=count,
            status=status,
            retry_after=retry_after,
            delay=delay,
            grant_type=grant_type,
            error=error,
            error_description=error_description,
        )
        self._faults.add(fault)
        return fault

    def clear_faults(self) -> int:
        """Drop all queued faults; returns how many."""
        return self._faults.clear()

    def stats(self) -> dict[str, Any]:
        """The counters, as ``GET /_admin/stats`` returns them."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters and clear the event log."""
        self._stats.reset()

    def events(self) -> list[dict[str, Any]]:
        """The event log (no token values)."""
        return self._stats.events()

    def revoke_all(self) -> int:
        """Revoke every grant, as a server-side revocation would; returns how many."""
        return self._state.revoke_all()

    def expire_access_tokens(self) -> int:
        """Expire every current access token early; returns how many."""
        return self._state.expire_access_tokens()

    # -- internals -----------------------------------------------------------

    def _make_app(self, issuer: str) -> DevApp:
        return DevApp(
            config=self.config,
            state=self._state,
            stats=self._stats,
            faults=self._faults,
            issuer=issuer,
        )

    def _running_httpd(self) -> DevHTTPServer:
        if self._httpd is None:
            raise RuntimeError("the dev server is not running; call start() first")
        return self._httpd
