"""The authorization servers ``scale_bench.py`` runs against, and what each lets it count.

- ``dev``: tokenwarden's dev server in the bench's process, reuse detection on; its
  clock moves with the simulated suspend, so the wake is measured against it.
- ``oidc-provider``: node ``oidc-provider`` (``tests/interop/node/server.mjs``, installed
  by ``npm ci`` there; rotating refresh tokens, reuse ends the grant). Counts come from
  the script's own event file: token requests, successful refreshes, refresh tokens
  presented again. Its clock is node's own and cannot be moved, so there is no wake.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tokenwarden.devserver import DevServer, DevServerConfig

SERVERS = ("dev", "oidc-provider")


@dataclass(frozen=True)
class Counts:
    """What the server saw since the sign-in."""

    refresh_ok: int = 0
    refresh_requests: int = 0
    reuse: int = 0
    invalid_grant: int = 0


class OffsetClock:
    """The dev server's wall clock: real time plus an offset the bench moves at a 'suspend'."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


class DevAuthServer:
    """The dev server, in this process."""

    name = "dev"
    client_id = "scale-bench"
    scopes = ("openid", "offline_access")
    clock_can_move = True

    def __init__(self, ttl: float) -> None:
        self.clock = OffsetClock()
        self.server = DevServer(DevServerConfig(access_token_ttl=ttl, interval=0),
                                clock=self.clock).start()
        self.issuer = self.server.issuer
        self.userinfo_url = self.server.url("/userinfo")

    async def approve(self, user_code: str) -> None:
        self.server.approve(user_code)

    def reset(self) -> None:
        self.server.reset_stats()

    def counts(self) -> Counts:
        stats = self.server.stats()
        return Counts(stats["refresh_ok"], stats["token_requests"].get("refresh_token", 0),
                      stats["reuse_detected"], stats["invalid_grant"])

    def move_clock(self, seconds: float) -> None:
        self.clock.offset = seconds

    def now(self) -> datetime:
        return self.clock.now()

    def refresh_times(self) -> list[datetime]:
        """When the server granted each refresh, by its own clock."""
        return [_moment(e["time"]) for e in self.server.events()
                if e["endpoint"] == "token" and e["grant_type"] == "refresh_token"
                and e["outcome"] == "ok"]

    def token_events(self) -> list[dict[str, Any]]:
        return [e for e in self.server.events() if e["endpoint"] == "token"]

    def stop(self) -> None:
        self.server.stop()


class OidcProviderAuthServer:
    """node oidc-provider through the interop tests' harness; counts from its event file."""

    name = "oidc-provider"
    clock_can_move = False

    def __init__(self, ttl: float, folder: Path) -> None:
        from tests.interop import oidc_provider
        from tests.interop.servers import SCOPES

        if ttl != int(ttl):
            raise SystemExit("--server oidc-provider takes a whole number of seconds for --ttl")
        self.server = oidc_provider.start(folder, access_token_ttl=int(ttl))
        self.client_id = oidc_provider.PUBLIC_CLIENT
        self.scopes = SCOPES
        self.issuer = self.server.issuer
        self.userinfo_url = self.server.metadata["userinfo_endpoint"]
        self._offset = 0
        self._totals = {"refresh_ok": 0, "refresh_requests": 0, "reuse": 0, "invalid_grant": 0}
        self._base = Counts()
        self._times: list[datetime] = []

    async def approve(self, user_code: str) -> None:
        await asyncio.to_thread(self.server.approve, user_code)

    def reset(self) -> None:
        self._base = self.counts()
        self._times.clear()

    def counts(self) -> Counts:
        self._read_new_events()
        base = self._base
        totals = self._totals
        return Counts(totals["refresh_ok"] - base.refresh_ok,
                      totals["refresh_requests"] - base.refresh_requests,
                      totals["reuse"] - base.reuse, totals["invalid_grant"] - base.invalid_grant)

    def _read_new_events(self) -> None:
        """Parse only what was appended since the last look (the file grows by ~40 lines/s)."""
        with self.server.events_file.open("rb") as file:
            file.seek(self._offset)
            data = file.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        totals = self._totals
        for line in complete.splitlines():
            event = json.loads(line)
            kind, grant = event["event"], event.get("grant_type")
            if kind == "request" and event.get("path") == "/token" and grant == "refresh_token":
                totals["refresh_requests"] += 1
            elif kind == "grant.success" and grant == "refresh_token":
                totals["refresh_ok"] += 1
                self._times.append(datetime.fromtimestamp(event["at"], UTC))
            elif kind == "grant.error" and grant == "refresh_token":
                totals["reuse"] += bool(event.get("reuse"))
                totals["invalid_grant"] += event.get("error") == "invalid_grant"

    def move_clock(self, seconds: float) -> None:
        raise NotImplementedError("oidc-provider's clock is node's own")

    def now(self) -> datetime:
        return datetime.now(UTC)

    def refresh_times(self) -> list[datetime]:
        self._read_new_events()
        return list(self._times)

    def token_events(self) -> list[dict[str, Any]]:
        return [e for e in self.server.events() if e["event"].startswith("grant.")]

    def stop(self) -> None:
        self.server.stop()


AuthServer = DevAuthServer | OidcProviderAuthServer


def start_server(name: str, ttl: float, folder: Path) -> AuthServer:
    """Start the named server for one run of the bench."""
    if name == "oidc-provider":
        return OidcProviderAuthServer(ttl, folder)
    return DevAuthServer(ttl)


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
