"""A thin OAuth client for the dev server tests: raw HTTP, returns raw responses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from tokenwarden.devserver import DevServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ID = "tokenwarden-tests"


@dataclass
class OAuthClient:
    """One client_id speaking plain HTTP to the dev server; returns raw responses."""

    http: httpx2.Client
    server: DevServer
    client_id: str = CLIENT_ID

    def discover(self, path: str = "/.well-known/openid-configuration") -> httpx2.Response:
        return self.http.get(path)

    def start_device(self, **extra: str) -> httpx2.Response:
        return self.http.post("/device_authorization", data={"client_id": self.client_id, **extra})

    def poll(self, device_code: str, **extra: str) -> httpx2.Response:
        data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": self.client_id}
        return self.http.post("/token", data={**data, **extra})

    def login(self) -> dict[str, Any]:
        """Device flow end to end, approving through the admin API; returns the token body."""
        device = self.start_device(scope="openid offline_access").json()
        self.server.approve(device["user_code"])
        response = self.poll(device["device_code"])
        assert response.status_code == 200, response.text
        return response.json()

    def refresh(self, refresh_token: str, **extra: str) -> httpx2.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.http.post("/token", data={**data, "client_id": self.client_id, **extra})

    def revoke(self, token: str, hint: str | None = None) -> httpx2.Response:
        data = {"token": token, "client_id": self.client_id}
        if hint:
            data["token_type_hint"] = hint
        return self.http.post("/revoke", data=data)

    def userinfo(self, access_token: str) -> httpx2.Response:
        return self.http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


class SteppedClock:
    """A wall clock the test moves by hand, shared with the server: no sleeping on TTLs."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
