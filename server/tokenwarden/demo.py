"""``tokenwarden demo``: the whole lifecycle against the bundled dev server, in a minute.

Starts the development authorization server with short token lifetimes, signs in
with a device code (approved automatically unless ``--interactive``), then shows live
status while the session renews itself silently, checking every new token against
the server's userinfo endpoint. Everything lives in a temporary folder: the user's
real configuration and tokens are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
import webbrowser
from pathlib import Path

from tokenwarden.config import Config, parse_profile
from tokenwarden.errors import TokenwardenError
from tokenwarden.events import AuthEventLog
from tokenwarden.session import ExpiryWarning, SessionManager
from tokenwarden.status import SessionState, Status, Wording
from tokenwarden.store import TokenStore

PROFILE = "demo"


class DemoView:
    """Prints status changes as a timeline."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.renewals = 0
        self.last_expiry: str | None = None
        self.renewed = asyncio.Event()

    def line(self, text: str) -> None:
        """Print one timeline line."""
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def on_event(self, event: Status | ExpiryWarning) -> None:
        """Render an event from the session manager."""
        if isinstance(event, ExpiryWarning):
            self.line(f"warning: session ends at {event.ends_at:%H:%M:%S}")
            return
        wire = event.to_wire()
        self.line(f"{wire['state']:<10} {wire['message']}")
        if event.state is SessionState.SIGNED_IN and wire["expiresAt"] != self.last_expiry:
            if self.last_expiry is not None:
                self.renewals += 1
                self.renewed.set()
            self.last_expiry = wire["expiresAt"]


class DemoWording(Wording):
    """The demo's profile lives in a temporary folder: no command to suggest."""

    def signed_out(self, profile: str) -> str:
        """Nothing after "Signed out"."""
        return ""

    def expired(self, profile: str) -> str:
        """Nothing after "Session expired (reason)"."""
        return ""

    def extend(self, profile: str) -> str:
        """Nothing after "session ends in N"."""
        return ""


def run_demo(*, interactive: bool, renewals: int, lifetime: float) -> int:
    """Run the demo; 0 when every step worked."""
    try:
        return asyncio.run(_demo(interactive=interactive, renewals=renewals, lifetime=lifetime))
    except KeyboardInterrupt:
        print("demo interrupted", file=sys.stderr)
        return 130


async def _demo(*, interactive: bool, renewals: int, lifetime: float) -> int:
    from tokenwarden.devserver import DevServer, DevServerConfig

    devconfig = DevServerConfig(
        access_token_ttl=lifetime, interval=1.0 if interactive else 0.2,
        auto_approve=not interactive,
    )
    with tempfile.TemporaryDirectory(prefix="tokenwarden-demo-") as home, \
            DevServer(devconfig) as server:
        print(f"Development authorization server: {server.issuer} "
              f"(access tokens live {lifetime:g} s, refresh tokens rotate)")
        manager = _manager(Path(home), server.issuer)
        view = DemoView()
        manager.subscribe(view.on_event)
        try:
            return await _walk_through(manager, view, server, interactive, renewals, lifetime)
        except TokenwardenError as exc:
            print(f"demo failed: {exc.message}", file=sys.stderr)
            return 1
        finally:
            await manager.close()


def _manager(home: Path, issuer: str) -> SessionManager:
    profile = parse_profile(PROFILE, {
        "issuer": issuer, "client_id": "tokenwarden-demo",
        "scopes": ["openid", "profile", "offline_access"],
    }, file="demo")
    config = Config(profiles={PROFILE: profile}, default_profile=PROFILE, source="demo")
    return SessionManager(config, TokenStore(home / "store"), background=True,
                          warn_before_seconds=0, events=AuthEventLog(home / "log"),
                          wording=DemoWording())


async def _walk_through(
    manager: SessionManager, view: DemoView, server: object, interactive: bool,
    renewals: int, lifetime: float,
) -> int:
    from tokenwarden.cli.waiting import WaitingLine, instructions, wait_showing_progress
    from tokenwarden.oauth import DeviceAuthorization

    started = await manager.start_login(PROFILE)
    assert isinstance(started, DeviceAuthorization)
    if interactive:
        for line in instructions(started):
            print(line, flush=True)
        with contextlib.suppress(Exception):
            webbrowser.open(started.verification_uri_complete or started.verification_uri)
        waiter = asyncio.ensure_future(manager.wait_login(PROFILE))
        status = await wait_showing_progress(waiter, WaitingLine(started.expires_in))
    else:
        print(f"Sign in: open {started.verification_uri} and enter {started.user_code}")
        print("(approving automatically; use --interactive to approve it yourself)")
        status = await manager.wait_login(PROFILE)
    if status.state is not SessionState.SIGNED_IN:
        print(f"sign-in did not complete: {status.message}", file=sys.stderr)
        return 1
    manager.watch(PROFILE)
    await _check_token(manager, view)
    deadline = time.monotonic() + lifetime * (renewals + 2) + 30
    while view.renewals < renewals:
        view.renewed.clear()
        try:
            await asyncio.wait_for(view.renewed.wait(), timeout=deadline - time.monotonic())
        except TimeoutError:
            print(f"only {view.renewals} renewals happened in time", file=sys.stderr)
            return 1
        await _check_token(manager, view)
    stats = server.stats() if hasattr(server, "stats") else {}
    await manager.logout(PROFILE)
    print(f"\nDone: {view.renewals} silent renewals, no sign-in prompt. Server counters: "
          f"{_summary(stats)}")
    return 0


async def _check_token(manager: SessionManager, view: DemoView) -> None:
    """Use the current token against the server's API, as a tool would."""
    issued = await manager.get_token(PROFILE, min_validity=0.5)
    import httpx2

    endpoints = await manager.endpoints(PROFILE)
    assert endpoints.userinfo_endpoint is not None
    async with httpx2.AsyncClient(trust_env=False) as http:
        answer = await http.get(endpoints.userinfo_endpoint,
                                headers={"Authorization": f"Bearer {issued.access_token}"})
    verdict = "accepted" if answer.status_code == 200 else f"REJECTED ({answer.status_code})"
    view.line(f"API call with the current token: {verdict}")


def _summary(stats: object) -> str:
    if not isinstance(stats, dict):
        return "n/a"
    keys = ("token_requests", "refresh_ok", "invalid_grant", "reuse_detected")
    return ", ".join(f"{k}={stats[k]}" for k in keys if k in stats)
